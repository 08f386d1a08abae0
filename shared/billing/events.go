package billing

// Group is one webhook function's share of Stripe's events. Each group is
// deployed as its own function with its own Stripe endpoint and signing
// secret, so the lists below are the single source for the code that
// dispatches events and for the endpoints' enabled_events.
type Group struct {
	// Name is the short name used in logs, routes and configuration.
	Name string
	// EntryPoint is the name the function registers with the Functions
	// Framework and the entry point Cloud Run functions invoke.
	EntryPoint string
	// Types lists the Stripe event types the group owns.
	Types []string
}

// Owns reports whether the group owns an event type.
func (g Group) Owns(eventType string) bool {
	for _, t := range g.Types {
		if t == eventType {
			return true
		}
	}
	return false
}

// The webhook event groups, one per webhook function.
var (
	CheckoutSessionEvents = Group{
		Name:       "checkoutsessions",
		EntryPoint: "WebhookCheckoutSessions",
		Types: []string{
			"checkout.session.completed",
			"checkout.session.async_payment_succeeded",
			"checkout.session.async_payment_failed",
			"checkout.session.expired",
			// What happens to a purchase's money afterwards: a full
			// refund or a dispute takes the course away, a won dispute
			// gives it back.
			"charge.refunded",
			"charge.dispute.created",
			"charge.dispute.updated",
			"charge.dispute.closed",
		},
	}
	SubscriptionEvents = Group{
		Name:       "subscriptions",
		EntryPoint: "WebhookSubscriptions",
		Types: []string{
			"customer.subscription.created",
			"customer.subscription.updated",
			"customer.subscription.deleted",
			"customer.subscription.paused",
			"customer.subscription.resumed",
			"customer.subscription.trial_will_end",
			// The customer's own events keep the customer mapping
			// (owner, email, deletion) that subscriptions resolve
			// their owner through.
			"customer.updated",
			"customer.deleted",
		},
	}
	InvoiceEvents = Group{
		Name:       "invoices",
		EntryPoint: "WebhookInvoices",
		Types: []string{
			"invoice.payment_succeeded",
			"invoice.payment_failed",
			"invoice.paid",
			"invoice.payment_action_required",
			"invoice.finalized",
			"invoice.voided",
			"invoice.marked_uncollectible",
			// Any other change (a retry rescheduled or dropped when the
			// subscription ends, a due date moved) comes only as this.
			"invoice.updated",
		},
	}
	// CatalogEvents keep courses/{courseId} in step with the Stripe
	// products and prices that sell them.
	CatalogEvents = Group{
		Name:       "catalog",
		EntryPoint: "WebhookCatalog",
		Types: []string{
			"product.created",
			"product.updated",
			"product.deleted",
			"price.created",
			"price.updated",
			"price.deleted",
		},
	}
)

// Groups returns every webhook group, in a stable order.
func Groups() []Group {
	return []Group{CheckoutSessionEvents, SubscriptionEvents, InvoiceEvents, CatalogEvents}
}

// GroupOf returns the group that owns an event type.
func GroupOf(eventType string) (Group, bool) {
	for _, g := range Groups() {
		if g.Owns(eventType) {
			return g, true
		}
	}
	return Group{}, false
}
