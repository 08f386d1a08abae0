// Package billing is the root of the course platform's billing functions.
// The Cloud Functions Go buildpack builds this package; importing the
// function packages registers each one with the Functions Framework, and
// the deployment's entry point picks which one an instance serves.
package billing

import (
	_ "github.com/courseplatform/billing/functions/checkout"
	_ "github.com/courseplatform/billing/functions/portal"
	_ "github.com/courseplatform/billing/functions/webhooks/catalog"
	_ "github.com/courseplatform/billing/functions/webhooks/checkoutsessions"
	_ "github.com/courseplatform/billing/functions/webhooks/invoices"
	_ "github.com/courseplatform/billing/functions/webhooks/subscriptions"
)
