package billing_test

import (
	"strings"
	"testing"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/store/memstore"
)

func TestUsableID(t *testing.T) {
	for id, want := range map[string]bool{
		"sub_123": true, "intro-to-go": true, "ünïcode": true,
		"": false, ".": false, "..": false, "a/b": false, "__x__": false,
		"cus_\x80": false, strings.Repeat("a", 1501): false,
	} {
		if got := billing.UsableID(id); got != want {
			t.Errorf("UsableID(%q) = %v, want %v", id, got, want)
		}
	}
}

// Ids from a payload that cannot name a document would fail every
// delivery with a 5xx; they are recorded as unprocessable instead, and
// nothing else is written.
func TestUnusableIDsAreUnprocessable(t *testing.T) {
	cases := []struct {
		name  string
		apply func(t *testing.T, st *memstore.Store) billing.EventRecord
	}{
		{"subscription with a customer id that is not UTF-8", func(t *testing.T, st *memstore.Store) billing.EventRecord {
			return applySub(t, st, sub("sub_1", "cus_\x80", "", "active", at(60), "go"), change("evt_1", at(0)))
		}},
		{"subscription id with a slash", func(t *testing.T, st *memstore.Store) billing.EventRecord {
			return applySub(t, st, sub("sub/1", "cus_1", "", "active", at(60), "go"), change("evt_1", at(0)))
		}},
		{"invoice naming a reserved subscription id", func(t *testing.T, st *memstore.Store) billing.EventRecord {
			return applyInvoice(t, st, billing.Invoice{ID: "in_1", Customer: "cus_1", Subscription: "__sub__"}, change("evt_1", at(0)))
		}},
		{"checkout session with a customer id that is a path", func(t *testing.T, st *memstore.Store) billing.EventRecord {
			return applySession(t, st, billing.CheckoutSession{Mode: "payment", Purchase: billing.Purchase{ID: "cs_1", Customer: "cus/../x"}}, change("evt_1", at(0)))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := memstore.New()
			rec := c.apply(t, st)
			if rec.Outcome != billing.Unprocessable || !strings.Contains(rec.Detail, "cannot name a document") {
				t.Errorf("outcome %q %q, want unprocessable", rec.Outcome, rec.Detail)
			}
			if ids := st.IDs(billing.EventsCollection); len(st.Dump()) != 1 || len(ids) != 1 {
				t.Errorf("wrote %v, want only the marker", st.Dump())
			}
		})
	}
}

// A client_reference_id that cannot be a uid leaves the object unclaimed
// rather than failing on customers/{uid}.
func TestUnusableUIDLeavesObjectUnclaimed(t *testing.T) {
	st := memstore.New()
	rec := applySession(t, st, billing.CheckoutSession{Mode: "payment", UID: "a/b",
		Purchase: billing.Purchase{ID: "cs_1", UID: "a/b", Customer: "cus_1", CourseID: "go", Status: "complete", PaymentStatus: "paid"}}, change("evt_1", at(0)))
	if rec.Outcome != billing.Applied {
		t.Fatalf("outcome %q %q", rec.Outcome, rec.Detail)
	}
	if n := st.Len(billing.CustomersCollection); n != 0 {
		t.Errorf("%d customers written for an unusable uid", n)
	}
	if n := st.Len(billing.PurchasesCollection); n != 1 {
		t.Errorf("the purchase was not kept (unclaimed): %d", n)
	}
}
