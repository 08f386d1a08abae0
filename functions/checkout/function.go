// Package checkout is the function the web app calls to buy a course: it
// answers a signed-in user's {"courseId": …} with the URL of a Stripe
// Checkout Session for that course's price, as the catalog says.
package checkout

import (
	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/courseplatform/billing/shared/frontend"
)

// EntryPoint is the name the function registers and is deployed under.
const EntryPoint = "Checkout"

func init() {
	functions.HTTP(EntryPoint, frontend.NewFunction(EntryPoint, New))
}
