package stripelocal

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/stripe/stripe-go/v76"
)

// Lifecycle actions: what a buyer, a card network or time does to the
// account. Each is also served under /_local/ (control.go). Errors are
// *stripe.Error values, like the API's.

func decodeAs[T any](m obj) (*T, error) {
	var v T
	if err := json.Unmarshal(marshal(m), &v); err != nil {
		return nil, fmt.Errorf("stripelocal: render does not decode into %T: %w", v, err)
	}
	return &v, nil
}

func (s *Stripe) getSession(id string) (*session, error) {
	if cs := s.sessions.get(id); cs != nil {
		return cs, nil
	}
	return nil, notFound("checkout.session", id, "session")
}

func (s *Stripe) getSub(id string) (*subscription, error) {
	if sub := s.subs.get(id); sub != nil {
		return sub, nil
	}
	return nil, notFound("subscription", id, "id")
}

func (s *Stripe) getInvoice(id string) (*invoice, error) {
	if in := s.invoices.get(id); in != nil {
		return in, nil
	}
	return nil, notFound("invoice", id, "invoice")
}

// getCustomer finds a customer that has not been deleted.
func (s *Stripe) getCustomer(id, param string) (*customer, error) {
	if c := s.customers.get(id); c != nil && !c.deleted {
		return c, nil
	}
	return nil, notFound("customer", id, param)
}

func ended(sub *subscription) bool {
	return sub.status == "canceled" || sub.status == "incomplete_expired"
}

// CompleteCheckout finishes an open Checkout session as the buyer would,
// or settles its delayed payment (see Outcome). In subscription mode it
// creates the customer if the session has none, the subscription and its
// first invoice.
func (s *Stripe) CompleteCheckout(sessionID string, outcome Outcome) (*stripe.CheckoutSession, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, err := s.getSession(sessionID)
	if err != nil {
		return nil, err
	}
	if err := s.completeCheckout(cs, outcome); err != nil {
		return nil, err
	}
	return decodeAs[stripe.CheckoutSession](s.renderSession(cs))
}

func (s *Stripe) completeCheckout(cs *session, outcome Outcome) error {
	notOpen := invalidRequest("session", fmt.Sprintf("Checkout Session %s is not open (status: %s)", cs.id, cs.status))
	switch outcome {
	case OutcomeDeclined:
		if cs.status != "open" {
			return notOpen
		}
		return cardDeclined()
	case OutcomePaid, OutcomeAsyncPending, "":
		if cs.status != "open" {
			return notOpen
		}
		s.completeSession(cs, outcome != OutcomeAsyncPending)
		return nil
	case OutcomeAsyncSucceeded, OutcomeAsyncFailed:
		if cs.status == "open" {
			s.completeSession(cs, false)
			if !cs.asyncPending {
				return nil // nothing to pay (a trial)
			}
		}
		if !cs.asyncPending {
			return invalidRequest("outcome", fmt.Sprintf("Checkout Session %s has no pending payment", cs.id))
		}
		s.settleSession(cs, outcome == OutcomeAsyncSucceeded)
		return nil
	}
	return invalidRequest("outcome", fmt.Sprintf("unknown outcome %q: want paid, async_pending, async_succeeded, async_failed or declined", outcome))
}

// ExpireCheckout expires an open Checkout session.
func (s *Stripe) ExpireCheckout(sessionID string) (*stripe.CheckoutSession, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, err := s.getSession(sessionID)
	if err != nil {
		return nil, err
	}
	if err := s.expireCheckout(cs); err != nil {
		return nil, err
	}
	return decodeAs[stripe.CheckoutSession](s.renderSession(cs))
}

func (s *Stripe) expireCheckout(cs *session) error {
	if cs.status != "open" {
		return invalidRequest("session", fmt.Sprintf(`Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "%s".`, cs.status))
	}
	s.expireSession(cs)
	return nil
}

// Advance moves the clock forward by d and does, in time order, everything
// Stripe would do on the way: sessions expiring, incomplete subscriptions
// expiring after 23 hours, payment retries, trial-will-end notices three
// days before a trial ends, trial ends, paused collection resuming at its
// resumes_at, renewals and cancellations at period end. It returns the new
// time. A negative d does nothing.
func (s *Stripe) Advance(d time.Duration) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(d)
	return s.now
}

func (s *Stripe) advance(d time.Duration) {
	if d <= 0 {
		return
	}
	target := s.now.Add(d).Truncate(time.Second)
	for {
		a := s.nextDue(target.Unix())
		if a == nil {
			break
		}
		if a.at > s.now.Unix() {
			s.now = time.Unix(a.at, 0).UTC()
		}
		a.run()
	}
	s.now = target
}

// SetPaymentFails makes the customer's saved payment method decline (or
// work again) for every payment Stripe makes on its own: renewals, retries,
// trial ends.
func (s *Stripe) SetPaymentFails(customerID string, fails bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.getCustomer(customerID, "customer")
	if err != nil {
		return err
	}
	c.paymentFails = fails
	return nil
}

// Recover is the customer paying an open (failed) or uncollectible invoice
// with a new card: the invoice is paid, the subscription, if this was its
// latest invoice, becomes active, and the customer's payments work again.
func (s *Stripe) Recover(invoiceID string) (*stripe.Invoice, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, err := s.getInvoice(invoiceID)
	if err != nil {
		return nil, err
	}
	if err := s.recover(in); err != nil {
		return nil, err
	}
	return decodeAs[stripe.Invoice](s.renderInvoice(in))
}

func (s *Stripe) recover(in *invoice) error {
	if in.status != "open" && in.status != "uncollectible" {
		return invalidRequest("invoice", fmt.Sprintf("Invoice %s cannot be paid (status: %s)", in.id, in.status))
	}
	if c := s.customers.get(in.customer); c != nil {
		c.paymentFails = false
	}
	if sub := s.subs.get(in.subscription); sub != nil {
		sub.awaitingAsync = false
	}
	in.attemptCount++
	s.markPaid(in, false)
	return nil
}

// VoidInvoice voids an open or uncollectible invoice.
func (s *Stripe) VoidInvoice(invoiceID string) (*stripe.Invoice, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, err := s.getInvoice(invoiceID)
	if err != nil {
		return nil, err
	}
	if in.status != "open" && in.status != "uncollectible" {
		return nil, invalidRequest("invoice", fmt.Sprintf("You can only void an open or uncollectible invoice (status: %s)", in.status))
	}
	s.voidInvoice(in)
	return decodeAs[stripe.Invoice](s.renderInvoice(in))
}

// CancelAtPeriodEnd schedules a subscription's cancellation for the end of
// its period (or trial).
func (s *Stripe) CancelAtPeriodEnd(subID string) (*stripe.Subscription, error) {
	return s.subAction(subID, func(sub *subscription) error { return s.setCancelAtPeriodEnd(sub, true) })
}

// CancelNow cancels a subscription at once.
func (s *Stripe) CancelNow(subID string) (*stripe.Subscription, error) {
	return s.subAction(subID, func(sub *subscription) error { return s.cancelNow(sub) })
}

// Pause pauses a subscription (status paused, no invoices) until Resume.
func (s *Stripe) Pause(subID string) (*stripe.Subscription, error) {
	return s.subAction(subID, func(sub *subscription) error { return s.pause(sub) })
}

// Resume resumes a paused subscription: a new billing cycle starts now and
// is invoiced and charged at once.
func (s *Stripe) Resume(subID string) (*stripe.Subscription, error) {
	return s.subAction(subID, func(sub *subscription) error { return s.resume(sub) })
}

func (s *Stripe) subAction(id string, f func(*subscription) error) (*stripe.Subscription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, err := s.getSub(id)
	if err != nil {
		return nil, err
	}
	if err := f(sub); err != nil {
		return nil, err
	}
	return decodeAs[stripe.Subscription](s.renderSubscription(sub))
}

func (s *Stripe) setCancelAtPeriodEnd(sub *subscription, v bool) error {
	if ended(sub) {
		return invalidRequest("cancel_at_period_end", "A canceled subscription can only update its cancellation_details and metadata.")
	}
	before := s.renderSubscription(sub)
	s.applyCancelAtPeriodEnd(sub, v)
	s.updated("customer.subscription.updated", before, s.renderSubscription(sub))
	return nil
}

// applyCancelAtPeriodEnd sets what Stripe sets when a cancellation is
// scheduled (canceled_at is the time of the request) or withdrawn.
func (s *Stripe) applyCancelAtPeriodEnd(sub *subscription, v bool) {
	if v == sub.cancelAtPeriodEnd {
		return
	}
	sub.cancelAtPeriodEnd = v
	if v {
		sub.cancelAt = sub.periodEnd.Unix()
		sub.canceledAt = s.unix()
		sub.cancelReason = "cancellation_requested"
	} else {
		sub.cancelAt, sub.canceledAt, sub.cancelReason = 0, 0, ""
	}
}

func (s *Stripe) cancelNow(sub *subscription) error {
	if ended(sub) {
		return notFound("subscription", sub.id, "id")
	}
	s.endSubscription(sub, "cancellation_requested")
	return nil
}

func (s *Stripe) pause(sub *subscription) error {
	switch sub.status {
	case "active", "trialing", "past_due":
	default:
		return invalidRequest("subscription", fmt.Sprintf("Subscription %s cannot be paused (status: %s)", sub.id, sub.status))
	}
	before := s.renderSubscription(sub)
	sub.status = "paused"
	after := s.renderSubscription(sub)
	s.emit("customer.subscription.paused", after, nil)
	s.updated("customer.subscription.updated", before, after)
	return nil
}

func (s *Stripe) resume(sub *subscription) error {
	if sub.status != "paused" {
		return invalidRequest("subscription", fmt.Sprintf("Subscription %s is not paused (status: %s)", sub.id, sub.status))
	}
	before := s.renderSubscription(sub)
	sub.status = "active"
	sub.trialWillEndSent = true
	s.bill(sub, before, true, "customer.subscription.resumed")
	return nil
}

// DeleteCustomer deletes a customer, canceling its subscriptions first.
func (s *Stripe) DeleteCustomer(customerID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.getCustomer(customerID, "customer")
	if err != nil {
		return err
	}
	s.deleteCustomer(c)
	return nil
}

func (s *Stripe) deleteCustomer(c *customer) {
	for _, sub := range s.subs.all() {
		if sub.customer == c.id {
			s.endSubscription(sub, "cancellation_requested")
		}
	}
	s.emit("customer.deleted", s.renderCustomer(c), nil)
	c.deleted = true
}

// FailNextRequests makes the next n API requests fail with status (429 rate
// limit, 409 lock timeout, 500 or 503 API error), to exercise a client's
// retries.
func (s *Stripe) FailNextRequests(n int, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.fail = append(s.fail, status)
	}
}
