package invoices

import (
	"time"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/stripeapi"
	"github.com/courseplatform/billing/shared/webhook"
)

// Routes maps every event type the group owns to its processor.
func Routes(src stripeapi.Source, now func() time.Time) map[string]webhook.Processor {
	return webhook.Routes(billing.InvoiceEvents, webhook.Sync(src.Invoice, billing.ApplyInvoice, now))
}
