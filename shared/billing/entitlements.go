package billing

import (
	"slices"
	"sort"
	"time"
)

// Entitlement is access to one course, and what grants it.
type Entitlement struct {
	// Source is "subscription" or "purchase".
	Source string `firestore:"source" json:"source"`
	// SourceID is the subscription or checkout session id.
	SourceID string `firestore:"sourceId" json:"sourceId"`
	// Status is the granting subscription's status, or "paid".
	Status string `firestore:"status" json:"status"`
	// Until is the end of the paid period; nil for purchases, which do not
	// lapse.
	Until *time.Time `firestore:"until" json:"until"`
}

// Entitled reports whether a subscription status grants access. past_due
// keeps access while Stripe retries the payment (Smart Retries); unpaid,
// canceled, incomplete, incomplete_expired and paused do not.
func Entitled(status string) bool {
	switch status {
	case "active", "trialing", "past_due":
		return true
	}
	return false
}

// EntitlementKey names what an item grants: its course, or its Stripe
// product when the price names no course.
func (it SubscriptionItem) EntitlementKey() string {
	if it.CourseID != "" {
		return it.CourseID
	}
	return it.Product
}

// DeriveEntitlements computes a user's access from all of their
// subscriptions and purchases, never from one event alone: a canceled
// subscription does not take away what another one or a purchase grants.
func DeriveEntitlements(subs []Subscription, purchases []Purchase) map[string]Entitlement {
	out := map[string]Entitlement{}
	// Sorted copies, so that the result does not depend on the order of
	// the inputs and the caller's slices are left alone.
	subs = slices.Clone(subs)
	purchases = slices.Clone(purchases)
	sort.Slice(subs, func(i, j int) bool { return subs[i].ID < subs[j].ID })
	sort.Slice(purchases, func(i, j int) bool { return purchases[i].ID < purchases[j].ID })
	for _, p := range purchases {
		if p.Grants() && p.CourseID != "" {
			if _, ok := out[p.CourseID]; !ok {
				out[p.CourseID] = Entitlement{Source: "purchase", SourceID: p.ID, Status: "paid"}
			}
		}
	}
	for _, s := range subs {
		if !Entitled(s.Status) {
			continue
		}
		for _, it := range s.Items {
			key := it.EntitlementKey()
			if key == "" {
				continue
			}
			e := Entitlement{Source: "subscription", SourceID: s.ID, Status: s.Status, Until: s.CurrentPeriodEnd}
			if cur, ok := out[key]; ok && !grantsLonger(e, cur) {
				continue
			}
			out[key] = e
		}
	}
	return out
}

// grantsLonger reports whether a grants access longer than b: a purchase
// never lapses, a later period end outlasts an earlier one. On a tie the
// entitlement already chosen (the lower subscription id) stays.
func grantsLonger(a, b Entitlement) bool {
	switch {
	case b.Until == nil:
		return false
	case a.Until == nil:
		return true
	default:
		return a.Until.After(*b.Until)
	}
}
