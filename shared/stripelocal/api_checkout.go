package stripelocal

import (
	"fmt"
	"net/http"
	"time"

	"github.com/stripe/stripe-go/v76"
)

// Checkout sessions and billing portal sessions: what the checkout and
// portal functions create.

// --- Checkout sessions ---

var sessionIgnored = []string{"allow_promotion_codes", "automatic_tax", "billing_address_collection", "consent_collection",
	"custom_fields", "custom_text", "customer_update", "discounts", "invoice_creation", "payment_intent_data",
	"payment_method_collection", "payment_method_configuration", "payment_method_options", "payment_method_types",
	"phone_number_collection", "saved_payment_method_options", "submit_type", "tax_id_collection", "currency",
	"after_expiration"}

func (s *Stripe) apiCreateSession(c *call) (any, error) {
	if err := c.p.check(append([]string{"mode", "line_items", "customer", "customer_email", "customer_creation",
		"client_reference_id", "metadata", "subscription_data", "success_url", "cancel_url", "expires_at", "locale",
		"ui_mode", "return_url", "redirect_on_completion", "shipping_address_collection", "shipping_options"},
		sessionIgnored...)...); err != nil {
		return nil, err
	}
	mode, err := c.p.required("mode")
	if err != nil {
		return nil, err
	}
	if mode != "payment" && mode != "subscription" {
		return nil, unsupported("mode", "mode="+mode)
	}
	for _, k := range []string{"return_url", "redirect_on_completion", "shipping_address_collection", "shipping_options"} {
		if c.p.has(k) {
			return nil, unsupported(k, k)
		}
	}
	if ui, ok := c.p.str("ui_mode"); ok && ui != "hosted" {
		return nil, unsupported("ui_mode", "ui_mode="+ui)
	}
	successURL, err := c.p.required("success_url")
	if err != nil {
		return nil, err
	}
	cs := &session{id: s.newID("cs"), mode: mode, status: "open", paymentStatus: "unpaid", created: s.unix(),
		expiresAt: s.now.Add(day).Unix(), successURL: successURL}
	cs.cancelURL, _ = c.p.str("cancel_url")
	cs.clientReferenceID, _ = c.p.str("client_reference_id")
	cs.locale, _ = c.p.str("locale")
	cs.customer, _ = c.p.str("customer")
	cs.customerEmail, _ = c.p.str("customer_email")
	if cs.customer != "" && cs.customerEmail != "" {
		return nil, invalidRequest("customer_email", "You may only specify one of these parameters: customer, customer_email.")
	}
	if cs.customer != "" {
		if _, err := s.getCustomer(cs.customer, "customer"); err != nil {
			return nil, missingRef("customer", cs.customer, "customer")
		}
	}
	if cs.metadata, err = c.p.applyMetadata(nil, "metadata"); err != nil {
		return nil, err
	}
	if v, ok := c.p.str("customer_creation"); ok {
		if mode != "payment" {
			return nil, invalidRequest("customer_creation", "`customer_creation` can only be used in `payment` mode.")
		}
		if v != "always" && v != "if_required" {
			return nil, invalidRequest("customer_creation", "Invalid customer_creation: must be one of always or if_required")
		}
		cs.customerCreation = v
	} else if mode == "payment" {
		cs.customerCreation = "if_required"
	}
	if exp, ok, err := c.p.integer("expires_at"); err != nil {
		return nil, err
	} else if ok {
		if exp < s.now.Add(30*time.Minute).Unix() || exp > s.now.Add(day).Unix() {
			return nil, invalidRequest("expires_at", "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.")
		}
		cs.expiresAt = exp
	}
	if err := s.sessionSubscriptionData(c, cs); err != nil {
		return nil, err
	}
	if err := s.sessionLineItems(c, cs); err != nil {
		return nil, err
	}
	cs.url = s.baseURL() + "/_local/pay/" + cs.id
	s.sessions.add(cs.id, cs)
	return s.renderSession(cs), nil
}

func (s *Stripe) sessionSubscriptionData(c *call, cs *session) error {
	if !c.p.has("subscription_data") {
		return nil
	}
	if cs.mode != "subscription" {
		return invalidRequest("subscription_data", "You can only pass `subscription_data` in `subscription` mode.")
	}
	for _, k := range c.p.at("subscription_data").keys {
		switch k {
		case "metadata", "trial_period_days", "description":
		case "trial_end", "billing_cycle_anchor", "default_tax_rates", "application_fee_percent", "on_behalf_of",
			"transfer_data", "invoice_settings", "proration_behavior", "trial_settings":
			return unsupported("subscription_data["+k+"]", "subscription_data["+k+"]")
		default:
			return &stripe.Error{Type: stripe.ErrorTypeInvalidRequest, Code: "parameter_unknown", HTTPStatusCode: http.StatusBadRequest,
				Param: "subscription_data[" + k + "]", Msg: "Received unknown parameter: subscription_data[" + k + "]"}
		}
	}
	md, err := c.p.applyMetadata(nil, "subscription_data", "metadata")
	if err != nil {
		return err
	}
	cs.subMetadata = md
	cs.subDescription, _ = c.p.str("subscription_data", "description")
	days, ok, err := c.p.integer("subscription_data", "trial_period_days")
	if err != nil {
		return err
	}
	if ok && (days < 1 || days > 730) {
		return invalidRequest("subscription_data[trial_period_days]", "The trial period must be between 1 and 730 days.")
	}
	cs.trialDays = days
	return nil
}

func (s *Stripe) sessionLineItems(c *call, cs *session) error {
	items := c.p.at("line_items").list()
	if len(items) == 0 {
		return missingParam("line_items")
	}
	recurring := 0
	var firstRecurring *price
	for i, n := range items {
		param := fmt.Sprintf("line_items[%d]", i)
		if n.child("price_data", false) != nil {
			return unsupported(param+"[price_data]", "price_data; create a price first")
		}
		id, _ := n.child("price", false).str()
		if id == "" {
			return missingParam(param + "[price]")
		}
		pr := s.prices.get(id)
		if pr == nil {
			return missingRef("price", id, param+"[price]")
		}
		if !pr.active {
			return invalidRequest(param+"[price]", fmt.Sprintf("The price specified (%s) is inactive. This field only accepts active prices.", id))
		}
		qs, ok := n.child("quantity", false).str()
		if !ok {
			return missingParam(param + "[quantity]")
		}
		var qty int64
		if _, err := fmt.Sscan(qs, &qty); err != nil || qty < 1 {
			return invalidRequest(param+"[quantity]", "Invalid quantity: must be a positive integer")
		}
		if cs.currency == "" {
			cs.currency = pr.currency
		} else if cs.currency != pr.currency {
			return invalidRequest(param+"[price]", "All prices must use the same currency.")
		}
		if pr.recurring() {
			recurring++
			if firstRecurring == nil {
				firstRecurring = pr
			} else if firstRecurring.interval != pr.interval || firstRecurring.intervalCount != pr.intervalCount {
				return invalidRequest(param+"[price]", "All recurring prices must have the same billing interval.")
			}
		}
		cs.items = append(cs.items, lineItem{id: s.newID("li"), price: id, quantity: qty})
		cs.amount += pr.unitAmount * qty
	}
	switch {
	case cs.mode == "subscription" && recurring == 0:
		return invalidRequest("line_items", "You must provide at least one recurring price in `subscription` mode when using prices.")
	case cs.mode == "subscription" && recurring != len(items):
		return unsupported("line_items", "one-time prices in subscription mode")
	case cs.mode == "payment" && recurring > 0:
		return invalidRequest("line_items", "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.")
	}
	return nil
}

func (s *Stripe) apiGetSession(c *call) (any, error) {
	cs, err := s.getSession(c.id())
	if err != nil {
		return nil, notFound("checkout.session", c.id(), "session")
	}
	return s.renderSession(cs), nil
}

func (s *Stripe) apiSessionLineItems(c *call) (any, error) {
	cs, err := s.getSession(c.id())
	if err != nil {
		return nil, err
	}
	l := s.renderLineItems(cs)
	data, _ := l["data"].([]any)
	items := make([]obj, 0, len(data))
	for i := len(data) - 1; i >= 0; i-- { // listOf lists newest first; line items keep their order
		items = append(items, data[i].(obj))
	}
	return listOf(c, str(l["url"]), items)
}

func (s *Stripe) apiExpireSession(c *call) (any, error) {
	cs, err := s.getSession(c.id())
	if err != nil {
		return nil, err
	}
	if err := s.expireCheckout(cs); err != nil {
		return nil, err
	}
	return s.renderSession(cs), nil
}

func (s *Stripe) apiListSessions(c *call) (any, error) {
	if err := c.p.check("customer", "subscription", "payment_intent", "status", "limit", "starting_after",
		"ending_before", "created", "customer_details", "payment_link"); err != nil {
		return nil, err
	}
	return listOf(c, "/v1/checkout/sessions", filter(s.sessions.all(), func(cs *session) bool {
		return c.matches("customer", cs.customer) && c.matches("subscription", cs.subscription) &&
			c.matches("payment_intent", cs.paymentIntent) && c.matches("status", cs.status)
	}, s.renderSession))
}

// --- billing portal ---

func (s *Stripe) apiCreatePortalSession(c *call) (any, error) {
	if err := c.p.check("customer", "return_url", "configuration", "locale", "on_behalf_of", "flow_data"); err != nil {
		return nil, err
	}
	if c.p.has("flow_data") {
		return nil, unsupported("flow_data", "portal flows")
	}
	id, err := c.p.required("customer")
	if err != nil {
		return nil, err
	}
	if _, err := s.getCustomer(id, "customer"); err != nil {
		return nil, missingRef("customer", id, "customer")
	}
	ps := &portalSession{id: s.newID("bps"), customer: id, created: s.unix(), configuration: "bpc_Lstripelocal"}
	ps.returnURL, _ = c.p.str("return_url")
	ps.locale, _ = c.p.str("locale")
	if v, ok := c.p.str("configuration"); ok && v != "" {
		ps.configuration = v
	}
	ps.url = s.baseURL() + "/_local/portal/" + ps.id
	s.portals.add(ps.id, ps)
	s.emit("billing_portal.session.created", s.renderPortal(ps), nil)
	return s.renderPortal(ps), nil
}
