package billing

import "time"

// CoursesCollection holds the catalog: courses/{courseId}.
const CoursesCollection = "courses"

// Checkout modes a course is sold in, as Stripe names them.
const (
	ModePayment      = "payment"
	ModeSubscription = "subscription"
)

// Course is courses/{courseId}: what the platform sells and the Stripe
// product and price that sell it. The checkout function reads the price
// from here, never from the client, so the catalog decides what is paid.
type Course struct {
	ID              string `firestore:"id" json:"id"`
	Title           string `firestore:"title" json:"title"`
	StripeProductID string `firestore:"stripeProductId" json:"stripeProductId"`
	StripePriceID   string `firestore:"stripePriceId" json:"stripePriceId"`
	// Mode is ModePayment for a one-time purchase, ModeSubscription for a
	// plan billed every Interval.
	Mode     string `firestore:"mode" json:"mode"`
	Interval string `firestore:"interval" json:"interval"`
	Amount   int64  `firestore:"amount" json:"amount"`
	Currency string `firestore:"currency" json:"currency"`
	// Active is the product's state in Stripe; PriceActive the price's. A
	// course is sold only while both are on (an archived price or product
	// stops sales until the catalog names an active one again).
	Active      bool `firestore:"active" json:"active"`
	PriceActive bool `firestore:"priceActive" json:"priceActive"`
	Livemode    bool `firestore:"livemode" json:"livemode"`
	// ProductAsOf and PriceAsOf are when the product and price views last
	// applied were true, so that an older view never replaces a newer one.
	ProductAsOf time.Time `firestore:"productAsOf" json:"productAsOf"`
	PriceAsOf   time.Time `firestore:"priceAsOf" json:"priceAsOf"`
	UpdatedAt   time.Time `firestore:"updatedAt" json:"updatedAt"`
}

// Sellable reports whether checkout may sell the course now.
func (c Course) Sellable() bool {
	return c.Active && c.PriceActive && c.StripePriceID != "" &&
		(c.Mode == ModePayment || c.Mode == ModeSubscription)
}
