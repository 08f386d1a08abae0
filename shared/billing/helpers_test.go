package billing_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/store/memstore"
)

// t0 is an arbitrary instant; at(m) is m minutes after it.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func at(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }

func ptr(tm time.Time) *time.Time { return &tm }

// change is the Change of event id, true as of asOf, handled a second later.
func change(eventID string, asOf time.Time) billing.Change {
	return billing.Change{EventID: eventID, AsOf: asOf, Now: asOf.Add(time.Second)}
}

// sub is a subscription whose items grant the given courses, with the period
// ending at end.
func sub(id, customer, uid, status string, end time.Time, courses ...string) billing.Subscription {
	s := billing.Subscription{
		ID: id, UID: uid, Customer: customer, Status: status,
		CurrentPeriodStart: ptr(end.AddDate(0, -1, 0)),
		CurrentPeriodEnd:   ptr(end),
		Metadata:           map[string]string{},
	}
	for _, c := range courses {
		s.Items = append(s.Items, billing.SubscriptionItem{Price: "price_" + c, Product: "prod_" + c, CourseID: c, Quantity: 1})
	}
	return s
}

// run applies fn as event id and returns the marker; a duplicate or an
// error fails the test.
func run(t *testing.T, st *memstore.Store, id string, fn billing.ApplyFunc) billing.EventRecord {
	t.Helper()
	rec, dup, err := st.ApplyEvent(context.Background(), billing.EventRecord{ID: id, Type: "test"}, fn)
	if err != nil {
		t.Fatalf("event %s: %v", id, err)
	}
	if dup {
		t.Fatalf("event %s: unexpectedly a duplicate", id)
	}
	return rec
}

func applySub(t *testing.T, st *memstore.Store, s billing.Subscription, ch billing.Change) billing.EventRecord {
	t.Helper()
	return run(t, st, ch.EventID, func(ctx context.Context, tx billing.Tx) (billing.Outcome, string, error) {
		return billing.ApplySubscription(ctx, tx, s, ch)
	})
}

func applyInvoice(t *testing.T, st *memstore.Store, in billing.Invoice, ch billing.Change) billing.EventRecord {
	t.Helper()
	return run(t, st, ch.EventID, func(ctx context.Context, tx billing.Tx) (billing.Outcome, string, error) {
		return billing.ApplyInvoice(ctx, tx, in, ch)
	})
}

func applySession(t *testing.T, st *memstore.Store, cs billing.CheckoutSession, ch billing.Change) billing.EventRecord {
	t.Helper()
	return run(t, st, ch.EventID, func(ctx context.Context, tx billing.Tx) (billing.Outcome, string, error) {
		return billing.ApplyCheckoutSession(ctx, tx, cs, ch)
	})
}

// seed writes documents directly, as an operator's fix or an earlier
// version of the code might have left them.
func seed(t *testing.T, st *memstore.Store, id string, write func(tx billing.Tx) error) {
	t.Helper()
	run(t, st, id, func(_ context.Context, tx billing.Tx) (billing.Outcome, string, error) {
		return billing.Applied, "", write(tx)
	})
}

// get reads one document with a Tx method, e.g. get(t, st, billing.Tx.Customer, "user-a").
func get[T any](t *testing.T, st *memstore.Store, read func(billing.Tx, context.Context, string) (*T, error), id string) *T {
	t.Helper()
	var out *T
	err := st.View(context.Background(), func(ctx context.Context, tx billing.Tx) error {
		var err error
		out, err = read(tx, ctx, id)
		return err
	})
	if err != nil {
		t.Fatalf("reading %s: %v", id, err)
	}
	return out
}

// must reads a document that has to exist.
func must[T any](t *testing.T, st *memstore.Store, read func(billing.Tx, context.Context, string) (*T, error), id string) *T {
	t.Helper()
	out := get(t, st, read, id)
	if out == nil {
		t.Fatalf("document %s missing", id)
	}
	return out
}

// onlyMarkerAdded checks that between two dumps nothing changed but the
// marker of event id.
func onlyMarkerAdded(t *testing.T, before, after map[string]string, id string) {
	t.Helper()
	marker := billing.EventsCollection + "/" + id
	if _, ok := before[marker]; ok {
		t.Errorf("marker %s existed before", marker)
	}
	if _, ok := after[marker]; !ok {
		t.Errorf("marker %s not written", marker)
	}
	for k, v := range after {
		if k == marker {
			continue
		}
		if w, ok := before[k]; !ok {
			t.Errorf("%s written: %s", k, v)
		} else if w != v {
			t.Errorf("%s changed\nbefore %s\n after %s", k, w, v)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			t.Errorf("%s deleted", k)
		}
	}
}

// checkEntitlements compares entitlements field by field, Until by instant.
func checkEntitlements(t *testing.T, got, want map[string]billing.Entitlement) {
	t.Helper()
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		g, gok := got[k]
		w, wok := want[k]
		switch {
		case !wok:
			t.Errorf("entitlement %q = %s, want none", k, fmtEntitlement(g))
		case !gok:
			t.Errorf("entitlement %q missing, want %s", k, fmtEntitlement(w))
		case g.Source != w.Source || g.SourceID != w.SourceID || g.Status != w.Status || !sameInstant(g.Until, w.Until):
			t.Errorf("entitlement %q = %s, want %s", k, fmtEntitlement(g), fmtEntitlement(w))
		}
	}
}

func fmtEntitlement(e billing.Entitlement) string {
	until := "never"
	if e.Until != nil {
		until = e.Until.Format(time.RFC3339)
	}
	return e.Source + " " + e.SourceID + " " + e.Status + " until " + until
}

func sameInstant(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func bySub(s billing.Subscription) billing.Entitlement {
	return billing.Entitlement{Source: "subscription", SourceID: s.ID, Status: s.Status, Until: s.CurrentPeriodEnd}
}

func byPurchase(id string) billing.Entitlement {
	return billing.Entitlement{Source: "purchase", SourceID: id, Status: "paid"}
}
