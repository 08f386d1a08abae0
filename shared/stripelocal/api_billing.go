package stripelocal

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Subscriptions, invoices and events: what the webhook functions read back.

// --- subscriptions ---

func (s *Stripe) apiGetSubscription(c *call) (any, error) {
	sub, err := s.getSub(c.id())
	if err != nil {
		return nil, err
	}
	return s.renderSubscription(sub), nil
}

func (s *Stripe) apiListSubscriptions(c *call) (any, error) {
	if err := c.p.check("customer", "price", "status", "limit", "starting_after", "ending_before", "created",
		"current_period_end", "current_period_start", "collection_method", "test_clock"); err != nil {
		return nil, err
	}
	status, _ := c.p.str("status")
	return listOf(c, "/v1/subscriptions", filter(s.subs.all(), func(sub *subscription) bool {
		switch status {
		case "all":
		case "":
			if ended(sub) {
				return false
			}
		case "ended":
			if !ended(sub) {
				return false
			}
		default:
			if sub.status != status {
				return false
			}
		}
		hasPrice := !c.p.has("price")
		for _, it := range sub.items {
			hasPrice = hasPrice || c.matches("price", it.price)
		}
		return hasPrice && c.matches("customer", sub.customer)
	}, s.renderSubscription))
}

func (s *Stripe) apiUpdateSubscription(c *call) (any, error) {
	sub, err := s.getSub(c.id())
	if err != nil {
		return nil, err
	}
	if err := c.p.check("cancel_at_period_end", "pause_collection", "metadata", "description", "cancellation_details",
		"proration_behavior", "items", "cancel_at", "trial_end", "default_payment_method", "billing_cycle_anchor",
		"collection_method", "days_until_due", "coupon", "promotion_code", "discounts", "payment_behavior",
		"trial_from_plan", "default_tax_rates", "off_session"); err != nil {
		return nil, err
	}
	for _, k := range []string{"items", "cancel_at", "trial_end", "billing_cycle_anchor", "collection_method",
		"days_until_due", "coupon", "promotion_code", "discounts", "trial_from_plan", "default_tax_rates"} {
		if c.p.has(k) {
			return nil, unsupported(k, "updating "+k)
		}
	}
	md, err := c.p.applyMetadata(sub.metadata, "metadata")
	if err != nil {
		return nil, err
	}
	for _, k := range c.p.keys() {
		if ended(sub) && k != "metadata" && k != "cancellation_details" && k != "expand" && k != "proration_behavior" {
			return nil, invalidRequest(k, "A canceled subscription can only update its cancellation_details and metadata.")
		}
	}
	before := s.renderSubscription(sub)
	if v, ok, err := c.p.boolean("cancel_at_period_end"); err != nil {
		return nil, err
	} else if ok {
		s.applyCancelAtPeriodEnd(sub, v)
	}
	if n := c.p.at("pause_collection"); n != nil {
		if v, ok := n.str(); ok && len(n.kids) == 0 {
			if v != "" {
				return nil, invalidRequest("pause_collection", "Invalid pause_collection: pass an empty string to resume collection")
			}
			sub.pauseBehavior, sub.pauseResumesAt = "", 0
		} else {
			behavior, err := c.p.required("pause_collection", "behavior")
			if err != nil {
				return nil, err
			}
			if !slices.Contains([]string{"keep_as_draft", "mark_uncollectible", "void"}, behavior) {
				return nil, invalidRequest("pause_collection[behavior]", "Invalid pause_collection[behavior]: must be one of keep_as_draft, mark_uncollectible, or void")
			}
			at, _, err := c.p.integer("pause_collection", "resumes_at")
			if err != nil {
				return nil, err
			}
			sub.pauseBehavior, sub.pauseResumesAt = behavior, at
		}
	}
	if v, ok := c.p.str("description"); ok {
		sub.description = v
	}
	s.applyCancellationDetails(c, sub)
	sub.metadata = md
	after := s.renderSubscription(sub)
	s.updated("customer.subscription.updated", before, after)
	return after, nil
}

func (s *Stripe) applyCancellationDetails(c *call, sub *subscription) {
	if v, ok := c.p.str("cancellation_details", "comment"); ok {
		sub.cancelComment = v
	}
	if v, ok := c.p.str("cancellation_details", "feedback"); ok {
		sub.cancelFeedback = v
	}
}

func (s *Stripe) apiCancelSubscription(c *call) (any, error) {
	sub, err := s.getSub(c.id())
	if err != nil {
		return nil, err
	}
	if err := c.p.check("invoice_now", "prorate", "cancellation_details"); err != nil {
		return nil, err
	}
	if ended(sub) {
		return nil, notFound("subscription", sub.id, "id")
	}
	s.applyCancellationDetails(c, sub)
	if err := s.cancelNow(sub); err != nil {
		return nil, err
	}
	return s.renderSubscription(sub), nil
}

func (s *Stripe) apiResumeSubscription(c *call) (any, error) {
	sub, err := s.getSub(c.id())
	if err != nil {
		return nil, err
	}
	if err := c.p.check("billing_cycle_anchor", "proration_behavior", "proration_date"); err != nil {
		return nil, err
	}
	if v, ok := c.p.str("billing_cycle_anchor"); ok && v != "now" {
		return nil, unsupported("billing_cycle_anchor", "billing_cycle_anchor="+v)
	}
	if err := s.resume(sub); err != nil {
		return nil, err
	}
	return s.renderSubscription(sub), nil
}

// --- invoices ---

func (s *Stripe) apiGetInvoice(c *call) (any, error) {
	in, err := s.getInvoice(c.id())
	if err != nil {
		return nil, notFound("invoice", c.id(), "id")
	}
	return s.renderInvoice(in), nil
}

func (s *Stripe) apiListInvoices(c *call) (any, error) {
	if err := c.p.check("customer", "subscription", "status", "limit", "starting_after", "ending_before", "created",
		"collection_method", "due_date", "test_clock"); err != nil {
		return nil, err
	}
	return listOf(c, "/v1/invoices", filter(s.invoices.all(), func(in *invoice) bool {
		return c.matches("customer", in.customer) && c.matches("subscription", in.subscription) && c.matches("status", in.status)
	}, s.renderInvoice))
}

func (s *Stripe) apiPayInvoice(c *call) (any, error) {
	in, err := s.getInvoice(c.id())
	if err != nil {
		return nil, notFound("invoice", c.id(), "id")
	}
	if err := c.p.check("paid_out_of_band", "payment_method", "source", "off_session", "forgive", "mandate"); err != nil {
		return nil, err
	}
	oob, _, err := c.p.boolean("paid_out_of_band")
	if err != nil {
		return nil, err
	}
	switch in.status {
	case "paid":
		return nil, invalidRequest("invoice", "Invoice is already paid")
	case "void":
		return nil, invalidRequest("invoice", "This invoice can no longer be paid because it has been voided.")
	case "draft":
		s.finalize(in)
	}
	newMethod, _ := c.p.str("payment_method")
	switch {
	case oob:
		s.markPaid(in, true)
	case newMethod != "":
		if err := s.recover(in); err != nil {
			return nil, err
		}
	case !s.charge(in, false):
		e := cardDeclined()
		return nil, e
	}
	return s.renderInvoice(in), nil
}

func (s *Stripe) apiVoidInvoice(c *call) (any, error) {
	in, err := s.getInvoice(c.id())
	if err != nil {
		return nil, notFound("invoice", c.id(), "id")
	}
	if in.status != "open" && in.status != "uncollectible" {
		return nil, invalidRequest("invoice", fmt.Sprintf("You can only void an open or uncollectible invoice (status: %s)", in.status))
	}
	s.voidInvoice(in)
	return s.renderInvoice(in), nil
}

func (s *Stripe) apiMarkUncollectible(c *call) (any, error) {
	in, err := s.getInvoice(c.id())
	if err != nil {
		return nil, notFound("invoice", c.id(), "id")
	}
	if in.status != "open" {
		return nil, invalidRequest("invoice", fmt.Sprintf("You can only mark an open invoice uncollectible (status: %s)", in.status))
	}
	s.markUncollectible(in)
	return s.renderInvoice(in), nil
}

// --- events ---

func (s *Stripe) apiGetEvent(c *call) (any, error) {
	i, ok := s.eventByID[c.id()]
	if !ok {
		return nil, notFound("event", c.id(), "id")
	}
	return json.RawMessage(s.events[i].JSON(c.version)), nil
}

func (s *Stripe) apiListEvents(c *call) (any, error) {
	if err := c.p.check("type", "types", "limit", "starting_after", "ending_before", "created", "delivery_success"); err != nil {
		return nil, err
	}
	typ, _ := c.p.str("type")
	types := c.p.strings("types")
	var ids []string
	var bodies []json.RawMessage
	for i := len(s.events) - 1; i >= 0; i-- {
		e := s.events[i]
		if (typ != "" && !typeMatches(typ, e.Type)) || (len(types) > 0 && !slices.Contains(types, e.Type)) {
			continue
		}
		ids = append(ids, e.ID)
		bodies = append(bodies, e.JSON(c.version))
	}
	from, to, more, err := paginate(c, ids)
	if err != nil {
		return nil, err
	}
	data := make([]any, 0, to-from)
	for _, b := range bodies[from:to] {
		data = append(data, b)
	}
	l := list("/v1/events", data)
	l["has_more"] = more
	return json.RawMessage(marshal(l)), nil
}
