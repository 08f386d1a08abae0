package stripelocal

import (
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/stripe/stripe-go/v76"
)

// API versions the stand-in renders.
const (
	// APIVersion is the account's default version and stripe-go v76's.
	APIVersion = "2023-10-16"
	// BasilVersion is the first version with the 2025 billing shapes:
	// subscription periods on items, invoice.parent, no invoice.paid.
	BasilVersion = "2025-03-31.basil"
)

// Options configure a stand-in.
type Options struct {
	// Seed makes ids and every random choice reproducible.
	Seed int64
	// Start is the clock's start; default 2026-01-01T00:00:00Z.
	Start time.Time
	// Livemode marks every object and event live, and makes the API accept
	// sk_live_ keys instead of sk_test_ ones.
	Livemode bool
	// BaseURL is where the stand-in is reachable, for the url fields of
	// Checkout sessions, portal sessions and invoices. Default: learned from
	// the first API request's Host, else http://localhost:12112.
	BaseURL string
	// RetrySchedule is when a failed subscription payment is tried again,
	// each entry counted from the previous attempt (Stripe's custom retry
	// schedule). Default 3, 5 and 7 days.
	RetrySchedule []time.Duration
	// AfterRetries is what becomes of a subscription once the last retry
	// fails: canceled (default, Stripe's default), unpaid, or past_due.
	AfterRetries stripe.SubscriptionStatus
	// MarkUncollectible marks an invoice uncollectible once its last retry
	// fails (invoice.marked_uncollectible); otherwise it stays open.
	MarkUncollectible bool
}

// Outcome is how a customer finishes a Checkout session.
type Outcome string

// Checkout outcomes.
const (
	// OutcomePaid: a card payment that succeeds at once.
	OutcomePaid Outcome = "paid"
	// OutcomeAsyncPending: a delayed payment method (bank debit); the
	// session completes unpaid and the payment settles later.
	OutcomeAsyncPending Outcome = "async_pending"
	// OutcomeAsyncSucceeded: the delayed payment settles. On an open
	// session it first completes it unpaid.
	OutcomeAsyncSucceeded Outcome = "async_succeeded"
	// OutcomeAsyncFailed: the delayed payment fails.
	OutcomeAsyncFailed Outcome = "async_failed"
	// OutcomeDeclined: the card is declined; the session stays open and
	// the call returns a card_error, as Checkout shows one to the buyer.
	OutcomeDeclined Outcome = "declined"
)

// Stripe is the stand-in. All its methods are safe for concurrent use.
type Stripe struct {
	mu   sync.Mutex
	opts Options
	rng  *rand.Rand
	now  time.Time
	ids  map[string]bool
	base string

	customers table[customer]
	products  table[product]
	prices    table[price]
	sessions  table[session]
	subs      table[subscription]
	invoices  table[invoice]
	portals   table[portalSession]

	events    []Event
	eventByID map[string]int
	endpoints []Endpoint
	queue     []queuedDelivery
	notify    chan struct{}

	idem map[string]*idemEntry
	// fail holds injected API failures, consumed one per request.
	fail []int
	// req is the API request being served, for events' request field.
	req *eventRequest

	api     http.Handler
	control http.Handler
}

// New returns a stand-in with an empty account.
func New(opts Options) *Stripe {
	if opts.Start.IsZero() {
		opts.Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if opts.RetrySchedule == nil {
		opts.RetrySchedule = []time.Duration{3 * day, 5 * day, 7 * day}
	}
	if opts.AfterRetries == "" {
		opts.AfterRetries = stripe.SubscriptionStatusCanceled
	}
	s := &Stripe{
		opts:      opts,
		rng:       rand.New(rand.NewPCG(uint64(opts.Seed), 0x5eed)),
		now:       opts.Start.UTC().Truncate(time.Second),
		ids:       map[string]bool{},
		base:      opts.BaseURL,
		eventByID: map[string]int{},
		notify:    make(chan struct{}, 1),
		idem:      map[string]*idemEntry{},
	}
	s.api = s.apiRoutes()
	s.control = s.controlRoutes()
	return s
}

const day = 24 * time.Hour

// Now returns the stand-in's clock.
func (s *Stripe) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

func (s *Stripe) unix() int64 { return s.now.Unix() }

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID returns an id like Stripe's, with an L after the prefix so that a
// local id is never mistaken for a real one.
func (s *Stripe) newID(prefix string) string {
	n := 13
	if prefix == "cs" || prefix == "bps" {
		n = 40
	}
	for {
		b := make([]byte, n)
		for i := range b {
			b[i] = idAlphabet[s.rng.IntN(len(idAlphabet))]
		}
		p := prefix + "_"
		if prefix == "cs" {
			p += modeTag(s.opts.Livemode)
		}
		id := p + "L" + string(b)
		if !s.ids[id] {
			s.ids[id] = true
			return id
		}
	}
}

func modeTag(live bool) string {
	if live {
		return "live_"
	}
	return "test_"
}

func (s *Stripe) baseURL() string {
	if s.base != "" {
		return s.base
	}
	return "http://localhost:12112"
}

// table keeps objects by id and in creation order.
type table[T any] struct {
	byID  map[string]*T
	order []string
}

func (t *table[T]) add(id string, v *T) {
	if t.byID == nil {
		t.byID = map[string]*T{}
	}
	t.byID[id] = v
	t.order = append(t.order, id)
}

func (t *table[T]) get(id string) *T { return t.byID[id] }

func (t *table[T]) all() []*T {
	out := make([]*T, 0, len(t.order))
	for _, id := range t.order {
		out = append(out, t.byID[id])
	}
	return out
}

// ServeHTTP implements http.Handler: the Stripe REST API under /v1/ and the
// control endpoints under /_local/.
func (s *Stripe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_local/") {
		s.control.ServeHTTP(w, r)
		return
	}
	s.api.ServeHTTP(w, r)
}
