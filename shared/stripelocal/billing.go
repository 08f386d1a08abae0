package stripelocal

import (
	"fmt"
	"maps"
	"strings"
	"time"
)

// The billing engine: what Stripe does to subscriptions and invoices, and
// the events it emits while doing it. Every function here runs with s.mu
// held. Each change to an object is followed by the event that carries it,
// so that a receiver that saw every event can hold the truth.

func (s *Stripe) invoicePrefix() string {
	const hex = "0123456789ABCDEF"
	b := make([]byte, 8)
	for i := range b {
		b[i] = hex[s.rng.IntN(len(hex))]
	}
	return string(b)
}

func (s *Stripe) newCustomer(email, name, description, phone string, md map[string]string) *customer {
	c := &customer{id: s.newID("cus"), created: s.unix(), email: email, name: name, description: description,
		phone: phone, metadata: cloneMeta(md), invoicePrefix: s.invoicePrefix(), nextInvoiceSeq: 1}
	s.customers.add(c.id, c)
	s.emit("customer.created", s.renderCustomer(c), nil)
	return c
}

func cloneMeta(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return maps.Clone(m)
}

// periodAt is the k-th boundary of a subscription's billing cycle: anchor
// plus k intervals, clamped to the end of short months as Stripe does (an
// anchor on the 31st bills on the 28th or 30th, then on the 31st again).
func periodAt(sub *subscription, k int) time.Time {
	n := k * int(sub.intervalCount)
	a := sub.anchor
	switch sub.interval {
	case "day":
		return a.AddDate(0, 0, n)
	case "week":
		return a.AddDate(0, 0, 7*n)
	case "year":
		n *= 12
	}
	first := time.Date(a.Year(), a.Month()+time.Month(n), 1, a.Hour(), a.Minute(), a.Second(), 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(a.Day(), last)-1)
}

func (s *Stripe) ensurePaymentIntent(in *invoice) {
	if in.paymentIntent == "" {
		in.paymentIntent = s.newID("pi")
	}
}

// newInvoice drafts an invoice for a subscription's items over the service
// period [ls, le]. The invoice's own period is [ps, pe]: Stripe puts the
// period that just ended there (usage), and the creation instant on the
// first invoice. free bills nothing (a trial).
func (s *Stripe) newInvoice(sub *subscription, reason string, ls, le, ps, pe int64, free bool) *invoice {
	cus := s.customers.get(sub.customer)
	in := &invoice{id: s.newID("in"), customer: sub.customer, subscription: sub.id, status: "draft",
		billingReason: reason, currency: sub.currency, created: s.unix(), periodStart: ps, periodEnd: pe,
		autoAdvance: sub.pauseBehavior != "keep_as_draft", customerEmail: cus.email, customerName: cus.name, subMetadata: cloneMeta(sub.metadata)}
	in.hostedURL = s.baseURL() + "/_local/pay/" + in.id
	for _, it := range sub.items {
		amount := s.prices.get(it.price).unitAmount * it.quantity
		if free {
			amount = 0
		}
		in.lines = append(in.lines, invoiceLine{id: s.newID("il"), price: it.price, subItem: it.id,
			quantity: it.quantity, amount: amount, periodStart: ls, periodEnd: le})
	}
	s.invoices.add(in.id, in)
	return in
}

func (s *Stripe) finalize(in *invoice) {
	cus := s.customers.get(in.customer)
	in.status = "open"
	in.finalizedAt = s.unix()
	in.number = fmt.Sprintf("%s-%04d", cus.invoicePrefix, cus.nextInvoiceSeq)
	cus.nextInvoiceSeq++
	s.emit("invoice.finalized", s.renderInvoice(in), nil)
}

// activate moves a subscription whose latest invoice got paid back to
// active.
func (s *Stripe) activate(in *invoice) {
	sub := s.subs.get(in.subscription)
	if sub == nil || sub.latestInvoice != in.id {
		return
	}
	switch sub.status {
	case "incomplete", "past_due", "unpaid":
		before := s.renderSubscription(sub)
		sub.status = "active"
		sub.awaitingAsync = false
		s.updated("customer.subscription.updated", before, s.renderSubscription(sub))
	}
}

func (s *Stripe) markPaid(in *invoice, outOfBand bool) {
	total := in.total()
	in.status = "paid"
	in.amountPaid = total
	in.paidAt = s.unix()
	in.nextPaymentAttempt = 0
	in.autoAdvance = false
	in.paidOutOfBand = outOfBand
	in.attempted = true
	if total > 0 && !outOfBand {
		if in.attemptCount == 0 {
			in.attemptCount = 1
		}
		s.ensurePaymentIntent(in)
		in.charge = s.newID("ch")
	}
	s.emit("invoice.paid", s.renderInvoice(in), nil)
	if !outOfBand {
		s.emit("invoice.payment_succeeded", s.renderInvoice(in), nil)
	}
	s.activate(in)
}

// charge tries the customer's saved payment method. automatic is the
// scheduled collection (its failure schedules a retry, and the last one
// ends dunning); otherwise it is a payment the customer or the API asked
// for.
func (s *Stripe) charge(in *invoice, automatic bool) bool {
	if in.total() == 0 {
		s.markPaid(in, false)
		return true
	}
	in.attempted = true
	in.attemptCount++
	s.ensurePaymentIntent(in)
	if cus := s.customers.get(in.customer); cus != nil && !cus.deleted && !cus.paymentFails {
		s.markPaid(in, false)
		return true
	}
	s.paymentFailed(in, automatic)
	return false
}

func (s *Stripe) paymentFailed(in *invoice, automatic bool) {
	sub := s.subs.get(in.subscription)
	final := false
	if automatic {
		in.nextPaymentAttempt = 0
		// A subscription's first payment is not retried: it stays
		// incomplete until paid or expired.
		if sub != nil && sub.status != "incomplete" {
			if n := int(in.attemptCount); n <= len(s.opts.RetrySchedule) {
				in.nextPaymentAttempt = s.now.Add(s.opts.RetrySchedule[n-1]).Unix()
			} else {
				final = true
			}
		}
	}
	s.emit("invoice.payment_failed", s.renderInvoice(in), nil)
	if sub == nil {
		return
	}
	if sub.latestInvoice == in.id && (sub.status == "active" || sub.status == "trialing") {
		before := s.renderSubscription(sub)
		sub.status = "past_due"
		s.updated("customer.subscription.updated", before, s.renderSubscription(sub))
	}
	if !final || sub.status != "past_due" {
		return
	}
	if s.opts.MarkUncollectible {
		s.markUncollectible(in)
	}
	switch s.opts.AfterRetries {
	case "canceled":
		s.endSubscription(sub, "payment_failed")
	case "unpaid":
		before := s.renderSubscription(sub)
		sub.status = "unpaid"
		s.updated("customer.subscription.updated", before, s.renderSubscription(sub))
	}
}

func (s *Stripe) markUncollectible(in *invoice) {
	in.status = "uncollectible"
	in.uncollectibleAt = s.unix()
	in.nextPaymentAttempt = 0
	in.autoAdvance = false
	s.emit("invoice.marked_uncollectible", s.renderInvoice(in), nil)
}

func (s *Stripe) voidInvoice(in *invoice) {
	in.status = "void"
	in.voidedAt = s.unix()
	in.nextPaymentAttempt = 0
	in.autoAdvance = false
	s.emit("invoice.voided", s.renderInvoice(in), nil)
}

// collect does what a subscription's collection settings say with a new
// invoice: finalize and charge it, or, while collection is paused, void it,
// keep it as a draft or mark it uncollectible.
func (s *Stripe) collect(sub *subscription, in *invoice) {
	switch sub.pauseBehavior {
	case "keep_as_draft":
		return // stays a draft, auto_advance off from its creation
	case "void":
		s.finalize(in)
		s.voidInvoice(in)
		return
	case "mark_uncollectible":
		s.finalize(in)
		s.markUncollectible(in)
		return
	}
	s.finalize(in)
	if sub.status == "unpaid" {
		return // unpaid subscriptions keep invoicing but stop charging
	}
	s.charge(in, true)
}

// endSubscription cancels a subscription now and stops collecting its open
// invoices, as Stripe does by default.
func (s *Stripe) endSubscription(sub *subscription, reason string) {
	if sub.status == "canceled" || sub.status == "incomplete_expired" {
		return
	}
	sub.status = "canceled"
	sub.endedAt = s.unix()
	sub.awaitingAsync = false
	if sub.canceledAt == 0 {
		sub.canceledAt = s.unix()
	}
	if sub.cancelReason == "" || reason == "payment_failed" {
		sub.cancelReason = reason
	}
	s.emit("customer.subscription.deleted", s.renderSubscription(sub), nil)
	for _, in := range s.invoices.all() {
		if in.subscription != sub.id || in.status != "open" || (in.nextPaymentAttempt == 0 && !in.autoAdvance) {
			continue
		}
		before := s.renderInvoice(in)
		in.nextPaymentAttempt = 0
		in.autoAdvance = false
		s.updated("invoice.updated", before, s.renderInvoice(in))
	}
}

// bill starts the next billing period: a new invoice for it, collected.
// With restart the cycle is re-anchored on now (a resumed subscription).
func (s *Stripe) bill(sub *subscription, before obj, restart bool, extra ...string) {
	prevStart, prevEnd := sub.periodStart.Unix(), sub.periodEnd.Unix()
	if restart {
		sub.anchor, sub.nextK = s.now, 0
		prevEnd = s.unix()
	}
	sub.periodStart = periodAt(sub, sub.nextK)
	sub.nextK++
	sub.periodEnd = periodAt(sub, sub.nextK)
	in := s.newInvoice(sub, "subscription_cycle", sub.periodStart.Unix(), sub.periodEnd.Unix(), prevStart, prevEnd, false)
	sub.latestInvoice = in.id
	after := s.renderSubscription(sub)
	for _, typ := range extra {
		s.emit(typ, after, nil)
	}
	s.updated("customer.subscription.updated", before, after)
	s.emit("invoice.created", s.renderInvoice(in), nil)
	s.collect(sub, in)
}

// dueAction is something the clock makes happen.
type dueAction struct {
	at   int64
	rank int // order of kinds at the same instant
	seq  int // creation order within a kind
	run  func()
}

// nextDue finds the earliest action due at or before limit.
func (s *Stripe) nextDue(limit int64) *dueAction {
	var best *dueAction
	consider := func(at int64, rank, seq int, run func()) {
		if at > limit {
			return
		}
		if best == nil || at < best.at || (at == best.at && (rank < best.rank || (rank == best.rank && seq < best.seq))) {
			best = &dueAction{at: at, rank: rank, seq: seq, run: run}
		}
	}
	for i, cs := range s.sessions.all() {
		if cs.status == "open" {
			consider(cs.expiresAt, 0, i, func() { s.expireSession(cs) })
		}
	}
	for i, in := range s.invoices.all() {
		if in.status == "open" && in.nextPaymentAttempt != 0 {
			consider(in.nextPaymentAttempt, 1, i, func() { s.charge(in, true) })
		}
	}
	for i, sub := range s.subs.all() {
		switch sub.status {
		case "incomplete":
			if !sub.awaitingAsync {
				consider(sub.created+int64(23*time.Hour/time.Second), 2, i, func() { s.expireIncomplete(sub) })
			}
		case "trialing":
			if warn := sub.trialEnd - int64(3*day/time.Second); !sub.trialWillEndSent && warn > sub.trialStart {
				consider(warn, 3, i, func() {
					sub.trialWillEndSent = true
					s.emit("customer.subscription.trial_will_end", s.renderSubscription(sub), nil)
				})
			}
			consider(sub.trialEnd, 4, i, func() { s.periodEnded(sub) })
		case "active", "past_due", "unpaid":
			consider(sub.periodEnd.Unix(), 6, i, func() { s.periodEnded(sub) })
		}
		if sub.pauseBehavior != "" && sub.pauseResumesAt != 0 && !ended(sub) {
			consider(sub.pauseResumesAt, 5, i, func() {
				before := s.renderSubscription(sub)
				sub.pauseBehavior, sub.pauseResumesAt = "", 0
				s.updated("customer.subscription.updated", before, s.renderSubscription(sub))
			})
		}
	}
	return best
}

// periodEnded is a subscription reaching the end of its period or trial.
func (s *Stripe) periodEnded(sub *subscription) {
	if sub.cancelAtPeriodEnd {
		s.endSubscription(sub, "cancellation_requested")
		return
	}
	before := s.renderSubscription(sub)
	if sub.status == "trialing" {
		sub.status = "active"
		sub.trialWillEndSent = true
	}
	s.bill(sub, before, false)
}

func (s *Stripe) expireIncomplete(sub *subscription) {
	if in := s.invoices.get(sub.latestInvoice); in != nil && in.status == "open" {
		s.voidInvoice(in)
	}
	before := s.renderSubscription(sub)
	sub.status = "incomplete_expired"
	sub.endedAt = s.unix()
	s.updated("customer.subscription.updated", before, s.renderSubscription(sub))
}

func (s *Stripe) expireSession(cs *session) {
	cs.status = "expired"
	s.emit("checkout.session.expired", s.renderSession(cs), nil)
}

// startSubscription creates the subscription a Checkout session in
// subscription mode sells, with its first invoice finalized but not paid.
func (s *Stripe) startSubscription(cs *session, cus *customer) (*subscription, *invoice) {
	first := s.prices.get(cs.items[0].price)
	now := s.unix()
	sub := &subscription{id: s.newID("sub"), customer: cus.id, status: "incomplete", currency: first.currency,
		created: now, startDate: now, interval: first.interval, intervalCount: first.intervalCount,
		metadata: cloneMeta(cs.subMetadata), description: cs.subDescription, anchor: s.now, nextK: 1}
	for _, it := range cs.items {
		sub.items = append(sub.items, subItem{id: s.newID("si"), price: it.price, quantity: it.quantity, created: now})
	}
	sub.periodStart = s.now
	if cs.trialDays > 0 {
		sub.status = "trialing"
		sub.trialStart = now
		sub.trialEnd = now + cs.trialDays*int64(day/time.Second)
		sub.anchor, sub.nextK = time.Unix(sub.trialEnd, 0).UTC(), 0
	}
	sub.periodEnd = periodAt(sub, sub.nextK)
	if cus.currency == "" {
		cus.currency = sub.currency
	}
	in := s.newInvoice(sub, "subscription_create", now, sub.periodEnd.Unix(), now, now, cs.trialDays > 0)
	sub.latestInvoice = in.id
	s.subs.add(sub.id, sub)
	s.emit("customer.subscription.created", s.renderSubscription(sub), nil)
	s.emit("invoice.created", s.renderInvoice(in), nil)
	s.finalize(in)
	return sub, in
}

func (s *Stripe) syntheticEmail() string {
	b := make([]byte, 8)
	for i := range b {
		b[i] = idAlphabet[s.rng.IntN(36)]
	}
	return "buyer_" + strings.ToLower(string(b)) + "@example.com"
}

// completeSession is the buyer submitting the Checkout page. paid is false
// for a delayed payment method, whose outcome settleSession reports later.
func (s *Stripe) completeSession(cs *session, paid bool) {
	cus := s.customers.get(cs.customer)
	email := cs.customerEmail
	if cus != nil && cus.email != "" {
		email = cus.email
	}
	if email == "" {
		email = s.syntheticEmail()
	}
	cs.detailsEmail = email
	if cs.mode == "subscription" {
		if cus == nil {
			cus = s.newCustomer(email, "", "", "", nil)
			cs.customer = cus.id
		}
		sub, in := s.startSubscription(cs, cus)
		cs.subscription, cs.invoice = sub.id, in.id
		switch {
		case in.total() == 0:
			s.markPaid(in, false)
			cs.paymentStatus = "no_payment_required"
		case paid:
			s.markPaid(in, false)
			cs.paymentStatus = "paid"
		default:
			// The debit is processing: the invoice shows the attempt
			// when it settles, so no change goes unannounced.
			sub.awaitingAsync, cs.asyncPending = true, true
		}
	} else {
		if cus == nil && cs.customerCreation == "always" {
			cus = s.newCustomer(email, "", "", "", nil)
			cs.customer = cus.id
		}
		cs.paymentIntent = s.newID("pi")
		if paid {
			cs.paymentStatus = "paid"
		} else {
			cs.asyncPending = true
		}
	}
	cs.status = "complete"
	s.emit("checkout.session.completed", s.renderSession(cs), nil)
}

// settleSession is a delayed payment succeeding or failing.
func (s *Stripe) settleSession(cs *session, ok bool) {
	cs.asyncPending = false
	if cs.mode == "subscription" {
		if sub := s.subs.get(cs.subscription); sub != nil {
			sub.awaitingAsync = false
		}
		if in := s.invoices.get(cs.invoice); in != nil && in.status == "open" {
			in.attempted = true
			in.attemptCount++
			s.ensurePaymentIntent(in)
			if ok {
				s.markPaid(in, false)
			} else {
				s.paymentFailed(in, false)
			}
		}
	}
	typ := "checkout.session.async_payment_failed"
	if ok {
		cs.paymentStatus = "paid"
		typ = "checkout.session.async_payment_succeeded"
	}
	s.emit(typ, s.renderSession(cs), nil)
}
