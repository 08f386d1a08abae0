// Package checkoutsessions is the webhook function for Stripe's Checkout Session events: purchases, enrolment and the link from Stripe customer to platform user.
package checkoutsessions

import (
	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/webhook"
)

func init() {
	functions.HTTP(billing.CheckoutSessionEvents.EntryPoint, webhook.NewFunction(billing.CheckoutSessionEvents, Routes))
}
