// Package invoices is the webhook function for Stripe's invoice events: invoice records and where collection (dunning) stands.
package invoices

import (
	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/webhook"
)

func init() {
	functions.HTTP(billing.InvoiceEvents.EntryPoint, webhook.NewFunction(billing.InvoiceEvents, Routes))
}
