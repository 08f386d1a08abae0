// Package subscriptions is the webhook function for Stripe's subscription events: subscription state and the access it grants.
package subscriptions

import (
	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/webhook"
)

func init() {
	functions.HTTP(billing.SubscriptionEvents.EntryPoint, webhook.NewFunction(billing.SubscriptionEvents, Routes))
}
