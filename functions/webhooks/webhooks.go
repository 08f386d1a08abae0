// Package webhooks lists the webhook functions, for the tools that host
// them all in one process (the dev server, the chaos run).
package webhooks

import (
	"github.com/courseplatform/billing/functions/webhooks/catalog"
	"github.com/courseplatform/billing/functions/webhooks/checkoutsessions"
	"github.com/courseplatform/billing/functions/webhooks/invoices"
	"github.com/courseplatform/billing/functions/webhooks/subscriptions"
	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/webhook"
)

// Function is one webhook function: its event group and its processors.
type Function struct {
	Group  billing.Group
	Routes webhook.RoutesFunc
}

// All returns every webhook function, in the order of billing.Groups.
func All() []Function {
	routes := map[string]webhook.RoutesFunc{
		billing.CheckoutSessionEvents.Name: checkoutsessions.Routes,
		billing.SubscriptionEvents.Name:    subscriptions.Routes,
		billing.InvoiceEvents.Name:         invoices.Routes,
		billing.CatalogEvents.Name:         catalog.Routes,
	}
	var out []Function
	for _, g := range billing.Groups() {
		out = append(out, Function{Group: g, Routes: routes[g.Name]})
	}
	return out
}
