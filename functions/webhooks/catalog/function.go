// Package catalog is the webhook function for Stripe's product and price events: the course catalog (courses/{courseId}) kept in step with what Stripe sells.
package catalog

import (
	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/webhook"
)

func init() {
	functions.HTTP(billing.CatalogEvents.EntryPoint, webhook.NewFunction(billing.CatalogEvents, Routes))
}
