package catalog

import (
	"strings"
	"time"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/stripeapi"
	"github.com/courseplatform/billing/shared/webhook"
)

// Routes maps every event type the group owns to its processor.
func Routes(src stripeapi.Source, now func() time.Time) map[string]webhook.Processor {
	products := webhook.Sync(src.Product, billing.ApplyProduct, now)
	prices := webhook.Sync(src.Price, billing.ApplyPrice, now)
	routes := make(map[string]webhook.Processor, len(billing.CatalogEvents.Types))
	for _, t := range billing.CatalogEvents.Types {
		if strings.HasPrefix(t, "price.") {
			routes[t] = prices
		} else {
			routes[t] = products
		}
	}
	return routes
}
