package checkoutsessions

import (
	"strings"
	"time"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/stripeapi"
	"github.com/courseplatform/billing/shared/webhook"
)

// Routes maps every event type the group owns to its processor.
func Routes(src stripeapi.Source, now func() time.Time) map[string]webhook.Processor {
	routes := webhook.Routes(billing.CheckoutSessionEvents, webhook.Sync(src.CheckoutSession, billing.ApplyCheckoutSession, now))
	payments := webhook.Sync(stripeapi.Payment, billing.ApplyPayment, now)
	for t := range routes {
		if strings.HasPrefix(t, "charge.") {
			routes[t] = payments
		}
	}
	return routes
}
