package subscriptions

import (
	"time"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/stripeapi"
	"github.com/courseplatform/billing/shared/webhook"
)

// Routes maps every event type the group owns to its processor.
func Routes(src stripeapi.Source, now func() time.Time) map[string]webhook.Processor {
	routes := webhook.Routes(billing.SubscriptionEvents, webhook.Sync(src.Subscription, billing.ApplySubscription, now))
	customers := webhook.Sync(src.Customer, billing.ApplyCustomer, now)
	routes["customer.updated"] = customers
	routes["customer.deleted"] = customers
	return routes
}
