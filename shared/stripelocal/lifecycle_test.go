package stripelocal

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
)

// harness is one account with one Checkout session for one customer.
type harness struct {
	t    *testing.T
	s    *Stripe
	sc   *client.API
	cus  string
	cs   string
	mark int // events before it are setup
}

type sessionSpec struct {
	mode      string // default subscription
	trialDays int64
	// guest: no customer, only an email (payment mode: no customer at all
	// unless customer_creation=always).
	guest bool
}

func newHarness(t *testing.T, opts Options, spec sessionSpec) *harness {
	t.Helper()
	return harnessOn(t, New(opts), spec)
}

// harnessOn sets the catalog, customer and session up in s.
func harnessOn(t *testing.T, s *Stripe, spec sessionSpec) *harness {
	t.Helper()
	h := &harness{t: t, s: s, sc: s.Client()}
	interval := "month"
	if spec.mode == "" {
		spec.mode = "subscription"
	}
	if spec.mode == "payment" {
		interval = ""
	}
	pr := catalog(t, h.sc, 2500, interval)
	p := &stripe.CheckoutSessionParams{
		Mode:       stripe.String(spec.mode),
		SuccessURL: stripe.String("https://courses.example/done"),
		LineItems:  []*stripe.CheckoutSessionLineItemParams{{Price: stripe.String(pr.ID), Quantity: stripe.Int64(1)}},
	}
	if spec.guest {
		p.CustomerEmail = stripe.String("guest@example.com")
	} else {
		cus, err := h.sc.Customers.New(&stripe.CustomerParams{Email: stripe.String("learner@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		h.cus = cus.ID
		p.Customer = stripe.String(cus.ID)
	}
	if spec.mode == "subscription" {
		p.SubscriptionData = &stripe.CheckoutSessionSubscriptionDataParams{Metadata: map[string]string{"uid": "u1"}}
		if spec.trialDays > 0 {
			p.SubscriptionData.TrialPeriodDays = stripe.Int64(spec.trialDays)
		}
	}
	cs, err := h.sc.CheckoutSessions.New(p)
	if err != nil {
		t.Fatal(err)
	}
	h.cs = cs.ID
	return h
}

func (h *harness) session() *stripe.CheckoutSession {
	for _, cs := range h.s.CheckoutSessions() {
		if cs.ID == h.cs {
			return cs
		}
	}
	h.t.Fatalf("no session %s", h.cs)
	return nil
}

func (h *harness) sub() *stripe.Subscription {
	id := h.session().Subscription
	for _, sub := range h.s.Subscriptions() {
		if id != nil && sub.ID == id.ID {
			return sub
		}
	}
	return nil
}

func (h *harness) latestInvoice() string {
	sub := h.sub()
	if sub == nil || sub.LatestInvoice == nil {
		h.t.Fatal("no subscription or latest invoice")
	}
	return sub.LatestInvoice.ID
}

// step is one action in a history; a non-nil error fails the test unless
// the case expects it.
type step struct {
	name string
	do   func(h *harness) error
}

func complete(o Outcome) step {
	return step{"complete " + string(o), func(h *harness) error { _, err := h.s.CompleteCheckout(h.cs, o); return err }}
}

func advance(d time.Duration) step {
	return step{"advance " + d.String(), func(h *harness) error { h.s.Advance(d); return nil }}
}

func paymentFails(f bool) step {
	return step{"payment fails", func(h *harness) error { return h.s.SetPaymentFails(h.customer(), f) }}
}

func (h *harness) customer() string {
	if h.cus != "" {
		return h.cus
	}
	return h.session().Customer.ID
}

func subStep(name string, f func(s *Stripe, id string) (*stripe.Subscription, error)) step {
	return step{name, func(h *harness) error { _, err := f(h.s, h.sub().ID); return err }}
}

var (
	cancelAtPeriodEnd = subStep("cancel at period end", (*Stripe).CancelAtPeriodEnd)
	cancelNow         = subStep("cancel now", (*Stripe).CancelNow)
	pause             = subStep("pause", (*Stripe).Pause)
	resume            = subStep("resume", (*Stripe).Resume)
	recoverLatest     = step{"recover", func(h *harness) error { _, err := h.s.Recover(h.latestInvoice()); return err }}
	deleteCustomer    = step{"delete customer", func(h *harness) error { return h.s.DeleteCustomer(h.customer()) }}
	expireSession     = step{"expire", func(h *harness) error { _, err := h.s.ExpireCheckout(h.cs); return err }}
	mark              = step{"mark", func(h *harness) error { h.mark = len(h.s.Events()); return nil }}
)

const month = 31 * day

var (
	paidCheckout = []string{"customer.subscription.created", "invoice.created", "invoice.finalized", "invoice.paid",
		"invoice.payment_succeeded", "customer.subscription.updated", "checkout.session.completed"}
	renewal       = []string{"customer.subscription.updated", "invoice.created", "invoice.finalized"}
	paid          = []string{"invoice.paid", "invoice.payment_succeeded"}
	failedRenewal = append(append([]string{}, renewal...), "invoice.payment_failed", "customer.subscription.updated")
)

func seq(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestLifecycle(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		spec  sessionSpec
		steps []step
		// wantErr is the Stripe error code (or type) one step must fail
		// with.
		wantErr string
		// wantEvents are the types emitted after the mark step (or all,
		// without one), in order.
		wantEvents []string
		wantSub    stripe.SubscriptionStatus // "" when there is none
		// wantInvoices are the statuses of the subscription's invoices,
		// oldest first.
		wantInvoices  []stripe.InvoiceStatus
		wantSession   stripe.CheckoutSessionStatus
		wantPaymentSt stripe.CheckoutSessionPaymentStatus
	}{
		{
			name:  "checkout paid: subscription, first invoice paid, session completed last",
			steps: []step{mark, complete(OutcomePaid)}, wantEvents: paidCheckout,
			wantSub: "active", wantInvoices: []stripe.InvoiceStatus{"paid"}, wantSession: "complete", wantPaymentSt: "paid",
		},
		{
			name: "checkout by a guest creates the customer first",
			spec: sessionSpec{guest: true}, steps: []step{mark, complete(OutcomePaid)},
			wantEvents: seq([]string{"customer.created"}, paidCheckout),
			wantSub:    "active", wantInvoices: []stripe.InvoiceStatus{"paid"}, wantSession: "complete", wantPaymentSt: "paid",
		},
		{
			name:  "declined card: card_error, nothing happens, session stays open",
			steps: []step{mark, complete(OutcomeDeclined)}, wantErr: "card_declined",
			wantSession: "open", wantPaymentSt: "unpaid",
		},
		{
			name:  "renewal paid",
			steps: []step{complete(OutcomePaid), mark, advance(month)}, wantEvents: seq(renewal, paid),
			wantSub: "active", wantInvoices: []stripe.InvoiceStatus{"paid", "paid"},
		},
		{
			name:  "three renewals paid over three months",
			steps: []step{complete(OutcomePaid), mark, advance(3*month - day)}, wantEvents: seq(renewal, paid, renewal, paid, renewal, paid),
			wantSub: "active", wantInvoices: []stripe.InvoiceStatus{"paid", "paid", "paid", "paid"},
		},
		{
			name:  "renewal fails: past_due, retries at +3/+5/+7 days, then canceled",
			steps: []step{complete(OutcomePaid), paymentFails(true), mark, advance(month + 20*day)},
			wantEvents: seq(failedRenewal, []string{"invoice.payment_failed", "invoice.payment_failed", "invoice.payment_failed",
				"customer.subscription.deleted", "invoice.updated"}),
			wantSub: "canceled", wantInvoices: []stripe.InvoiceStatus{"paid", "open"},
		},
		{
			name:  "renewal fails with unpaid after retries and invoices marked uncollectible",
			opts:  Options{AfterRetries: "unpaid", MarkUncollectible: true},
			steps: []step{complete(OutcomePaid), paymentFails(true), mark, advance(month + 20*day)},
			wantEvents: seq(failedRenewal, []string{"invoice.payment_failed", "invoice.payment_failed", "invoice.payment_failed",
				"invoice.marked_uncollectible", "customer.subscription.updated"}),
			wantSub: "unpaid", wantInvoices: []stripe.InvoiceStatus{"paid", "uncollectible"},
		},
		{
			name:       "a retry succeeds once the card works again",
			steps:      []step{complete(OutcomePaid), paymentFails(true), advance(month), paymentFails(false), mark, advance(4 * day)},
			wantEvents: seq(paid, []string{"customer.subscription.updated"}),
			wantSub:    "active", wantInvoices: []stripe.InvoiceStatus{"paid", "paid"},
		},
		{
			name:       "recover a failed invoice: paid, active again, next renewal charges fine",
			steps:      []step{complete(OutcomePaid), paymentFails(true), advance(month), mark, recoverLatest, advance(month)},
			wantEvents: seq(paid, []string{"customer.subscription.updated"}, renewal, paid),
			wantSub:    "active", wantInvoices: []stripe.InvoiceStatus{"paid", "paid", "paid"},
		},
		{
			name:       "cancel at period end: updated now, deleted at the period's end, no new invoice",
			steps:      []step{complete(OutcomePaid), mark, cancelAtPeriodEnd, advance(month)},
			wantEvents: []string{"customer.subscription.updated", "customer.subscription.deleted"},
			wantSub:    "canceled", wantInvoices: []stripe.InvoiceStatus{"paid"},
		},
		{
			name:       "cancel now",
			steps:      []step{complete(OutcomePaid), mark, cancelNow, advance(month)},
			wantEvents: []string{"customer.subscription.deleted"},
			wantSub:    "canceled", wantInvoices: []stripe.InvoiceStatus{"paid"},
		},
		{
			name:  "pause: no invoices while paused; resume bills a new cycle",
			steps: []step{complete(OutcomePaid), mark, pause, advance(2 * month), resume},
			wantEvents: seq([]string{"customer.subscription.paused", "customer.subscription.updated",
				"customer.subscription.resumed", "customer.subscription.updated", "invoice.created", "invoice.finalized"}, paid),
			wantSub: "active", wantInvoices: []stripe.InvoiceStatus{"paid", "paid"},
		},
		{
			name: "collection paused with void: the renewal's invoice is voided; collection resumes at resumes_at",
			steps: []step{complete(OutcomePaid), {"pause collection", func(h *harness) error {
				_, err := h.sc.Subscriptions.Update(h.sub().ID, &stripe.SubscriptionParams{PauseCollection: &stripe.SubscriptionPauseCollectionParams{
					Behavior: stripe.String("void"), ResumesAt: stripe.Int64(h.s.Now().Add(40 * day).Unix())}})
				return err
			}}, mark, advance(month), advance(month)},
			wantEvents: seq(renewal, []string{"invoice.voided", "customer.subscription.updated"}, renewal, paid),
			wantSub:    "active", wantInvoices: []stripe.InvoiceStatus{"paid", "void", "paid"},
		},
		{
			name: "trial: free first invoice, no payment needed",
			spec: sessionSpec{trialDays: 14}, steps: []step{mark, complete(OutcomePaid)},
			wantEvents: []string{"customer.subscription.created", "invoice.created", "invoice.finalized", "invoice.paid",
				"invoice.payment_succeeded", "checkout.session.completed"},
			wantSub: "trialing", wantInvoices: []stripe.InvoiceStatus{"paid"}, wantSession: "complete", wantPaymentSt: "no_payment_required",
		},
		{
			name: "trial will end 3 days before, then ends: active with a paid invoice",
			spec: sessionSpec{trialDays: 14}, steps: []step{complete(OutcomePaid), mark, advance(11 * day), advance(3 * day)},
			wantEvents: seq([]string{"customer.subscription.trial_will_end"}, renewal, paid),
			wantSub:    "active", wantInvoices: []stripe.InvoiceStatus{"paid", "paid"},
		},
		{
			name: "trial ends with a failing card: past_due",
			spec: sessionSpec{trialDays: 7}, steps: []step{complete(OutcomePaid), paymentFails(true), mark, advance(7 * day)},
			wantEvents: seq([]string{"customer.subscription.trial_will_end"}, failedRenewal),
			wantSub:    "past_due", wantInvoices: []stripe.InvoiceStatus{"paid", "open"},
		},
		{
			name: "a 3-day trial gets no trial_will_end",
			spec: sessionSpec{trialDays: 3}, steps: []step{complete(OutcomePaid), mark, advance(3 * day)},
			wantEvents: seq(renewal, paid), wantSub: "active",
		},
		{
			name:       "delete customer: subscription deleted first, then the customer",
			steps:      []step{complete(OutcomePaid), mark, deleteCustomer},
			wantEvents: []string{"customer.subscription.deleted", "customer.deleted"},
			wantSub:    "canceled",
		},
		{
			name:  "subscription by bank debit: completed unpaid, then settles",
			steps: []step{mark, complete(OutcomeAsyncPending), complete(OutcomeAsyncSucceeded)},
			wantEvents: []string{"customer.subscription.created", "invoice.created", "invoice.finalized", "checkout.session.completed",
				"invoice.paid", "invoice.payment_succeeded", "customer.subscription.updated", "checkout.session.async_payment_succeeded"},
			wantSub: "active", wantInvoices: []stripe.InvoiceStatus{"paid"}, wantSession: "complete", wantPaymentSt: "paid",
		},
		{
			name:  "subscription by bank debit that fails: incomplete, expired after 23 hours",
			steps: []step{complete(OutcomeAsyncPending), mark, complete(OutcomeAsyncFailed), advance(day)},
			wantEvents: []string{"invoice.payment_failed", "checkout.session.async_payment_failed", "invoice.voided",
				"customer.subscription.updated"},
			wantSub: "incomplete_expired", wantInvoices: []stripe.InvoiceStatus{"void"}, wantSession: "complete", wantPaymentSt: "unpaid",
		},
		{
			name: "one-time purchase paid", spec: sessionSpec{mode: "payment"},
			steps: []step{mark, complete(OutcomePaid)}, wantEvents: []string{"checkout.session.completed"},
			wantSession: "complete", wantPaymentSt: "paid",
		},
		{
			name: "one-time purchase by bank debit that settles", spec: sessionSpec{mode: "payment", guest: true},
			steps:       []step{mark, complete(OutcomeAsyncSucceeded)},
			wantEvents:  []string{"checkout.session.completed", "checkout.session.async_payment_succeeded"},
			wantSession: "complete", wantPaymentSt: "paid",
		},
		{
			name: "one-time purchase by bank debit that fails", spec: sessionSpec{mode: "payment"},
			steps:       []step{complete(OutcomeAsyncPending), mark, complete(OutcomeAsyncFailed)},
			wantEvents:  []string{"checkout.session.async_payment_failed"},
			wantSession: "complete", wantPaymentSt: "unpaid",
		},
		{
			name: "an abandoned session expires after 24 hours", spec: sessionSpec{mode: "payment"},
			steps: []step{mark, advance(25 * time.Hour)}, wantEvents: []string{"checkout.session.expired"},
			wantSession: "expired", wantPaymentSt: "unpaid",
		},
		{
			name:  "expire by hand; completing it afterwards is refused",
			steps: []step{mark, expireSession, complete(OutcomePaid)}, wantErr: "invalid_request_error",
			wantEvents: []string{"checkout.session.expired"}, wantSession: "expired",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.opts, tt.spec)
			var gotErr *stripe.Error
			for _, st := range tt.steps {
				if err := st.do(h); err != nil {
					var se *stripe.Error
					if !errors.As(err, &se) {
						t.Fatalf("%s: %v", st.name, err)
					}
					if gotErr != nil || tt.wantErr == "" || (string(se.Code) != tt.wantErr && string(se.Type) != tt.wantErr) {
						t.Fatalf("%s: %v", st.name, err)
					}
					gotErr = se
				}
			}
			if tt.wantErr != "" && gotErr == nil {
				t.Errorf("no step failed; want %s", tt.wantErr)
			}
			if tt.wantErr == "card_declined" && gotErr != nil && gotErr.HTTPStatusCode != http.StatusPaymentRequired {
				t.Errorf("declined: status %d, want 402", gotErr.HTTPStatusCode)
			}
			events := h.s.Events()[h.mark:]
			if got := EventTypes(events); !slices.Equal(got, tt.wantEvents) && (len(got) > 0 || len(tt.wantEvents) > 0) {
				t.Errorf("events:\n got %q\nwant %q", got, tt.wantEvents)
			}
			checkEvents(t, h.s.Events())

			sub := h.sub()
			switch {
			case tt.wantSub == "" && sub != nil:
				t.Errorf("subscription %s exists, want none", sub.ID)
			case tt.wantSub != "" && sub == nil:
				t.Errorf("no subscription, want %s", tt.wantSub)
			case sub != nil && sub.Status != tt.wantSub:
				t.Errorf("subscription status %q, want %q", sub.Status, tt.wantSub)
			}
			if tt.wantInvoices != nil {
				var got []stripe.InvoiceStatus
				for _, in := range h.s.Invoices() {
					if sub != nil && in.Subscription != nil && in.Subscription.ID == sub.ID {
						got = append(got, in.Status)
					}
				}
				if !slices.Equal(got, tt.wantInvoices) {
					t.Errorf("invoices %q, want %q", got, tt.wantInvoices)
				}
			}
			cs := h.session()
			if tt.wantSession != "" && cs.Status != tt.wantSession {
				t.Errorf("session status %q, want %q", cs.Status, tt.wantSession)
			}
			if tt.wantPaymentSt != "" && cs.PaymentStatus != tt.wantPaymentSt {
				t.Errorf("session payment_status %q, want %q", cs.PaymentStatus, tt.wantPaymentSt)
			}
		})
	}
}

// checkEvents checks what every event must be: unique id, the clock's time,
// never going back, data.object decodable by stripe-go, and previous
// attributes exactly on *.updated events.
func checkEvents(t *testing.T, events []Event) {
	t.Helper()
	seen := map[string]bool{}
	var last int64
	for _, e := range events {
		if seen[e.ID] || len(e.ID) < 10 || e.ID[:4] != "evt_" {
			t.Errorf("event id %q repeated or malformed", e.ID)
		}
		seen[e.ID] = true
		if e.Created < last {
			t.Errorf("%s %s created %d, before the previous event (%d)", e.ID, e.Type, e.Created, last)
		}
		last = e.Created
		ev, err := e.Stripe()
		if err != nil || ev.Data == nil || ev.Data.Object["id"] != e.ObjectID() || ev.APIVersion != APIVersion {
			t.Errorf("%s %s does not decode: %v", e.ID, e.Type, err)
		}
		updated := len(e.Type) > 8 && e.Type[len(e.Type)-8:] == ".updated"
		if updated != (e.PreviousAttributes != nil) {
			t.Errorf("%s %s: previous_attributes %s", e.ID, e.Type, e.PreviousAttributes)
		}
		if updated {
			var pa map[string]any
			if err := json.Unmarshal(e.PreviousAttributes, &pa); err != nil || len(pa) == 0 {
				t.Errorf("%s %s: empty previous_attributes", e.ID, e.Type)
			}
		}
	}
}

func TestAdvanceClock(t *testing.T) {
	tests := []struct {
		name     string
		interval string
		start    time.Time
		// advances are applied in turn; wantEnds are the period ends
		// after each.
		advances []time.Duration
		wantEnds []string
	}{
		{
			name: "monthly from the 31st bills on the last day of short months", interval: "month",
			start:    time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC),
			advances: []time.Duration{0, month, 30 * day},
			wantEnds: []string{"2026-02-28T12:00:00Z", "2026-03-31T12:00:00Z", "2026-04-30T12:00:00Z"},
		},
		{
			name: "yearly", interval: "year", start: time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC),
			advances: []time.Duration{0, 366 * day}, wantEnds: []string{"2029-02-28T00:00:00Z", "2030-02-28T00:00:00Z"},
		},
		{
			name: "weekly", interval: "week", start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
			advances: []time.Duration{0, 7 * day, 14 * day},
			wantEnds: []string{"2026-01-08T00:00:00Z", "2026-01-15T00:00:00Z", "2026-01-29T00:00:00Z"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{Start: tt.start})
			pr := catalog(t, s.Client(), 500, tt.interval)
			cs, err := s.Client().CheckoutSessions.New(&stripe.CheckoutSessionParams{Mode: stripe.String("subscription"),
				SuccessURL: stripe.String("https://x.example"), CustomerEmail: stripe.String("w@example.com"),
				LineItems: []*stripe.CheckoutSessionLineItemParams{{Price: stripe.String(pr.ID), Quantity: stripe.Int64(1)}}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.CompleteCheckout(cs.ID, OutcomePaid); err != nil {
				t.Fatal(err)
			}
			for i, d := range tt.advances {
				before := s.Now()
				if got := s.Advance(d); !got.Equal(before.Add(d)) {
					t.Fatalf("Advance(%v) = %v, want %v", d, got, before.Add(d))
				}
				end := time.Unix(s.Subscriptions()[0].CurrentPeriodEnd, 0).UTC().Format(time.RFC3339)
				if end != tt.wantEnds[i] {
					t.Errorf("after advance %d: period ends %s, want %s", i, end, tt.wantEnds[i])
				}
			}
		})
	}
}
