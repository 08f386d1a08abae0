package stripelocal

import (
	"regexp"
	"strings"
)

var versionRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$`)

// validVersion reports whether v looks like a Stripe API version.
func validVersion(v string) bool { return versionRE.MatchString(v) }

// basil reports whether objects at version v have the 2025-03-31 billing
// shapes. Versions compare by their date.
func basil(v string) bool { return v >= "2025-03-31" }

// atVersion returns a render as an endpoint or client at version v sees it.
// Renders are kept at APIVersion; newer versions are derived from them.
func atVersion(v any, version string) any {
	if !basil(version) {
		return v
	}
	out := deepCopy(v)
	walkObjects(out, toBasil)
	return out
}

// walkObjects calls f on every Stripe object in v, innermost first.
func walkObjects(v any, f func(obj)) {
	switch t := v.(type) {
	case obj:
		for _, k := range sortedKeys(t) {
			walkObjects(t[k], f)
		}
		if _, ok := t["object"].(string); ok {
			f(t)
		}
	case []any:
		for _, x := range t {
			walkObjects(x, f)
		}
	}
}

// toBasil rewrites one object from 2023-10-16 to 2025-03-31.basil, for the
// fields the billing functions read:
//   - subscription: current_period_start/end move onto each item;
//   - invoice: subscription (and subscription_details) move under
//     parent.subscription_details; paid, payment_intent and charge are gone;
//   - invoice line item: subscription fields move under parent, price under
//     pricing.
func toBasil(m obj) {
	switch m["object"] {
	case "subscription":
		start, end := m["current_period_start"], m["current_period_end"]
		delete(m, "current_period_start")
		delete(m, "current_period_end")
		if items, ok := m["items"].(obj); ok {
			if data, ok := items["data"].([]any); ok {
				for _, it := range data {
					if it, ok := it.(obj); ok {
						it["current_period_start"], it["current_period_end"] = start, end
					}
				}
			}
		}
		m["billing_mode"] = obj{"type": "classic"}
	case "invoice":
		var parent any
		if sub := m["subscription"]; sub != nil {
			details, _ := m["subscription_details"].(obj)
			md := any(obj{})
			if details != nil {
				md = details["metadata"]
			}
			parent = obj{"type": "subscription_details", "quote_details": nil,
				"subscription_details": obj{"metadata": md, "subscription": sub, "subscription_proration_date": nil}}
		}
		for _, k := range []string{"subscription", "subscription_details", "subscription_proration_date", "paid",
			"paid_out_of_band", "payment_intent", "charge", "quote", "tax"} {
			delete(m, k)
		}
		m["parent"] = parent
		m["amount_overpaid"] = int64(0)
		m["total_taxes"] = []any{}
	case "line_item":
		if !strings.HasPrefix(str(m["id"]), "il_") {
			return
		}
		var parent any
		if sub := m["subscription"]; sub != nil {
			parent = obj{"type": "subscription_item_details", "invoice_item_details": nil,
				"subscription_item_details": obj{"invoice_item": nil, "proration": m["proration"],
					"proration_details": m["proration_details"], "subscription": sub,
					"subscription_item": m["subscription_item"]}}
		}
		var pricing any
		if p, ok := m["price"].(obj); ok {
			pricing = obj{"type": "price_details", "unit_amount_decimal": p["unit_amount_decimal"],
				"price_details": obj{"price": p["id"], "product": p["product"]}}
		}
		for _, k := range []string{"subscription", "subscription_item", "type", "proration", "proration_details",
			"invoice_item", "plan", "price", "tax_amounts", "unit_amount_excluding_tax", "amount_excluding_tax"} {
			delete(m, k)
		}
		m["parent"], m["pricing"] = parent, pricing
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
