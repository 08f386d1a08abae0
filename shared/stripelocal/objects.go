package stripelocal

import "time"

// The stand-in's own records. They hold what the stand-in models; render.go
// turns them into Stripe's JSON, the only shape anything outside sees.

type customer struct {
	id, email, name, description, phone string
	created                             int64
	metadata                            map[string]string
	currency                            string
	deleted                             bool
	// paymentFails makes every off-session payment of the customer fail,
	// as if their saved card had started to decline.
	paymentFails   bool
	invoicePrefix  string
	nextInvoiceSeq int64
}

type product struct {
	id, name, description string
	// defaultPrice is the price checkout and the dashboard offer first;
	// empty when none is set.
	defaultPrice     string
	created, updated int64
	active           bool
	metadata         map[string]string
}

type price struct {
	id, product, currency, nickname, lookupKey string
	created                                    int64
	active                                     bool
	unitAmount                                 int64
	// interval is empty for one-time prices.
	interval      string
	intervalCount int64
	metadata      map[string]string
}

func (p *price) recurring() bool { return p.interval != "" }

type lineItem struct {
	id, price string
	quantity  int64
}

type session struct {
	id, mode, status, paymentStatus      string
	created, expiresAt                   int64
	customer, customerEmail              string
	customerCreation, clientReferenceID  string
	metadata, subMetadata                map[string]string
	subDescription                       string
	trialDays                            int64
	successURL, cancelURL, url, locale   string
	items                                []lineItem
	currency                             string
	amount                               int64
	paymentIntent, subscription, invoice string
	detailsEmail, detailsName            string
	asyncPending                         bool
}

type subItem struct {
	id, price string
	quantity  int64
	created   int64
}

type subscription struct {
	id, customer, status, currency, description string
	created, startDate                          int64
	items                                       []subItem
	interval                                    string
	intervalCount                               int64
	// The billing period is anchor + k intervals; the current period ends
	// at k = nextK.
	anchor                 time.Time
	nextK                  int
	periodStart, periodEnd time.Time
	cancelAtPeriodEnd      bool
	cancelAt, canceledAt   int64
	endedAt                int64
	cancelReason           string
	cancelComment          string
	cancelFeedback         string
	trialStart, trialEnd   int64
	trialWillEndSent       bool
	latestInvoice          string
	metadata               map[string]string
	pauseBehavior          string
	pauseResumesAt         int64
	awaitingAsync          bool
}

type invoiceLine struct {
	id, price, subItem     string
	quantity, amount       int64
	periodStart, periodEnd int64
}

type invoice struct {
	id, customer, subscription, status     string
	billingReason, currency, number        string
	created                                int64
	lines                                  []invoiceLine
	amountPaid                             int64
	attemptCount                           int64
	attempted, autoAdvance, paidOutOfBand  bool
	nextPaymentAttempt                     int64
	periodStart, periodEnd                 int64
	finalizedAt, paidAt                    int64
	voidedAt, uncollectibleAt              int64
	paymentIntent, charge                  string
	customerEmail, customerName, hostedURL string
	subMetadata                            map[string]string
}

func (in *invoice) total() int64 {
	var t int64
	for _, l := range in.lines {
		t += l.amount
	}
	return t
}

type portalSession struct {
	id, customer, returnURL, url string
	configuration, locale        string
	created                      int64
}
