// Package portal is the function the web app calls to let a signed-in user
// manage their billing: it answers with the URL of a Stripe Billing Portal
// session for the user's own Stripe customer.
package portal

import (
	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/courseplatform/billing/shared/frontend"
)

// EntryPoint is the name the function registers and is deployed under.
const EntryPoint = "Portal"

func init() {
	functions.HTTP(EntryPoint, frontend.NewFunction(EntryPoint, New))
}
