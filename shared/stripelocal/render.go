package stripelocal

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/stripe/stripe-go/v76"
)

// obj is a rendered Stripe object. Renders use only obj, []any, string,
// int64, bool and nil, so that deep copies, diffs and version transforms can
// walk them without knowing the object kind.
type obj = map[string]any

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

func meta(m map[string]string) obj {
	out := obj{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func list(url string, data []any) obj {
	return obj{"object": "list", "data": data, "has_more": false, "url": url}
}

// The fields of stripe-go v76's structs that the stand-in does not model are
// rendered with a neutral value of their JSON type, so that every object
// carries every key a v76 client knows, as Stripe's own answers do.
// Includable fields (present only when expanded) are left out.
type fillField struct {
	name string
	def  func() any
}

var fillCache sync.Map // reflect.Type → []fillField

func fillFields(t reflect.Type) []fillField {
	if f, ok := fillCache.Load(t); ok {
		return f.([]fillField)
	}
	var out []fillField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			continue // APIResource: response metadata, not JSON
		}
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" {
			continue
		}
		var def func() any
		switch k := f.Type.Kind(); {
		case strings.Contains(opts, "string"):
			def = func() any { return nil }
		case k == reflect.Bool:
			def = func() any { return false }
		case k >= reflect.Int && k <= reflect.Float64:
			def = func() any { return int64(0) }
		case k == reflect.Slice:
			def = func() any { return []any{} }
		case k == reflect.Map:
			def = func() any { return obj{} }
		default:
			def = func() any { return nil }
		}
		out = append(out, fillField{name, def})
	}
	fillCache.Store(t, out)
	return out
}

// withV76Keys adds the keys of sample's type that m lacks, except skip.
func withV76Keys(m obj, sample any, skip ...string) obj {
	sk := map[string]bool{}
	for _, k := range skip {
		sk[k] = true
	}
	for _, f := range fillFields(reflect.TypeOf(sample)) {
		if _, ok := m[f.name]; ok || sk[f.name] {
			continue
		}
		m[f.name] = f.def()
	}
	return m
}

func (s *Stripe) renderCustomer(c *customer) obj {
	return withV76Keys(obj{
		"id": c.id, "object": "customer",
		"address": nil, "balance": int64(0), "created": c.created, "currency": nullStr(c.currency),
		"default_source": nil, "delinquent": false, "description": nullStr(c.description), "discount": nil,
		"email": nullStr(c.email), "invoice_prefix": c.invoicePrefix,
		"invoice_settings": obj{"custom_fields": nil, "default_payment_method": nil, "footer": nil, "rendering_options": nil},
		"livemode":         s.opts.Livemode, "metadata": meta(c.metadata), "name": nullStr(c.name),
		"next_invoice_sequence": c.nextInvoiceSeq, "phone": nullStr(c.phone), "preferred_locales": []any{},
		"shipping": nil, "tax_exempt": "none", "test_clock": nil,
	}, stripe.Customer{}, "deleted", "sources", "subscriptions", "tax_ids", "tax", "cash_balance", "invoice_credit_balance")
}

func deletedStub(id, kind string) obj {
	return obj{"id": id, "object": kind, "deleted": true}
}

func (s *Stripe) renderProduct(p *product) obj {
	return withV76Keys(obj{
		"id": p.id, "object": "product", "active": p.active, "created": p.created, "default_price": nullStr(p.defaultPrice),
		"description": nullStr(p.description), "features": []any{}, "images": []any{}, "livemode": s.opts.Livemode,
		"metadata": meta(p.metadata), "name": p.name, "package_dimensions": nil, "shippable": nil,
		"statement_descriptor": nil, "tax_code": nil, "type": "service", "unit_label": nil, "updated": p.updated, "url": nil,
	}, stripe.Product{}, "deleted")
}

func (s *Stripe) renderPrice(p *price) obj {
	m := obj{
		"id": p.id, "object": "price", "active": p.active, "billing_scheme": "per_unit", "created": p.created,
		"currency": p.currency, "custom_unit_amount": nil, "livemode": s.opts.Livemode, "lookup_key": nullStr(p.lookupKey),
		"metadata": meta(p.metadata), "nickname": nullStr(p.nickname), "product": p.product, "recurring": nil,
		"tax_behavior": "unspecified", "tiers_mode": nil, "transform_quantity": nil, "type": "one_time",
		"unit_amount": p.unitAmount, "unit_amount_decimal": strconv.FormatInt(p.unitAmount, 10),
	}
	if p.recurring() {
		m["type"] = "recurring"
		m["recurring"] = obj{"aggregate_usage": nil, "interval": p.interval, "interval_count": p.intervalCount,
			"meter": nil, "trial_period_days": nil, "usage_type": "licensed"}
	}
	return withV76Keys(m, stripe.Price{}, "deleted", "currency_options", "tiers")
}

// renderPlan is the legacy view of a recurring price that API versions up
// to 2025-03-31 still put on subscription items and invoice lines.
func (s *Stripe) renderPlan(p *price) any {
	if !p.recurring() {
		return nil
	}
	return withV76Keys(obj{
		"id": p.id, "object": "plan", "active": p.active, "aggregate_usage": nil, "amount": p.unitAmount,
		"amount_decimal": strconv.FormatInt(p.unitAmount, 10), "billing_scheme": "per_unit", "created": p.created,
		"currency": p.currency, "interval": p.interval, "interval_count": p.intervalCount, "livemode": s.opts.Livemode,
		"metadata": meta(p.metadata), "meter": nil, "nickname": nullStr(p.nickname), "product": p.product,
		"tiers_mode": nil, "transform_usage": nil, "trial_period_days": nil, "usage_type": "licensed",
	}, stripe.Plan{}, "deleted", "tiers")
}

func (s *Stripe) renderSubscription(sub *subscription) obj {
	items := make([]any, 0, len(sub.items))
	for _, it := range sub.items {
		p := s.prices.get(it.price)
		items = append(items, withV76Keys(obj{
			"id": it.id, "object": "subscription_item", "billing_thresholds": nil, "created": it.created,
			"discounts": []any{}, "metadata": obj{}, "plan": s.renderPlan(p), "price": s.renderPrice(p),
			"quantity": it.quantity, "subscription": sub.id, "tax_rates": []any{},
		}, stripe.SubscriptionItem{}, "deleted"))
	}
	var pause any
	if sub.pauseBehavior != "" {
		pause = obj{"behavior": sub.pauseBehavior, "resumes_at": nullInt(sub.pauseResumesAt)}
	}
	itemList := list("/v1/subscription_items?subscription="+sub.id, items)
	itemList["total_count"] = int64(len(items))
	return withV76Keys(obj{
		"id": sub.id, "object": "subscription", "application": nil, "application_fee_percent": nil,
		"automatic_tax":        obj{"enabled": false, "liability": nil},
		"billing_cycle_anchor": sub.anchor.Unix(), "billing_cycle_anchor_config": nil, "billing_thresholds": nil,
		"cancel_at": nullInt(sub.cancelAt), "cancel_at_period_end": sub.cancelAtPeriodEnd,
		"canceled_at": nullInt(sub.canceledAt),
		"cancellation_details": obj{"comment": nullStr(sub.cancelComment), "feedback": nullStr(sub.cancelFeedback),
			"reason": nullStr(sub.cancelReason)},
		"collection_method": "charge_automatically", "created": sub.created, "currency": sub.currency,
		"current_period_end": sub.periodEnd.Unix(), "current_period_start": sub.periodStart.Unix(),
		"customer": sub.customer, "days_until_due": nil, "default_payment_method": nil, "default_source": nil,
		"default_tax_rates": []any{}, "description": nullStr(sub.description), "discount": nil, "discounts": []any{},
		"ended_at":         nullInt(sub.endedAt),
		"invoice_settings": obj{"account_tax_ids": nil, "issuer": obj{"type": "self"}},
		"items":            itemList, "latest_invoice": nullStr(sub.latestInvoice), "livemode": s.opts.Livemode,
		"metadata": meta(sub.metadata), "next_pending_invoice_item_invoice": nil, "on_behalf_of": nil,
		"pause_collection": pause,
		"payment_settings": obj{"payment_method_options": nil, "payment_method_types": nil,
			"save_default_payment_method": "off"},
		"pending_invoice_item_interval": nil, "pending_setup_intent": nil, "pending_update": nil, "schedule": nil,
		"start_date": sub.startDate, "status": sub.status, "test_clock": nil, "transfer_data": nil,
		"trial_end":      nullInt(sub.trialEnd),
		"trial_settings": obj{"end_behavior": obj{"missing_payment_method": "create_invoice"}},
		"trial_start":    nullInt(sub.trialStart),
	}, stripe.Subscription{})
}

func money(amount int64, currency string) string {
	return fmt.Sprintf("%s %d.%02d", strings.ToUpper(currency), amount/100, amount%100)
}

func (s *Stripe) renderInvoice(in *invoice) obj {
	lines := make([]any, 0, len(in.lines))
	for _, l := range in.lines {
		p := s.prices.get(l.price)
		name := p.product
		if prod := s.products.get(p.product); prod != nil {
			name = prod.name
		}
		desc := fmt.Sprintf("%d × %s (at %s / %s)", l.quantity, name, money(p.unitAmount, p.currency), p.interval)
		if in.billingReason == "subscription_create" && l.amount == 0 && p.unitAmount != 0 {
			desc = "Trial period for " + name
		}
		lines = append(lines, withV76Keys(obj{
			"id": l.id, "object": "line_item", "amount": l.amount, "amount_excluding_tax": l.amount,
			"currency": in.currency, "description": desc, "discount_amounts": []any{}, "discountable": true,
			"discounts": []any{}, "invoice": in.id, "invoice_item": nil, "livemode": s.opts.Livemode, "metadata": obj{},
			"period": obj{"end": l.periodEnd, "start": l.periodStart}, "plan": s.renderPlan(p), "price": s.renderPrice(p),
			"proration": false, "proration_details": obj{"credited_items": nil}, "quantity": l.quantity,
			"subscription": nullStr(in.subscription), "subscription_item": nullStr(l.subItem), "tax_amounts": []any{},
			"tax_rates": []any{}, "type": "subscription", "unit_amount_excluding_tax": strconv.FormatInt(p.unitAmount, 10),
		}, stripe.InvoiceLineItem{}))
	}
	lineList := list("/v1/invoices/"+in.id+"/lines", lines)
	lineList["total_count"] = int64(len(lines))
	total := in.total()
	var endingBalance, effectiveAt any
	if in.finalizedAt != 0 {
		endingBalance, effectiveAt = int64(0), in.finalizedAt
	}
	var hosted, pdf any
	if in.status != "draft" {
		hosted, pdf = in.hostedURL, in.hostedURL+"/pdf"
	}
	var subDetails any
	if in.subscription != "" {
		subDetails = obj{"metadata": meta(in.subMetadata)}
	}
	return withV76Keys(obj{
		"id": in.id, "object": "invoice", "account_country": "US", "account_name": "stripelocal",
		"account_tax_ids": nil, "amount_due": total, "amount_paid": in.amountPaid,
		"amount_remaining": total - in.amountPaid, "amount_shipping": int64(0), "application": nil,
		"application_fee_amount": nil, "attempt_count": in.attemptCount, "attempted": in.attempted,
		"auto_advance": in.autoAdvance, "automatic_tax": obj{"enabled": false, "liability": nil, "status": nil},
		"billing_reason": in.billingReason, "charge": nullStr(in.charge), "collection_method": "charge_automatically",
		"created": in.created, "currency": in.currency, "custom_fields": nil, "customer": in.customer,
		"customer_address": nil, "customer_email": nullStr(in.customerEmail), "customer_name": nullStr(in.customerName),
		"customer_phone": nil, "customer_shipping": nil, "customer_tax_exempt": "none", "customer_tax_ids": []any{},
		"default_payment_method": nil, "default_source": nil, "default_tax_rates": []any{}, "description": nil,
		"discount": nil, "discounts": []any{}, "due_date": nil, "effective_at": effectiveAt,
		"ending_balance": endingBalance, "footer": nil, "from_invoice": nil, "hosted_invoice_url": hosted,
		"invoice_pdf": pdf, "issuer": obj{"type": "self"}, "last_finalization_error": nil, "latest_revision": nil,
		"lines": lineList, "livemode": s.opts.Livemode, "metadata": obj{},
		"next_payment_attempt": nullInt(in.nextPaymentAttempt), "number": nullStr(in.number), "on_behalf_of": nil,
		"paid": in.status == "paid", "paid_out_of_band": in.paidOutOfBand, "payment_intent": nullStr(in.paymentIntent),
		"payment_settings": obj{"default_mandate": nil, "payment_method_options": nil, "payment_method_types": nil},
		"period_end":       in.periodEnd, "period_start": in.periodStart, "post_payment_credit_notes_amount": int64(0),
		"pre_payment_credit_notes_amount": int64(0), "quote": nil, "receipt_number": nil, "rendering": nil,
		"rendering_options": nil, "shipping_cost": nil, "shipping_details": nil, "starting_balance": int64(0),
		"statement_descriptor": nil, "status": in.status,
		"status_transitions": obj{"finalized_at": nullInt(in.finalizedAt), "marked_uncollectible_at": nullInt(in.uncollectibleAt),
			"paid_at": nullInt(in.paidAt), "voided_at": nullInt(in.voidedAt)},
		"subscription": nullStr(in.subscription), "subscription_details": subDetails, "subtotal": total,
		"subtotal_excluding_tax": total, "tax": nil, "test_clock": nil, "total": total, "total_discount_amounts": []any{},
		"total_excluding_tax": total, "total_tax_amounts": []any{}, "transfer_data": nil, "webhooks_delivered_at": nil,
	}, stripe.Invoice{}, "deleted", "subscription_proration_date", "threshold_reason")
}

func (s *Stripe) renderSession(cs *session) obj {
	var details any
	if cs.detailsEmail != "" {
		details = obj{"address": nil, "email": cs.detailsEmail, "name": nullStr(cs.detailsName), "phone": nil,
			"tax_exempt": "none", "tax_ids": []any{}}
	}
	var url, invoiceCreation, customerCreation, pmCollection any
	if cs.status == "open" {
		url = cs.url
	}
	if cs.mode == "payment" {
		invoiceCreation = obj{"enabled": false, "invoice_data": obj{"account_tax_ids": nil, "custom_fields": nil,
			"description": nil, "footer": nil, "issuer": nil, "metadata": obj{}, "rendering_options": nil}}
		customerCreation = cs.customerCreation
	} else {
		pmCollection = "always"
	}
	return withV76Keys(obj{
		"id": cs.id, "object": "checkout.session", "after_expiration": nil, "allow_promotion_codes": nil,
		"amount_subtotal": cs.amount, "amount_total": cs.amount,
		"automatic_tax":              obj{"enabled": false, "liability": nil, "status": nil},
		"billing_address_collection": nil, "cancel_url": nullStr(cs.cancelURL),
		"client_reference_id": nullStr(cs.clientReferenceID), "client_secret": nil, "consent": nil,
		"consent_collection": nil, "created": cs.created, "currency": cs.currency, "currency_conversion": nil,
		"custom_fields": []any{},
		"custom_text": obj{"after_submit": nil, "shipping_address": nil, "submit": nil,
			"terms_of_service_acceptance": nil},
		"customer": nullStr(cs.customer), "customer_creation": customerCreation, "customer_details": details,
		"customer_email": nullStr(cs.customerEmail), "expires_at": cs.expiresAt, "invoice": nullStr(cs.invoice),
		"invoice_creation": invoiceCreation, "livemode": s.opts.Livemode, "locale": nullStr(cs.locale),
		"metadata": meta(cs.metadata), "mode": cs.mode, "payment_intent": nullStr(cs.paymentIntent),
		"payment_link": nil, "payment_method_collection": pmCollection, "payment_method_configuration_details": nil,
		"payment_method_options": obj{}, "payment_method_types": []any{"card"}, "payment_status": cs.paymentStatus,
		"phone_number_collection": obj{"enabled": false}, "recovered_from": nil, "setup_intent": nil,
		"shipping_address_collection": nil, "shipping_cost": nil, "shipping_details": nil, "shipping_options": []any{},
		"status": cs.status, "submit_type": nil, "subscription": nullStr(cs.subscription),
		"success_url":   nullStr(cs.successURL),
		"total_details": obj{"amount_discount": int64(0), "amount_shipping": int64(0), "amount_tax": int64(0)},
		"ui_mode":       "hosted", "url": url,
	}, stripe.CheckoutSession{}, "line_items", "redirect_on_completion", "return_url")
}

func (s *Stripe) renderLineItems(cs *session) obj {
	data := make([]any, 0, len(cs.items))
	for _, it := range cs.items {
		p := s.prices.get(it.price)
		desc := p.product
		if prod := s.products.get(p.product); prod != nil {
			desc = prod.name
		}
		amount := p.unitAmount * it.quantity
		data = append(data, withV76Keys(obj{
			"id": it.id, "object": "item", "amount_discount": int64(0), "amount_subtotal": amount,
			"amount_tax": int64(0), "amount_total": amount, "currency": p.currency, "description": desc,
			"price": s.renderPrice(p), "quantity": it.quantity,
		}, stripe.LineItem{}))
	}
	return list("/v1/checkout/sessions/"+cs.id+"/line_items", data)
}

func (s *Stripe) renderPortal(ps *portalSession) obj {
	return withV76Keys(obj{
		"id": ps.id, "object": "billing_portal.session", "configuration": ps.configuration, "created": ps.created,
		"customer": ps.customer, "flow": nil, "livemode": s.opts.Livemode, "locale": nullStr(ps.locale),
		"on_behalf_of": nil, "return_url": nullStr(ps.returnURL), "url": ps.url,
	}, stripe.BillingPortalSession{})
}

// renderID renders the object an id names, for expansion; ok is false for
// ids the stand-in does not keep (payment intents, charges).
func (s *Stripe) renderID(id string) (obj, bool) {
	prefix, _, _ := strings.Cut(id, "_")
	switch prefix {
	case "cus":
		if c := s.customers.get(id); c != nil {
			if c.deleted {
				return deletedStub(id, "customer"), true
			}
			return s.renderCustomer(c), true
		}
	case "prod":
		if p := s.products.get(id); p != nil {
			return s.renderProduct(p), true
		}
	case "price":
		if p := s.prices.get(id); p != nil {
			return s.renderPrice(p), true
		}
	case "sub":
		if sub := s.subs.get(id); sub != nil {
			return s.renderSubscription(sub), true
		}
	case "in":
		if in := s.invoices.get(id); in != nil {
			return s.renderInvoice(in), true
		}
	case "cs":
		if cs := s.sessions.get(id); cs != nil {
			return s.renderSession(cs), true
		}
	}
	return nil, false
}

// deepCopy copies a render so that a transform never changes a stored one.
func deepCopy(v any) any {
	switch t := v.(type) {
	case obj:
		out := make(obj, len(t))
		for k, x := range t {
			out[k] = deepCopy(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = deepCopy(x)
		}
		return out
	}
	return v
}

// diff is an event's previous_attributes: the old value of every top-level
// key that changed. Plain hashes (no "object" key) are diffed inside, as
// Stripe does for status_transitions or metadata; lists and objects are
// reported whole.
func diff(prev, cur obj) obj {
	out := obj{}
	for k, pv := range prev {
		cv, ok := cur[k]
		if !ok {
			out[k] = pv
			continue
		}
		if reflect.DeepEqual(pv, cv) {
			continue
		}
		pm, pok := pv.(obj)
		cm, cok := cv.(obj)
		if pok && cok && pm["object"] == nil && cm["object"] == nil {
			out[k] = diff(pm, cm)
			continue
		}
		out[k] = pv
	}
	for k := range cur {
		if _, ok := prev[k]; !ok {
			out[k] = nil
		}
	}
	return out
}

// sortedKeys is for deterministic iteration.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
