package billing

import "time"

// Collection names, as the Firestore security rules and the frontend see them.
const (
	CustomersCollection       = "customers"
	StripeCustomersCollection = "stripe_customers"
	SubscriptionsCollection   = "subscriptions"
	InvoicesCollection        = "invoices"
	PurchasesCollection       = "purchases"
	PaymentsCollection        = "payments"
	EventsCollection          = "stripe_events"
)

// Version says which view of a Stripe object a document holds, so that an
// older view never overwrites a newer one. AsOf is when the view was true:
// the event's creation time when the payload is the source. Stage orders
// views of the same instant: Stripe stamps events in whole seconds and
// often sends several for one object within a second (a subscription's
// created and updated, an invoice's finalized and paid), so the one
// further along its lifecycle wins a tie whatever order they arrive in.
type Version struct {
	AsOf        time.Time `firestore:"asOf" json:"asOf"`
	Stage       int       `firestore:"stage" json:"stage"`
	LastEventID string    `firestore:"lastEventId" json:"lastEventId"`
	SyncedAt    time.Time `firestore:"syncedAt" json:"syncedAt"`
}

// NewerThan reports whether the stored view is newer than a view taken at
// asOf at the given stage, which then must not replace it. Views of the
// same instant and stage are applied, so that a redelivered event still
// repairs a document changed by hand.
func (v Version) NewerThan(asOf time.Time, stage int) bool {
	if !v.AsOf.Equal(asOf) {
		return v.AsOf.After(asOf)
	}
	return v.Stage > stage
}

// SubscriptionStage ranks a subscription view within its lifecycle:
// incomplete, then live (trialing, active, past_due, unpaid, paused), then
// ended; within each, the view a customer.subscription.created event
// carries comes before any other event's.
func SubscriptionStage(status, eventType string) int {
	stage := 2
	switch status {
	case "incomplete":
		stage = 0
	case "canceled", "incomplete_expired":
		stage = 4
	}
	if eventType != "customer.subscription.created" {
		stage++
	}
	return stage
}

// InvoiceStage ranks an invoice view: draft, open, then settled (paid,
// void, uncollectible).
func InvoiceStage(status string) int {
	switch status {
	case "draft":
		return 0
	case "open":
		return 1
	default:
		return 2
	}
}

// PurchaseStage ranks a checkout session view: open, then complete or
// expired, then complete and paid.
func PurchaseStage(p Purchase) int {
	switch {
	case p.Paid():
		return 2
	case p.Status == "open":
		return 0
	default:
		return 1
	}
}

// Subscription is subscriptions/{id}: a Stripe subscription and who owns it.
type Subscription struct {
	ID                 string             `firestore:"id" json:"id"`
	UID                string             `firestore:"uid" json:"uid"`
	Customer           string             `firestore:"customer" json:"customer"`
	Status             string             `firestore:"status" json:"status"`
	Items              []SubscriptionItem `firestore:"items" json:"items"`
	CancelAtPeriodEnd  bool               `firestore:"cancelAtPeriodEnd" json:"cancelAtPeriodEnd"`
	CancelAt           *time.Time         `firestore:"cancelAt" json:"cancelAt"`
	CanceledAt         *time.Time         `firestore:"canceledAt" json:"canceledAt"`
	CurrentPeriodStart *time.Time         `firestore:"currentPeriodStart" json:"currentPeriodStart"`
	CurrentPeriodEnd   *time.Time         `firestore:"currentPeriodEnd" json:"currentPeriodEnd"`
	TrialStart         *time.Time         `firestore:"trialStart" json:"trialStart"`
	TrialEnd           *time.Time         `firestore:"trialEnd" json:"trialEnd"`
	EndedAt            *time.Time         `firestore:"endedAt" json:"endedAt"`
	LatestInvoice      string             `firestore:"latestInvoice" json:"latestInvoice"`
	Metadata           map[string]string  `firestore:"metadata" json:"metadata"`
	Livemode           bool               `firestore:"livemode" json:"livemode"`
	Version
}

// SubscriptionItem is one price a subscription bills.
type SubscriptionItem struct {
	Price    string `firestore:"price" json:"price"`
	Product  string `firestore:"product" json:"product"`
	CourseID string `firestore:"courseId" json:"courseId"`
	Quantity int64  `firestore:"quantity" json:"quantity"`
}

// Invoice is invoices/{id}: what was billed and where collection stands.
type Invoice struct {
	ID                 string     `firestore:"id" json:"id"`
	UID                string     `firestore:"uid" json:"uid"`
	Customer           string     `firestore:"customer" json:"customer"`
	Subscription       string     `firestore:"subscription" json:"subscription"`
	Status             string     `firestore:"status" json:"status"`
	Paid               bool       `firestore:"paid" json:"paid"`
	AmountDue          int64      `firestore:"amountDue" json:"amountDue"`
	AmountPaid         int64      `firestore:"amountPaid" json:"amountPaid"`
	AmountRemaining    int64      `firestore:"amountRemaining" json:"amountRemaining"`
	Total              int64      `firestore:"total" json:"total"`
	Currency           string     `firestore:"currency" json:"currency"`
	HostedInvoiceURL   string     `firestore:"hostedInvoiceUrl" json:"hostedInvoiceUrl"`
	AttemptCount       int64      `firestore:"attemptCount" json:"attemptCount"`
	NextPaymentAttempt *time.Time `firestore:"nextPaymentAttempt" json:"nextPaymentAttempt"`
	BillingReason      string     `firestore:"billingReason" json:"billingReason"`
	PeriodStart        *time.Time `firestore:"periodStart" json:"periodStart"`
	PeriodEnd          *time.Time `firestore:"periodEnd" json:"periodEnd"`
	Livemode           bool       `firestore:"livemode" json:"livemode"`
	Version
}

// Purchase is purchases/{checkout session id}: a one-time course purchase.
type Purchase struct {
	ID             string `firestore:"id" json:"id"`
	UID            string `firestore:"uid" json:"uid"`
	Customer       string `firestore:"customer" json:"customer"`
	CourseID       string `firestore:"courseId" json:"courseId"`
	Status         string `firestore:"status" json:"status"`
	PaymentStatus  string `firestore:"paymentStatus" json:"paymentStatus"`
	AmountSubtotal int64  `firestore:"amountSubtotal" json:"amountSubtotal"`
	AmountTotal    int64  `firestore:"amountTotal" json:"amountTotal"`
	Currency       string `firestore:"currency" json:"currency"`
	PaymentIntent  string `firestore:"paymentIntent" json:"paymentIntent"`
	Livemode       bool   `firestore:"livemode" json:"livemode"`
	// Refunded and Disputed come from payments/{paymentIntent}: the money
	// went back to the buyer in full, or is held or lost in a dispute.
	Refunded bool `firestore:"refunded" json:"refunded"`
	Disputed bool `firestore:"disputed" json:"disputed"`
	Version
}

// Grants reports whether the purchase gives access to its course: paid,
// and the money neither refunded in full nor taken back by a dispute.
func (p Purchase) Grants() bool {
	return p.Paid() && !p.Refunded && !p.Disputed
}

// Payment is payments/{payment intent}: what happened to a purchase's
// money after it was paid. Refunds only grow and a dispute only moves
// forward, so each part keeps the furthest view seen, whatever order
// Stripe's events arrive in, and the purchase follows it.
type Payment struct {
	ID string `firestore:"id" json:"id"`
	// Purchase is the checkout session paid with this payment intent, once
	// its event has been applied; until then the refund or dispute waits
	// here for it.
	Purchase       string    `firestore:"purchase" json:"purchase"`
	Amount         int64     `firestore:"amount" json:"amount"`
	AmountRefunded int64     `firestore:"amountRefunded" json:"amountRefunded"`
	Refunded       bool      `firestore:"refunded" json:"refunded"`
	Dispute        string    `firestore:"dispute" json:"dispute"`
	DisputeStatus  string    `firestore:"disputeStatus" json:"disputeStatus"`
	DisputeAsOf    time.Time `firestore:"disputeAsOf" json:"disputeAsOf"`
	Livemode       bool      `firestore:"livemode" json:"livemode"`
	UpdatedAt      time.Time `firestore:"updatedAt" json:"updatedAt"`
	LastEventID    string    `firestore:"lastEventId" json:"lastEventId"`
}

// Disputed reports whether a dispute holds or has taken the payment's
// money: an inquiry (warning_*) does not, a won dispute gives it back.
func (p *Payment) Disputed() bool {
	switch p.DisputeStatus {
	case "needs_response", "under_review", "lost":
		return true
	}
	return false
}

// disputeStage ranks dispute statuses: open, then closed.
func disputeStage(status string) int {
	switch status {
	case "won", "lost", "warning_closed":
		return 1
	}
	return 0
}

// PaymentView is what a charge or dispute event says about a payment:
// the charge's refunds, or the dispute's status.
type PaymentView struct {
	PaymentIntent  string
	Charge         string
	Amount         int64
	AmountRefunded int64
	// Refunded is the charge's own verdict: refunded in full.
	Refunded bool
	// Dispute and DisputeStatus are set for dispute events.
	Dispute       string
	DisputeStatus string
}

// Paid reports whether the purchase grants its course.
func (p Purchase) Paid() bool {
	return p.Status == "complete" && (p.PaymentStatus == "paid" || p.PaymentStatus == "no_payment_required")
}

// StripeCustomer is stripe_customers/{cus}: the one mapping from a Stripe
// customer to a platform user. UID is empty while nobody has claimed it.
type StripeCustomer struct {
	UID      string `firestore:"uid" json:"uid"`
	Email    string `firestore:"email" json:"email"`
	Livemode bool   `firestore:"livemode" json:"livemode"`
	// Deleted is set once the customer is deleted in Stripe. The mapping
	// stays, so late events of the customer still find their owner.
	Deleted bool `firestore:"deleted" json:"deleted"`
	// CustomerAsOf is when the last customer object applied here was true,
	// so that an older view of the customer never replaces a newer one.
	CustomerAsOf time.Time `firestore:"customerAsOf" json:"customerAsOf"`
	// The customer's documents stored while nobody owned it, which its
	// first owner claims. Kept here so that a claim reads them by id:
	// transactions then lock only the documents they touch.
	UnclaimedSubscriptions []string  `firestore:"unclaimedSubscriptions" json:"unclaimedSubscriptions"`
	UnclaimedInvoices      []string  `firestore:"unclaimedInvoices" json:"unclaimedInvoices"`
	UnclaimedPurchases     []string  `firestore:"unclaimedPurchases" json:"unclaimedPurchases"`
	UpdatedAt              time.Time `firestore:"updatedAt" json:"updatedAt"`
}

// CustomerView is what the customer events carry that matters here.
type CustomerView struct {
	ID      string
	Email   string
	Deleted bool
	// UID is the platform user named in the customer's metadata.
	UID string
}

// Customer is customers/{uid}: a platform user's billing summary, the one
// document the frontend reads to decide access.
type Customer struct {
	StripeCustomerID string                 `firestore:"stripeCustomerId" json:"stripeCustomerId"`
	Email            string                 `firestore:"email" json:"email"`
	Entitlements     map[string]Entitlement `firestore:"entitlements" json:"entitlements"`
	// Subscriptions and Purchases are the ids of everything the user
	// owns, so that entitlements are derived from documents read by id,
	// without a query inside the transaction.
	Subscriptions []string `firestore:"subscriptions" json:"subscriptions"`
	Purchases     []string `firestore:"purchases" json:"purchases"`
	// CustomerCreateKey is reserved before checkout creates the user's
	// Stripe customer and used as the call's idempotency key, so that
	// concurrent first checkouts create one customer, not two.
	CustomerCreateKey string `firestore:"customerCreateKey,omitempty" json:"customerCreateKey,omitempty"`
	// OpenCheckouts is the latest Checkout Session made for each course,
	// so that a newer one expires it and one course is not paid twice.
	OpenCheckouts map[string]string `firestore:"openCheckouts,omitempty" json:"openCheckouts,omitempty"`
	// CustomerCreateReplaces is the deleted Stripe customer that the
	// reserved key's customer replaces, if any.
	CustomerCreateReplaces string    `firestore:"customerCreateReplaces,omitempty" json:"customerCreateReplaces,omitempty"`
	UpdatedAt              time.Time `firestore:"updatedAt" json:"updatedAt"`
}

// EventRecord is stripe_events/{id}: the marker that an event was handled,
// written in the same transaction as its effect.
type EventRecord struct {
	ID         string    `firestore:"-" json:"id"`
	Type       string    `firestore:"type" json:"type"`
	Created    time.Time `firestore:"created" json:"created"`
	APIVersion string    `firestore:"apiVersion" json:"apiVersion"`
	Livemode   bool      `firestore:"livemode" json:"livemode"`
	Outcome    Outcome   `firestore:"outcome" json:"outcome"`
	Detail     string    `firestore:"detail" json:"detail,omitempty"`
	Function   string    `firestore:"function" json:"function"`
	ReceivedAt time.Time `firestore:"receivedAt" json:"receivedAt"`
	ExpireAt   time.Time `firestore:"expireAt" json:"expireAt"`
}

// EventRetention is how long event markers are kept. Stripe retries for up
// to three days; a month leaves room for manual resends from the dashboard.
const EventRetention = 30 * 24 * time.Hour

// Outcome is what handling an event did.
type Outcome string

const (
	// Applied: the event's object was written.
	Applied Outcome = "applied"
	// Stale: a newer view of the object was already stored; only the
	// marker was written.
	Stale Outcome = "stale"
	// Unprocessable: the event is signed and owned but its payload can
	// never be applied (wrong object kind, undecodable). Recorded so
	// operators see it; Stripe is told 2xx so it stops retrying.
	Unprocessable Outcome = "unprocessable"
	// Duplicate: the event was handled before; nothing changed.
	Duplicate Outcome = "duplicate"
	// Ignored: not this deployment's event (type or mode); nothing written.
	Ignored Outcome = "ignored"
)
