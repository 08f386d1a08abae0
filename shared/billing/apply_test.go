package billing_test

import (
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/store/memstore"
	"github.com/courseplatform/billing/shared/stripeapi"
)

// Shorthands for the Tx readers, used with get and must.
var (
	subscriptionDoc   = billing.Tx.Subscription
	invoiceDoc        = billing.Tx.Invoice
	purchaseDoc       = billing.Tx.Purchase
	stripeCustomerDoc = billing.Tx.StripeCustomer
	customerDoc       = billing.Tx.Customer
	eventDoc          = billing.Tx.Event
)

var periodEnd = at(30 * 24 * 60)

func TestApplySubscription(t *testing.T) {
	active := sub("sub_1", "cus_1", "", "active", periodEnd, "go")
	withUID := func(s billing.Subscription, uid string) billing.Subscription {
		s.UID = uid
		return s
	}
	withStatus := func(s billing.Subscription, status string) billing.Subscription {
		s.Status = status
		return s
	}
	mapping := func(cus, uid string) func(t *testing.T, st *memstore.Store) {
		return func(t *testing.T, st *memstore.Store) {
			seed(t, st, "seed-mapping-"+cus, func(tx billing.Tx) error {
				return tx.PutStripeCustomer(cus, &billing.StripeCustomer{UID: uid, UpdatedAt: at(-60)})
			})
		}
	}

	tests := []struct {
		name        string
		before      func(t *testing.T, st *memstore.Store)
		sub         billing.Subscription
		ch          billing.Change
		wantOutcome billing.Outcome
		check       func(t *testing.T, st *memstore.Store, ch billing.Change)
	}{
		{
			name:        "new subscription with metadata uid: stored with uid, customer claimed, course granted",
			sub:         withUID(active, "user-a"),
			ch:          change("evt_1", at(0)),
			wantOutcome: billing.Applied,
			check: func(t *testing.T, st *memstore.Store, ch billing.Change) {
				s := must(t, st, subscriptionDoc, "sub_1")
				if s.UID != "user-a" || s.Status != "active" || s.Customer != "cus_1" {
					t.Errorf("subscription %+v", s)
				}
				if !s.AsOf.Equal(ch.AsOf) || s.LastEventID != "evt_1" || !s.SyncedAt.Equal(ch.Now) {
					t.Errorf("version %+v, want asOf %v, event evt_1, synced %v", s.Version, ch.AsOf, ch.Now)
				}
				if m := must(t, st, stripeCustomerDoc, "cus_1"); m.UID != "user-a" {
					t.Errorf("stripe_customers/cus_1 uid %q, want user-a", m.UID)
				}
				c := must(t, st, customerDoc, "user-a")
				if c.StripeCustomerID != "cus_1" || !c.UpdatedAt.Equal(ch.Now) {
					t.Errorf("customers/user-a %+v", c)
				}
				checkEntitlements(t, c.Entitlements, map[string]billing.Entitlement{"go": bySub(active)})
			},
		},
		{
			name:        "unmapped customer, no uid: stored unclaimed, unclaimed mapping, no customers doc",
			sub:         active,
			ch:          change("evt_1", at(0)),
			wantOutcome: billing.Applied,
			check: func(t *testing.T, st *memstore.Store, _ billing.Change) {
				if s := must(t, st, subscriptionDoc, "sub_1"); s.UID != "" {
					t.Errorf("subscription uid %q, want unclaimed", s.UID)
				}
				if m := must(t, st, stripeCustomerDoc, "cus_1"); m.UID != "" {
					t.Errorf("stripe_customers/cus_1 uid %q, want unclaimed", m.UID)
				}
				if n := st.Len(billing.CustomersCollection); n != 0 {
					t.Errorf("%d customers docs, want none: %v", n, st.IDs(billing.CustomersCollection))
				}
			},
		},
		{
			name:        "customer mapped to A, metadata uid B: owned by A, B gets nothing",
			before:      mapping("cus_1", "user-a"),
			sub:         withUID(active, "user-b"),
			ch:          change("evt_1", at(0)),
			wantOutcome: billing.Applied,
			check: func(t *testing.T, st *memstore.Store, _ billing.Change) {
				if s := must(t, st, subscriptionDoc, "sub_1"); s.UID != "user-a" {
					t.Errorf("subscription uid %q, want user-a", s.UID)
				}
				if m := must(t, st, stripeCustomerDoc, "cus_1"); m.UID != "user-a" {
					t.Errorf("mapping uid %q, want user-a kept", m.UID)
				}
				checkEntitlements(t, must(t, st, customerDoc, "user-a").Entitlements, map[string]billing.Entitlement{"go": bySub(active)})
				if c := get(t, st, customerDoc, "user-b"); c != nil {
					t.Errorf("customers/user-b written: %+v", c)
				}
			},
		},
		{
			name:        "unclaimed mapping, metadata uid A: mapping claimed by A",
			before:      mapping("cus_1", ""),
			sub:         withUID(active, "user-a"),
			ch:          change("evt_1", at(0)),
			wantOutcome: billing.Applied,
			check: func(t *testing.T, st *memstore.Store, _ billing.Change) {
				if m := must(t, st, stripeCustomerDoc, "cus_1"); m.UID != "user-a" {
					t.Errorf("mapping uid %q, want user-a", m.UID)
				}
				checkEntitlements(t, must(t, st, customerDoc, "user-a").Entitlements, map[string]billing.Entitlement{"go": bySub(active)})
			},
		},
		{
			name: "view of the same instant as the stored one: applied, cancellation takes the course away",
			before: func(t *testing.T, st *memstore.Store) {
				applySub(t, st, withUID(active, "user-a"), change("evt_0", at(0)))
			},
			sub:         withStatus(active, "canceled"),
			ch:          change("evt_1", at(0)),
			wantOutcome: billing.Applied,
			check: func(t *testing.T, st *memstore.Store, _ billing.Change) {
				s := must(t, st, subscriptionDoc, "sub_1")
				if s.Status != "canceled" || s.UID != "user-a" || s.LastEventID != "evt_1" {
					t.Errorf("subscription %+v", s)
				}
				checkEntitlements(t, must(t, st, customerDoc, "user-a").Entitlements, map[string]billing.Entitlement{})
			},
		},
		{
			name: "newer view: applied, stored uid kept though the view has none",
			before: func(t *testing.T, st *memstore.Store) {
				applySub(t, st, withUID(active, "user-a"), change("evt_0", at(0)))
			},
			sub:         withStatus(active, "past_due"),
			ch:          change("evt_1", at(5)),
			wantOutcome: billing.Applied,
			check: func(t *testing.T, st *memstore.Store, _ billing.Change) {
				if s := must(t, st, subscriptionDoc, "sub_1"); s.Status != "past_due" || s.UID != "user-a" {
					t.Errorf("subscription %+v", s)
				}
				checkEntitlements(t, must(t, st, customerDoc, "user-a").Entitlements,
					map[string]billing.Entitlement{"go": bySub(withStatus(active, "past_due"))})
			},
		},
		{
			name: "owner change (stored A, mapping B): A loses the course, B gains it",
			before: func(t *testing.T, st *memstore.Store) {
				applySub(t, st, withUID(active, "user-a"), change("evt_0", at(0)))
				// An operator moved the customer to user B.
				mapping("cus_1", "user-b")(t, st)
			},
			sub:         active,
			ch:          change("evt_1", at(5)),
			wantOutcome: billing.Applied,
			check: func(t *testing.T, st *memstore.Store, _ billing.Change) {
				if s := must(t, st, subscriptionDoc, "sub_1"); s.UID != "user-b" {
					t.Errorf("subscription uid %q, want user-b", s.UID)
				}
				checkEntitlements(t, must(t, st, customerDoc, "user-a").Entitlements, map[string]billing.Entitlement{})
				checkEntitlements(t, must(t, st, customerDoc, "user-b").Entitlements, map[string]billing.Entitlement{"go": bySub(active)})
			},
		},
		{
			name: "one of two subscriptions for a course canceled: still entitled by the other",
			before: func(t *testing.T, st *memstore.Store) {
				applySub(t, st, withUID(active, "user-a"), change("evt_0", at(0)))
				second := sub("sub_2", "cus_1", "user-a", "active", periodEnd.AddDate(0, 0, -10), "go")
				applySub(t, st, second, change("evt_00", at(1)))
			},
			sub:         withStatus(active, "canceled"),
			ch:          change("evt_1", at(5)),
			wantOutcome: billing.Applied,
			check: func(t *testing.T, st *memstore.Store, _ billing.Change) {
				second := sub("sub_2", "cus_1", "user-a", "active", periodEnd.AddDate(0, 0, -10), "go")
				checkEntitlements(t, must(t, st, customerDoc, "user-a").Entitlements, map[string]billing.Entitlement{"go": bySub(second)})
			},
		},
		{
			name: "canceled subscription does not take away a purchased course",
			before: func(t *testing.T, st *memstore.Store) {
				applySession(t, st, paidSession("cs_1", "cus_1", "user-a", "go"), change("evt_cs", at(-10)))
				applySub(t, st, withUID(active, "user-a"), change("evt_0", at(0)))
			},
			sub:         withStatus(active, "canceled"),
			ch:          change("evt_1", at(5)),
			wantOutcome: billing.Applied,
			check: func(t *testing.T, st *memstore.Store, _ billing.Change) {
				checkEntitlements(t, must(t, st, customerDoc, "user-a").Entitlements, map[string]billing.Entitlement{"go": byPurchase("cs_1")})
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := memstore.New()
			if tc.before != nil {
				tc.before(t, st)
			}
			rec := applySub(t, st, tc.sub, tc.ch)
			if rec.Outcome != tc.wantOutcome {
				t.Fatalf("outcome %q (%s), want %q", rec.Outcome, rec.Detail, tc.wantOutcome)
			}
			tc.check(t, st, tc.ch)
		})
	}
}

func TestApplySubscriptionOlderViewIsStaleAndChangesNothing(t *testing.T) {
	st := memstore.New()
	s := sub("sub_1", "cus_1", "user-a", "active", periodEnd, "go")
	applySub(t, st, s, change("evt_new", at(10)))
	before := st.Dump()

	old := s
	old.Status = "incomplete"
	old.UID = "user-b"
	rec := applySub(t, st, old, change("evt_old", at(5)))

	if rec.Outcome != billing.Stale {
		t.Fatalf("outcome %q, want stale", rec.Outcome)
	}
	onlyMarkerAdded(t, before, st.Dump(), "evt_old")
	if m := must(t, st, eventDoc, "evt_old"); m.Outcome != billing.Stale {
		t.Errorf("marker outcome %q, want stale", m.Outcome)
	}
}

// TestApplySubscriptionRedeliveredViewKeepsCustomer: the same view again
// changes nothing a user sees; customers/{uid} is not rewritten.
func TestApplySubscriptionRedeliveredViewKeepsCustomer(t *testing.T) {
	st := memstore.New()
	s := sub("sub_1", "cus_1", "user-a", "active", periodEnd, "go")
	first := change("evt_1", at(0))
	applySub(t, st, s, first)
	customerBefore := *must(t, st, customerDoc, "user-a")

	t.Run("same event id: duplicate, nothing written", func(t *testing.T) {
		before := st.Dump()
		_, dup, err := st.ApplyEvent(context.Background(), billing.EventRecord{ID: "evt_1"}, func(ctx context.Context, tx billing.Tx) (billing.Outcome, string, error) {
			return billing.ApplySubscription(ctx, tx, s, first)
		})
		if err != nil || !dup {
			t.Fatalf("duplicate %v, error %v; want a duplicate", dup, err)
		}
		if after := st.Dump(); len(after) != len(before) {
			t.Errorf("documents %d → %d", len(before), len(after))
		}
	})

	t.Run("same view under another event, later: applied, customers doc untouched", func(t *testing.T) {
		again := change("evt_2", at(0))
		again.Now = at(60)
		if rec := applySub(t, st, s, again); rec.Outcome != billing.Applied {
			t.Fatalf("outcome %q, want applied", rec.Outcome)
		}
		if got := must(t, st, subscriptionDoc, "sub_1"); got.LastEventID != "evt_2" || !got.SyncedAt.Equal(again.Now) {
			t.Errorf("subscription version %+v, want evt_2 synced %v", got.Version, again.Now)
		}
		c := must(t, st, customerDoc, "user-a")
		if !c.UpdatedAt.Equal(customerBefore.UpdatedAt) {
			t.Errorf("customers/user-a rewritten: updatedAt %v, was %v", c.UpdatedAt, customerBefore.UpdatedAt)
		}
	})
}

// TestApplyCheckoutSessionClaimsUnclaimedSubscription: the subscription
// event came first, for a customer nobody had claimed; the checkout session
// names the user.
func TestApplyCheckoutSessionClaimsUnclaimedSubscription(t *testing.T) {
	st := memstore.New()
	s := sub("sub_1", "cus_1", "", "active", periodEnd, "go")
	applySub(t, st, s, change("evt_sub", at(0)))
	if n := st.Len(billing.CustomersCollection); n != 0 {
		t.Fatalf("%d customers docs before the claim, want none", n)
	}

	cs := billing.CheckoutSession{
		Mode: "subscription", Subscription: "sub_1", UID: "user-a", Email: "a@example.com",
		Purchase: billing.Purchase{ID: "cs_1", Customer: "cus_1", Status: "complete", PaymentStatus: "paid"},
	}
	rec := applySession(t, st, cs, change("evt_cs", at(1)))
	if rec.Outcome != billing.Applied || rec.Detail != "" {
		t.Fatalf("outcome %q detail %q, want applied without detail", rec.Outcome, rec.Detail)
	}

	if got := must(t, st, subscriptionDoc, "sub_1"); got.UID != "user-a" || got.Status != "active" {
		t.Errorf("subscription %+v, want claimed by user-a", got)
	}
	if m := must(t, st, stripeCustomerDoc, "cus_1"); m.UID != "user-a" || m.Email != "a@example.com" {
		t.Errorf("stripe_customers/cus_1 %+v, want user-a a@example.com", m)
	}
	c := must(t, st, customerDoc, "user-a")
	if c.StripeCustomerID != "cus_1" || c.Email != "a@example.com" {
		t.Errorf("customers/user-a %+v", c)
	}
	checkEntitlements(t, c.Entitlements, map[string]billing.Entitlement{"go": bySub(s)})
	if n := st.Len(billing.PurchasesCollection); n != 0 {
		t.Errorf("%d purchases, want none for a subscription-mode session", n)
	}

	// The next subscription event keeps the claim.
	next := s
	next.Status = "past_due"
	applySub(t, st, next, change("evt_sub2", at(2)))
	if got := must(t, st, subscriptionDoc, "sub_1"); got.UID != "user-a" {
		t.Errorf("after the next event uid %q, want user-a", got.UID)
	}
}

func TestApplyInvoice(t *testing.T) {
	invoice := func(sub string) billing.Invoice {
		return billing.Invoice{ID: "in_1", Customer: "cus_1", Subscription: sub, Status: "open", AmountDue: 900, Currency: "usd"}
	}
	mapping := func(uid string) func(t *testing.T, st *memstore.Store) {
		return func(t *testing.T, st *memstore.Store) {
			seed(t, st, "seed-mapping", func(tx billing.Tx) error {
				return tx.PutStripeCustomer("cus_1", &billing.StripeCustomer{UID: uid, UpdatedAt: at(-60)})
			})
		}
	}
	// storedSub is a subscription document without a customer mapping, as
	// a hand-repaired or imported store may hold.
	storedSub := func(uid string) func(t *testing.T, st *memstore.Store) {
		return func(t *testing.T, st *memstore.Store) {
			seed(t, st, "seed-sub", func(tx billing.Tx) error {
				s := sub("sub_1", "cus_1", uid, "active", periodEnd, "go")
				return tx.PutSubscription(&s)
			})
		}
	}

	tests := []struct {
		name    string
		before  []func(t *testing.T, st *memstore.Store)
		invoice billing.Invoice
		wantUID string
		// wantMappingUID is stripe_customers/cus_1's uid afterwards.
		wantMappingUID string
	}{
		{"owner from the customer mapping", []func(*testing.T, *memstore.Store){mapping("user-a")}, invoice("sub_unknown"), "user-a", "user-a"},
		{"customer unmapped: owner from the invoice's subscription, mapping claimed for it", []func(*testing.T, *memstore.Store){storedSub("user-b")}, invoice("sub_1"), "user-b", "user-b"},
		{"mapping wins over the subscription's uid", []func(*testing.T, *memstore.Store){mapping("user-a"), storedSub("user-b")}, invoice("sub_1"), "user-a", "user-a"},
		{"unclaimed mapping: owner from the subscription", []func(*testing.T, *memstore.Store){mapping(""), storedSub("user-b")}, invoice("sub_1"), "user-b", "user-b"},
		{"unknown customer and subscription: stored unclaimed", nil, invoice("sub_unknown"), "", ""},
		{"no subscription (subscription null): stored, owner from the mapping", []func(*testing.T, *memstore.Store){mapping("user-a")}, invoice(""), "user-a", "user-a"},
		{"no subscription and no mapping: stored unclaimed", nil, invoice(""), "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := memstore.New()
			for _, b := range tc.before {
				b(t, st)
			}
			customersBefore := st.Len(billing.CustomersCollection)
			ch := change("evt_1", at(0))
			rec := applyInvoice(t, st, tc.invoice, ch)
			if rec.Outcome != billing.Applied {
				t.Fatalf("outcome %q (%s), want applied", rec.Outcome, rec.Detail)
			}
			in := must(t, st, invoiceDoc, "in_1")
			if in.UID != tc.wantUID || in.Subscription != tc.invoice.Subscription || in.AmountDue != 900 {
				t.Errorf("invoice %+v, want uid %q", in, tc.wantUID)
			}
			if !in.AsOf.Equal(ch.AsOf) || in.LastEventID != "evt_1" {
				t.Errorf("version %+v", in.Version)
			}
			if m := must(t, st, stripeCustomerDoc, "cus_1"); m.UID != tc.wantMappingUID {
				t.Errorf("mapping uid %q, want %q", m.UID, tc.wantMappingUID)
			}
			if n := st.Len(billing.CustomersCollection); n != customersBefore {
				t.Errorf("customers docs %d → %d: an invoice does not change access", customersBefore, n)
			}
		})
	}
}

func TestApplyInvoiceVersionGuard(t *testing.T) {
	stored := billing.Invoice{ID: "in_1", Customer: "cus_1", Status: "paid", Paid: true}
	older := billing.Invoice{ID: "in_1", Customer: "cus_1", Status: "open"}

	t.Run("older view than stored: stale, nothing but the marker", func(t *testing.T) {
		st := memstore.New()
		applyInvoice(t, st, stored, change("evt_new", at(10)))
		before := st.Dump()
		if rec := applyInvoice(t, st, older, change("evt_old", at(5))); rec.Outcome != billing.Stale {
			t.Fatalf("outcome %q, want stale", rec.Outcome)
		}
		onlyMarkerAdded(t, before, st.Dump(), "evt_old")
	})
	t.Run("same instant and stage as stored: applied", func(t *testing.T) {
		st := memstore.New()
		applyInvoice(t, st, older, change("evt_a", at(10)))
		again := older
		again.AttemptCount = 2
		if rec := applyInvoice(t, st, again, change("evt_b", at(10))); rec.Outcome != billing.Applied {
			t.Fatalf("outcome %q, want applied", rec.Outcome)
		}
		if in := must(t, st, invoiceDoc, "in_1"); in.AttemptCount != 2 || in.LastEventID != "evt_b" {
			t.Errorf("invoice %+v", in)
		}
	})
	t.Run("same instant, earlier stage than stored: stale", func(t *testing.T) {
		st := memstore.New()
		applyInvoice(t, st, stored, change("evt_a", at(10)))
		if rec := applyInvoice(t, st, older, change("evt_b", at(10))); rec.Outcome != billing.Stale {
			t.Fatalf("outcome %q, want stale", rec.Outcome)
		}
		if in := must(t, st, invoiceDoc, "in_1"); in.Status != "paid" || in.LastEventID != "evt_a" {
			t.Errorf("invoice %+v", in)
		}
	})
}

// TestApplyInvoiceCapturedWithoutSubscription applies the real invoice.json
// (rendered with `subscription: null`) end to end.
func TestApplyInvoiceCapturedWithoutSubscription(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/stripe-events/invoice.json")
	if err != nil {
		t.Fatal(err)
	}
	in, err := stripeapi.DecodeInvoice(raw)
	if err != nil {
		t.Fatal(err)
	}
	if in.Subscription != "" {
		t.Fatalf("fixture changed: subscription %q", in.Subscription)
	}
	st := memstore.New()
	if rec := applyInvoice(t, st, in, change("evt_1", at(0))); rec.Outcome != billing.Applied {
		t.Fatalf("outcome %q, want applied", rec.Outcome)
	}
	got := must(t, st, invoiceDoc, in.ID)
	if got.Subscription != "" || !got.Paid || got.UID != "" || got.Customer != "cus_S9YwWMaQEgeJYO" {
		t.Errorf("invoice %+v", got)
	}
}

func paidSession(id, customer, uid, course string) billing.CheckoutSession {
	return billing.CheckoutSession{
		Mode: "payment", UID: uid, Email: uid + "@example.com",
		Purchase: billing.Purchase{
			ID: id, UID: uid, Customer: customer, CourseID: course,
			Status: "complete", PaymentStatus: "paid", AmountSubtotal: 4900, AmountTotal: 4900, Currency: "usd",
		},
	}
}

func TestApplyCheckoutSessionPayment(t *testing.T) {
	unpaid := paidSession("cs_1", "cus_1", "user-a", "go")
	unpaid.Purchase.PaymentStatus = "unpaid" // async_payment_failed: status complete, payment unpaid
	guest := paidSession("cs_1", "", "user-a", "go")
	otherUser := paidSession("cs_1", "cus_1", "user-b", "go")
	anonymous := paidSession("cs_1", "cus_1", "", "go")

	tests := []struct {
		name            string
		before          func(t *testing.T, st *memstore.Store)
		cs              billing.CheckoutSession
		wantOwner       string
		wantEntitlement bool
		wantDetail      string
		wantMappingUID  *string // nil: no stripe_customers doc
	}{
		{"paid: purchase with uid and course, course granted without end", nil,
			paidSession("cs_1", "cus_1", "user-a", "go"), "user-a", true, "", ptrTo("user-a")},
		{"async payment failed (payment_status unpaid): purchase stored, nothing granted", nil,
			unpaid, "user-a", false, "", ptrTo("user-a")},
		{"client_reference_id of user B on a customer mapped to A: stays A, detail says so",
			func(t *testing.T, st *memstore.Store) {
				seed(t, st, "seed-mapping", func(tx billing.Tx) error {
					return tx.PutStripeCustomer("cus_1", &billing.StripeCustomer{UID: "user-a", Email: "a@example.com"})
				})
			},
			otherUser, "user-a", true, "already belongs to another user", ptrTo("user-a")},
		{"guest checkout (customer null): purchase stored and granted, no stripe_customers doc", nil,
			guest, "user-a", true, "", nil},
		{"no user known: purchase stored unclaimed, customer mapping unclaimed", nil,
			anonymous, "", false, "", ptrTo("")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := memstore.New()
			if tc.before != nil {
				tc.before(t, st)
			}
			rec := applySession(t, st, tc.cs, change("evt_1", at(0)))
			if rec.Outcome != billing.Applied {
				t.Fatalf("outcome %q (%s), want applied", rec.Outcome, rec.Detail)
			}
			if !strings.Contains(rec.Detail, tc.wantDetail) || (tc.wantDetail == "" && rec.Detail != "") {
				t.Errorf("detail %q, want %q", rec.Detail, tc.wantDetail)
			}

			p := must(t, st, purchaseDoc, "cs_1")
			if p.UID != tc.wantOwner || p.CourseID != "go" || p.PaymentStatus != tc.cs.Purchase.PaymentStatus || p.AmountTotal != 4900 {
				t.Errorf("purchase %+v, want owner %q", p, tc.wantOwner)
			}

			m := get(t, st, stripeCustomerDoc, "cus_1")
			switch {
			case tc.wantMappingUID == nil && st.Len(billing.StripeCustomersCollection) != 0:
				t.Errorf("stripe_customers written: %v", st.IDs(billing.StripeCustomersCollection))
			case tc.wantMappingUID != nil && m == nil:
				t.Errorf("stripe_customers/cus_1 missing")
			case tc.wantMappingUID != nil && m.UID != *tc.wantMappingUID:
				t.Errorf("stripe_customers/cus_1 uid %q, want %q", m.UID, *tc.wantMappingUID)
			}

			if tc.wantOwner == "" {
				if n := st.Len(billing.CustomersCollection); n != 0 {
					t.Errorf("customers docs %v, want none", st.IDs(billing.CustomersCollection))
				}
				return
			}
			want := map[string]billing.Entitlement{}
			if tc.wantEntitlement {
				want["go"] = byPurchase("cs_1")
			}
			checkEntitlements(t, must(t, st, customerDoc, tc.wantOwner).Entitlements, want)
			for _, uid := range st.IDs(billing.CustomersCollection) {
				if uid != tc.wantOwner {
					t.Errorf("customers/%s written; only the owner's should be", uid)
				}
			}
		})
	}
}

func ptrTo(s string) *string { return &s }

// TestApplyCheckoutSessionAsyncPayment follows a delayed payment method:
// completed (unpaid), then async_payment_succeeded (paid), then a late
// redelivery of completed that must not take the course away.
func TestApplyCheckoutSessionAsyncPayment(t *testing.T) {
	st := memstore.New()
	completed := paidSession("cs_1", "cus_1", "user-a", "go")
	completed.Purchase.PaymentStatus = "unpaid"
	succeeded := paidSession("cs_1", "cus_1", "user-a", "go")

	steps := []struct {
		name            string
		cs              billing.CheckoutSession
		ch              billing.Change
		wantOutcome     billing.Outcome
		wantEntitlement bool
	}{
		{"completed with payment pending: nothing granted", completed, change("evt_completed", at(0)), billing.Applied, false},
		{"async payment succeeded: course granted", succeeded, change("evt_succeeded", at(60)), billing.Applied, true},
		{"completed redelivered late under a new id: stale, course kept", completed, change("evt_completed_again", at(0)), billing.Stale, true},
	}
	for _, step := range steps {
		before := st.Dump()
		rec := applySession(t, st, step.cs, step.ch)
		if rec.Outcome != step.wantOutcome {
			t.Fatalf("%s: outcome %q, want %q", step.name, rec.Outcome, step.wantOutcome)
		}
		if step.wantOutcome == billing.Stale {
			onlyMarkerAdded(t, before, st.Dump(), step.ch.EventID)
		}
		want := map[string]billing.Entitlement{}
		if step.wantEntitlement {
			want["go"] = byPurchase("cs_1")
		}
		checkEntitlements(t, must(t, st, customerDoc, "user-a").Entitlements, want)
		if t.Failed() {
			t.Fatalf("after step %q", step.name)
		}
	}
}

// TestApplyRerunsAfterFailedCommit: Store.ApplyEvent may run an ApplyFunc
// again when a commit fails or transactions contend, so each Apply function
// must give the same result however often it runs, and a failed commit must
// leave nothing behind.
func TestApplyRerunsAfterFailedCommit(t *testing.T) {
	s := sub("sub_1", "cus_1", "user-a", "active", periodEnd, "go")
	cs := paidSession("cs_1", "cus_1", "user-a", "rust")
	in := billing.Invoice{ID: "in_1", Customer: "cus_1", Subscription: "sub_1", Status: "paid", Paid: true}
	tests := []struct {
		name string
		fn   billing.ApplyFunc
	}{
		{"ApplySubscription applies once after a failed commit", func(ctx context.Context, tx billing.Tx) (billing.Outcome, string, error) {
			return billing.ApplySubscription(ctx, tx, s, change("evt_1", at(0)))
		}},
		{"ApplyCheckoutSession applies once after a failed commit", func(ctx context.Context, tx billing.Tx) (billing.Outcome, string, error) {
			return billing.ApplyCheckoutSession(ctx, tx, cs, change("evt_1", at(0)))
		}},
		{"ApplyInvoice applies once after a failed commit", func(ctx context.Context, tx billing.Tx) (billing.Outcome, string, error) {
			return billing.ApplyInvoice(ctx, tx, in, change("evt_1", at(0)))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The state a single clean run leaves.
			want := memstore.New()
			applySession(t, want, paidSession("cs_0", "cus_1", "user-a", "c"), change("evt_0", at(-10)))
			run(t, want, "evt_1", tc.fn)

			st := memstore.New()
			applySession(t, st, paidSession("cs_0", "cus_1", "user-a", "c"), change("evt_0", at(-10)))
			before := st.Dump()
			st.FailCommit = func() error { return errors.New("commit failed") }
			if _, _, err := st.ApplyEvent(context.Background(), billing.EventRecord{ID: "evt_1", Type: "test"}, tc.fn); err == nil {
				t.Fatal("failing commit reported success")
			}
			if after := st.Dump(); !reflect.DeepEqual(after, before) {
				t.Fatalf("a failed commit left writes behind")
			}
			st.FailCommit = nil
			run(t, st, "evt_1", tc.fn)
			if got := st.Dump(); !reflect.DeepEqual(got, want.Dump()) {
				t.Errorf("state after a rerun differs from a single run\n got %v\nwant %v", got, want.Dump())
			}
		})
	}
}

// TestApplyInvoiceDeliveredBeforeItsSubscription: Stripe sends
// invoice.paid and customer.subscription.created together and in any
// order. When the invoice wins the race it is stored unclaimed, and
// nothing claims it later: its owner never sees it (Firestore rules show a
// user only documents with their uid).
func TestApplyInvoiceDeliveredBeforeItsSubscription(t *testing.T) {
	st := memstore.New()
	// The invoice view names its owner the way a 2023-10-16 payload can:
	// subscription_details.metadata.uid, set by the checkout function on
	// the subscription and copied by Stripe onto its invoices.
	in := billing.Invoice{ID: "in_1", UID: "user-a", Customer: "cus_1", Subscription: "sub_1", Status: "paid", Paid: true}
	applyInvoice(t, st, in, change("evt_invoice", at(0)))
	applySub(t, st, sub("sub_1", "cus_1", "user-a", "active", periodEnd, "go"), change("evt_sub", at(0)))

	if got := must(t, st, invoiceDoc, "in_1"); got.UID != "user-a" {
		t.Errorf("invoices/in_1 uid %q after its subscription was claimed by user-a", got.UID)
	}
}

// Events of a customer nobody owns yet are stored unclaimed; when a later
// event names the owner (here the checkout session), every one of the
// customer's unclaimed documents goes to that user, and their access
// follows.
func TestClaimingACustomerClaimsItsEarlierDocuments(t *testing.T) {
	st := memstore.New()
	in := billing.Invoice{ID: "in_1", Customer: "cus_1", Subscription: "sub_1", Status: "paid", Paid: true}
	applyInvoice(t, st, in, change("evt_invoice", at(0)))
	applySub(t, st, sub("sub_1", "cus_1", "", "active", periodEnd, "go"), change("evt_sub", at(0)))
	guest := billing.Purchase{ID: "cs_guest", Customer: "cus_1", CourseID: "rust", Status: "complete", PaymentStatus: "paid"}
	applySession(t, st, billing.CheckoutSession{Purchase: guest, Mode: "payment"}, change("evt_guest", at(1)))
	for _, id := range []string{"in_1"} {
		if got := must(t, st, invoiceDoc, id); got.UID != "" {
			t.Fatalf("invoices/%s uid %q before anyone owns the customer", id, got.UID)
		}
	}

	cs := billing.CheckoutSession{Purchase: billing.Purchase{ID: "cs_sub", Customer: "cus_1"}, Mode: "subscription", Subscription: "sub_1", UID: "user-a"}
	applySession(t, st, cs, change("evt_session", at(2)))

	if got := must(t, st, invoiceDoc, "in_1"); got.UID != "user-a" {
		t.Errorf("invoices/in_1 uid %q, want user-a", got.UID)
	}
	if got := must(t, st, subscriptionDoc, "sub_1"); got.UID != "user-a" {
		t.Errorf("subscriptions/sub_1 uid %q, want user-a", got.UID)
	}
	if got := must(t, st, purchaseDoc, "cs_guest"); got.UID != "user-a" {
		t.Errorf("purchases/cs_guest uid %q, want user-a", got.UID)
	}
	c := must(t, st, customerDoc, "user-a")
	if _, ok := c.Entitlements["go"]; !ok {
		t.Errorf("entitlements %v lack the claimed subscription's course", c.Entitlements)
	}
	if _, ok := c.Entitlements["rust"]; !ok {
		t.Errorf("entitlements %v lack the claimed purchase's course", c.Entitlements)
	}
}
