// Package storetest is the contract every billing.Store must keep. The
// in-memory store stands in for Firestore in tests and in the dev server, so
// it is only useful while it behaves as Firestore does; running one suite
// against both is what keeps them twins.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/courseplatform/billing/shared/billing"
)

// Racers is how many goroutines the concurrency cases start at once.
const Racers = 16

// bound caps every call into a store, so that a store that hangs fails its
// test instead of stalling the whole run. It bounds; it asserts nothing
// about speed.
const bound = 5 * time.Minute

// Run runs the contract against stores made by open. open is called once
// per subtest with that subtest's t and must return an empty store that no
// other test uses.
func Run(t *testing.T, open func(t *testing.T) billing.Store) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, open) })
	t.Run("PutReplacesWholeDocument", func(t *testing.T) { testPutReplaces(t, open(t)) })
	t.Run("MissingDocumentsAreNil", func(t *testing.T) { testMissing(t, open(t)) })
	t.Run("InvalidIDsAreErrors", func(t *testing.T) { testInvalidIDs(t, open(t)) })
	t.Run("UnusualValidIDs", func(t *testing.T) { testUnusualIDs(t, open(t)) })
	t.Run("ApplyEvent", func(t *testing.T) {
		t.Run("WritesDocumentsAndMarkerTogether", func(t *testing.T) { testApplyWrites(t, open(t)) })
		t.Run("DuplicateSkipsFnAndChangesNothing", func(t *testing.T) { testDuplicate(t, open(t)) })
		t.Run("FnErrorWritesNothing", func(t *testing.T) { testFnError(t, open(t)) })
		t.Run("ReadAfterWriteFails", func(t *testing.T) { testReadAfterWrite(t, open(t)) })
		t.Run("ReadsSeeCommittedStateNotOwnWrites", func(t *testing.T) { testReadsBeforeWrites(t, open(t)) })
		t.Run("CancelledContextWritesNothing", func(t *testing.T) { testCancelledBefore(t, open(t)) })
		t.Run("CancelledDuringFnWritesNothing", func(t *testing.T) { testCancelledDuring(t, open(t)) })
	})
	t.Run("View", func(t *testing.T) {
		t.Run("WritesFailReadOnly", func(t *testing.T) { testViewReadOnly(t, open(t)) })
		t.Run("ReturnsFnError", func(t *testing.T) { testViewError(t, open(t)) })
		t.Run("CancelledContextFails", func(t *testing.T) { testViewCancelled(t, open(t)) })
	})
	t.Run("Update", func(t *testing.T) {
		t.Run("CourseRoundTrip", func(t *testing.T) { testCourseRoundTrip(t, open(t)) })
		t.Run("FnErrorWritesNothing", func(t *testing.T) { testUpdateError(t, open(t)) })
		t.Run("CommitsWithoutAnEvent", func(t *testing.T) { testUpdateNoMarker(t, open(t)) })
		t.Run("ConcurrentUpdatesLoseNothing", func(t *testing.T) { testUpdateRace(t, open(t)) })
	})
	t.Run("OwnedBy", func(t *testing.T) {
		t.Run("SubscriptionsOf", func(t *testing.T) { testSubscriptionsOf(t, open(t)) })
		t.Run("PurchasesOf", func(t *testing.T) { testPurchasesOf(t, open(t)) })
		t.Run("FollowsOwnerChange", func(t *testing.T) { testOwnerChange(t, open(t)) })
	})
	t.Run("Concurrency", func(t *testing.T) {
		t.Run("SameEventAppliedOnce", func(t *testing.T) { testSameEventRace(t, open(t)) })
		t.Run("DistinctEventsSerialize", func(t *testing.T) { testDistinctEventsRace(t, open(t)) })
	})
}

// Fixtures. Times are UTC and whole microseconds, as the domain keeps them
// (Firestore stores no finer). One is in another zone on purpose: a store
// must keep the instant; which zone comes back is not part of the contract.

var (
	t0   = time.Date(2024, 3, 1, 12, 0, 0, 123456000, time.UTC)
	cest = time.FixedZone("CEST", 2*60*60)
)

func at(d time.Duration) *time.Time {
	v := t0.Add(d)
	return &v
}

func version(evt string) billing.Version {
	return billing.Version{AsOf: t0, LastEventID: evt, SyncedAt: t0.Add(3 * time.Second)}
}

func fullSubscription(id, uid string) billing.Subscription {
	return billing.Subscription{
		ID:       id,
		UID:      uid,
		Customer: "cus_1",
		Status:   "active",
		Items: []billing.SubscriptionItem{
			{Price: "price_1", Product: "prod_1", CourseID: "course_go", Quantity: 1},
			{Price: "price_2", Product: "prod_2", Quantity: 3},
		},
		CancelAtPeriodEnd:  true,
		CancelAt:           at(30 * 24 * time.Hour),
		CanceledAt:         at(time.Hour),
		CurrentPeriodStart: at(0),
		CurrentPeriodEnd:   at(30 * 24 * time.Hour),
		TrialStart:         at(-14 * 24 * time.Hour),
		TrialEnd:           ptr(t0.In(cest)),
		EndedAt:            at(31 * 24 * time.Hour),
		LatestInvoice:      "in_1",
		Metadata:           map[string]string{"uid": uid, "courseId": "course_go", "dotted.key": "x"},
		Livemode:           true,
		Version:            version("evt_sub"),
	}
}

func bareSubscription(id, uid string) billing.Subscription {
	return billing.Subscription{ID: id, UID: uid, Customer: "cus_2", Status: "incomplete", Version: version("evt_bare")}
}

func fullInvoice() billing.Invoice {
	return billing.Invoice{
		ID:                 "in_1",
		UID:                "u1",
		Customer:           "cus_1",
		Subscription:       "sub_1",
		Status:             "open",
		Paid:               true,
		AmountDue:          4900,
		AmountPaid:         4900,
		AmountRemaining:    -1,
		Total:              1 << 40,
		Currency:           "eur",
		HostedInvoiceURL:   "https://invoice.stripe.com/i/acct_1/test_1?s=ap",
		AttemptCount:       2,
		NextPaymentAttempt: at(72 * time.Hour),
		BillingReason:      "subscription_cycle",
		PeriodStart:        at(0),
		PeriodEnd:          at(30 * 24 * time.Hour),
		Livemode:           true,
		Version:            version("evt_in"),
	}
}

func fullPurchase(id, uid string) billing.Purchase {
	return billing.Purchase{
		ID:             id,
		UID:            uid,
		Customer:       "cus_1",
		CourseID:       "course_go",
		Status:         "complete",
		PaymentStatus:  "paid",
		AmountSubtotal: 9900,
		AmountTotal:    8900,
		Currency:       "usd",
		PaymentIntent:  "pi_1",
		Livemode:       true,
		Version:        version("evt_cs"),
	}
}

func fullStripeCustomer() billing.StripeCustomer {
	return billing.StripeCustomer{UID: "u1", Email: "ada@example.com", Livemode: true, UpdatedAt: t0}
}

func fullCustomer() billing.Customer {
	return billing.Customer{
		StripeCustomerID: "cus_1",
		Email:            "ada@example.com",
		Entitlements: map[string]billing.Entitlement{
			"course_go":   {Source: "subscription", SourceID: "sub_1", Status: "active", Until: at(30 * 24 * time.Hour)},
			"course_rust": {Source: "purchase", SourceID: "cs_1", Status: "paid"},
		},
		UpdatedAt: t0,
	}
}

func record(id string) billing.EventRecord {
	return billing.EventRecord{
		ID:         id,
		Type:       "customer.subscription.updated",
		Created:    t0.Add(-time.Minute),
		APIVersion: "2023-10-16",
		Livemode:   true,
		Function:   "webhook-subscriptions",
		ReceivedAt: t0,
		ExpireAt:   t0.Add(billing.EventRetention),
	}
}

func ptr[T any](v T) *T { return &v }

// Calls into the store.

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	t.Cleanup(cancel)
	return ctx
}

// apply applies event id with a body that runs put and reports Applied.
func apply(t *testing.T, s billing.Store, id string, put func(tx billing.Tx) error) billing.EventRecord {
	t.Helper()
	stored, dup, err := s.ApplyEvent(ctxFor(t), record(id), func(_ context.Context, tx billing.Tx) (billing.Outcome, string, error) {
		return billing.Applied, "", put(tx)
	})
	if err != nil {
		t.Fatalf("ApplyEvent(%s): %v", id, err)
	}
	if dup {
		t.Fatalf("ApplyEvent(%s): duplicate on first delivery", id)
	}
	return stored
}

func view(t *testing.T, s billing.Store, fn func(ctx context.Context, tx billing.Tx) error) {
	t.Helper()
	if err := s.View(ctxFor(t), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// doc names one document, for reading a known set back.
type doc struct{ coll, id string }

func (d doc) String() string { return d.coll + "/" + d.id }

func (d doc) read(ctx context.Context, tx billing.Tx) (any, error) {
	// Each branch returns a typed nil as a plain nil, so that "missing"
	// compares equal to nil whatever the type.
	switch d.coll {
	case billing.SubscriptionsCollection:
		v, err := tx.Subscription(ctx, d.id)
		if v == nil {
			return nil, err
		}
		return v, err
	case billing.InvoicesCollection:
		v, err := tx.Invoice(ctx, d.id)
		if v == nil {
			return nil, err
		}
		return v, err
	case billing.PurchasesCollection:
		v, err := tx.Purchase(ctx, d.id)
		if v == nil {
			return nil, err
		}
		return v, err
	case billing.StripeCustomersCollection:
		v, err := tx.StripeCustomer(ctx, d.id)
		if v == nil {
			return nil, err
		}
		return v, err
	case billing.CustomersCollection:
		v, err := tx.Customer(ctx, d.id)
		if v == nil {
			return nil, err
		}
		return v, err
	case billing.CoursesCollection:
		v, err := tx.Course(ctx, d.id)
		if v == nil {
			return nil, err
		}
		return v, err
	case billing.EventsCollection:
		v, err := tx.Event(ctx, d.id)
		if v == nil {
			return nil, err
		}
		return v, err
	}
	return nil, fmt.Errorf("storetest: unknown collection %q", d.coll)
}

// state reads docs in one View, for comparing before and after.
func state(t *testing.T, s billing.Store, docs ...doc) map[string]any {
	t.Helper()
	out := map[string]any{}
	view(t, s, func(ctx context.Context, tx billing.Tx) error {
		for _, d := range docs {
			v, err := d.read(ctx, tx)
			if err != nil {
				return fmt.Errorf("reading %s: %w", d, err)
			}
			out[d.String()] = v
		}
		return nil
	})
	return out
}

// requireAbsent fails for each of docs that exists.
func requireAbsent(t *testing.T, s billing.Store, docs ...doc) {
	t.Helper()
	for name, v := range state(t, s, docs...) {
		if v != nil {
			t.Errorf("%s exists, want nothing written: %s", name, show(v))
		}
	}
}

// Comparison. The stores need not agree on time zones (Firestore gives
// UTC back) or on nil versus empty slices and maps (JSON and Firestore
// differ and no caller can tell); they must agree on everything else.

// same reports whether got and want are equal after normalising both.
func same(got, want any) bool {
	if got == nil || want == nil {
		return got == nil && want == nil
	}
	return reflect.DeepEqual(normal(reflect.ValueOf(got)).Interface(), normal(reflect.ValueOf(want)).Interface())
}

func requireSame(t *testing.T, what string, got, want any) {
	t.Helper()
	if !same(got, want) {
		t.Errorf("%s:\n got %s\nwant %s", what, show(got), show(want))
	}
}

var timeType = reflect.TypeFor[time.Time]()

// normal returns a deep copy of v with every time in UTC and every empty
// slice or map nil.
func normal(v reflect.Value) reflect.Value {
	if !v.IsValid() {
		return v
	}
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == timeType {
			return reflect.ValueOf(v.Interface().(time.Time).UTC())
		}
		out := reflect.New(v.Type()).Elem()
		for i := range v.NumField() {
			if out.Field(i).CanSet() {
				out.Field(i).Set(normal(v.Field(i)))
			}
		}
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(normal(v.Elem()))
		return out
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(normal(v.Elem()))
		return out
	case reflect.Slice:
		if v.Len() == 0 {
			return reflect.Zero(v.Type())
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(normal(v.Index(i)))
		}
		return out
	case reflect.Map:
		if v.Len() == 0 {
			return reflect.Zero(v.Type())
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(it.Key(), normal(it.Value()))
		}
		return out
	}
	return v
}

func show(v any) string {
	if v == nil {
		return "nothing"
	}
	b, err := json.MarshalIndent(normal(reflect.ValueOf(v)).Interface(), "", "  ")
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}

// The contract.

func testRoundTrip(t *testing.T, open func(t *testing.T) billing.Store) {
	subs := map[string]billing.Subscription{
		"AllTimesSet":      fullSubscription("sub_1", "u1"),
		"NilTimesAndEmpty": bareSubscription("sub_2", ""),
		"EmptyItemsAndMetadata": func() billing.Subscription {
			s := bareSubscription("sub_3", "u1")
			s.Items, s.Metadata = []billing.SubscriptionItem{}, map[string]string{}
			return s
		}(),
	}
	for name, want := range subs {
		t.Run("Subscription/"+name, func(t *testing.T) {
			s := open(t)
			apply(t, s, "evt_1", func(tx billing.Tx) error { return tx.PutSubscription(&want) })
			view(t, s, func(ctx context.Context, tx billing.Tx) error {
				got, err := tx.Subscription(ctx, want.ID)
				if err != nil {
					return err
				}
				requireSame(t, "subscription", got, &want)
				return nil
			})
		})
	}

	invoices := map[string]billing.Invoice{
		"AllTimesSet": fullInvoice(),
		"NilTimes": func() billing.Invoice {
			in := fullInvoice()
			in.NextPaymentAttempt, in.PeriodStart, in.PeriodEnd = nil, nil, nil
			return in
		}(),
	}
	for name, want := range invoices {
		t.Run("Invoice/"+name, func(t *testing.T) {
			s := open(t)
			apply(t, s, "evt_1", func(tx billing.Tx) error { return tx.PutInvoice(&want) })
			view(t, s, func(ctx context.Context, tx billing.Tx) error {
				got, err := tx.Invoice(ctx, want.ID)
				if err != nil {
					return err
				}
				requireSame(t, "invoice", got, &want)
				return nil
			})
		})
	}

	t.Run("Purchase", func(t *testing.T) {
		s := open(t)
		want := fullPurchase("cs_1", "u1")
		apply(t, s, "evt_1", func(tx billing.Tx) error { return tx.PutPurchase(&want) })
		view(t, s, func(ctx context.Context, tx billing.Tx) error {
			got, err := tx.Purchase(ctx, want.ID)
			if err != nil {
				return err
			}
			requireSame(t, "purchase", got, &want)
			return nil
		})
	})

	stripeCustomers := map[string]billing.StripeCustomer{
		"Claimed":   fullStripeCustomer(),
		"Unclaimed": {Email: "nobody@example.com", UpdatedAt: t0.In(cest)},
	}
	for name, want := range stripeCustomers {
		t.Run("StripeCustomer/"+name, func(t *testing.T) {
			s := open(t)
			apply(t, s, "evt_1", func(tx billing.Tx) error { return tx.PutStripeCustomer("cus_1", &want) })
			view(t, s, func(ctx context.Context, tx billing.Tx) error {
				got, err := tx.StripeCustomer(ctx, "cus_1")
				if err != nil {
					return err
				}
				requireSame(t, "stripe customer", got, &want)
				return nil
			})
		})
	}

	customers := map[string]billing.Customer{
		"Entitlements":   fullCustomer(),
		"NoEntitlements": {Email: "ada@example.com", UpdatedAt: t0},
	}
	for name, want := range customers {
		t.Run("Customer/"+name, func(t *testing.T) {
			s := open(t)
			apply(t, s, "evt_1", func(tx billing.Tx) error { return tx.PutCustomer("u1", &want) })
			view(t, s, func(ctx context.Context, tx billing.Tx) error {
				got, err := tx.Customer(ctx, "u1")
				if err != nil {
					return err
				}
				// fullCustomer has one entitlement with Until set and one
				// with Until nil; same tells nil from set.
				requireSame(t, "customer", got, &want)
				return nil
			})
		})
	}

	t.Run("EventRecord", func(t *testing.T) {
		s := open(t)
		rec := record("evt_1")
		rec.Created = rec.Created.In(cest)
		rec.Outcome = billing.Ignored // the store records fn's outcome instead
		stored, dup, err := s.ApplyEvent(ctxFor(t), rec, func(context.Context, billing.Tx) (billing.Outcome, string, error) {
			return billing.Unprocessable, "subscription has no items", nil
		})
		if err != nil || dup {
			t.Fatalf("ApplyEvent = dup %v, err %v; want a first delivery", dup, err)
		}
		want := rec
		want.Outcome, want.Detail = billing.Unprocessable, "subscription has no items"
		requireSame(t, "returned record", stored, want)
		view(t, s, func(ctx context.Context, tx billing.Tx) error {
			got, err := tx.Event(ctx, "evt_1")
			if err != nil {
				return err
			}
			requireSame(t, "stored record", got, &want)
			return nil
		})
	})
}

func testPutReplaces(t *testing.T, s billing.Store) {
	first := fullSubscription("sub_1", "u1")
	apply(t, s, "evt_1", func(tx billing.Tx) error { return tx.PutSubscription(&first) })
	second := bareSubscription("sub_1", "u2")
	second.Metadata = map[string]string{"only": "this"}
	apply(t, s, "evt_2", func(tx billing.Tx) error { return tx.PutSubscription(&second) })
	got := state(t, s, doc{billing.SubscriptionsCollection, "sub_1"})
	requireSame(t, "subscription after second put", got["subscriptions/sub_1"], &second)
}

func testMissing(t *testing.T, s billing.Store) {
	// Something stored, so that "missing" is not just "empty store".
	sub := fullSubscription("sub_1", "u1")
	apply(t, s, "evt_1", func(tx billing.Tx) error { return tx.PutSubscription(&sub) })
	for _, d := range []doc{
		{billing.SubscriptionsCollection, "sub_missing"},
		{billing.InvoicesCollection, "in_missing"},
		{billing.PurchasesCollection, "cs_missing"},
		{billing.StripeCustomersCollection, "cus_missing"},
		{billing.CustomersCollection, "u_missing"},
		{billing.EventsCollection, "evt_missing"},
		// The same id in another collection is another document.
		{billing.InvoicesCollection, "sub_1"},
	} {
		view(t, s, func(ctx context.Context, tx billing.Tx) error {
			v, err := d.read(ctx, tx)
			if err != nil {
				t.Errorf("%s: err = %v, want nil", d, err)
			}
			if v != nil {
				t.Errorf("%s = %s, want nil", d, show(v))
			}
			return nil
		})
	}
	view(t, s, func(ctx context.Context, tx billing.Tx) error {
		if subs, err := tx.SubscriptionsOf(ctx, "u_missing"); err != nil || len(subs) != 0 {
			t.Errorf("SubscriptionsOf(u_missing) = %s, %v; want none, nil", show(subs), err)
		}
		if ps, err := tx.PurchasesOf(ctx, "u_missing"); err != nil || len(ps) != 0 {
			t.Errorf("PurchasesOf(u_missing) = %s, %v; want none, nil", show(ps), err)
		}
		return nil
	})
	// Missing reads inside ApplyEvent behave the same.
	apply(t, s, "evt_2", func(tx billing.Tx) error {
		got, err := tx.Subscription(context.Background(), "sub_missing")
		if got != nil || err != nil {
			t.Errorf("Subscription(sub_missing) in ApplyEvent = %v, %v; want nil, nil", got, err)
		}
		return nil
	})
}

// badIDs are document ids Firestore refuses, for reads and writes alike.
var badIDs = map[string]string{
	"Empty":       "",
	"Slash":       "a/b",
	"Dot":         ".",
	"DotDot":      "..",
	"Reserved":    "__x__",
	"InvalidUTF8": "\xff",
}

// tooLong is refused on writes; a read of it finds nothing.
var tooLong = strings.Repeat("a", 1501)

func testInvalidIDs(t *testing.T, s billing.Store) {
	for name, id := range badIDs {
		view(t, s, func(ctx context.Context, tx billing.Tx) error {
			for _, coll := range []string{
				billing.SubscriptionsCollection, billing.InvoicesCollection, billing.PurchasesCollection,
				billing.StripeCustomersCollection, billing.CustomersCollection, billing.EventsCollection,
			} {
				if _, err := (doc{coll, id}).read(ctx, tx); err == nil {
					t.Errorf("%s: reading %s/%q: no error", name, coll, id)
				}
			}
			return nil
		})
	}
	ids := maps.Clone(badIDs)
	ids["TooLong"] = tooLong
	for name, id := range ids {
		puts := map[string]func(tx billing.Tx) error{
			"PutSubscription":   func(tx billing.Tx) error { return tx.PutSubscription(&billing.Subscription{ID: id, UID: "u1"}) },
			"PutInvoice":        func(tx billing.Tx) error { return tx.PutInvoice(&billing.Invoice{ID: id, UID: "u1"}) },
			"PutPurchase":       func(tx billing.Tx) error { return tx.PutPurchase(&billing.Purchase{ID: id, UID: "u1"}) },
			"PutStripeCustomer": func(tx billing.Tx) error { return tx.PutStripeCustomer(id, &billing.StripeCustomer{UID: "u1"}) },
			"PutCustomer":       func(tx billing.Tx) error { return tx.PutCustomer(id, &billing.Customer{Email: "x"}) },
		}
		for put, fn := range puts {
			evt := "evt_" + name + "_" + put
			_, _, err := s.ApplyEvent(ctxFor(t), record(evt), func(_ context.Context, tx billing.Tx) (billing.Outcome, string, error) {
				return billing.Applied, "", fn(tx)
			})
			if err == nil {
				t.Errorf("%s: %s(%.20q): no error", name, put, id)
			}
			requireAbsent(t, s, doc{billing.EventsCollection, evt})
		}
	}
	for name, id := range badIDs {
		if _, _, err := s.ApplyEvent(ctxFor(t), record(id), func(context.Context, billing.Tx) (billing.Outcome, string, error) {
			t.Errorf("%s: fn ran for event id %q", name, id)
			return billing.Applied, "", nil
		}); err == nil {
			t.Errorf("%s: ApplyEvent with event id %q: no error", name, id)
		}
	}
	view(t, s, func(ctx context.Context, tx billing.Tx) error {
		if c, err := tx.Customer(ctx, tooLong); c != nil || err != nil {
			t.Errorf("reading a 1501-byte id = %v, %v; want nil, nil", c, err)
		}
		return nil
	})
}

func testUnusualIDs(t *testing.T, s billing.Store) {
	for _, id := range []string{"_x_", "a b", "ünï", "cus_ABC-def.123"} {
		want := billing.Customer{Email: id, UpdatedAt: t0}
		apply(t, s, "evt_"+id, func(tx billing.Tx) error { return tx.PutCustomer(id, &want) })
		got := state(t, s, doc{billing.CustomersCollection, id}, doc{billing.EventsCollection, "evt_" + id})
		requireSame(t, "customer "+id, got[billing.CustomersCollection+"/"+id], &want)
		if got[billing.EventsCollection+"/evt_"+id] == nil {
			t.Errorf("no marker for event %q", "evt_"+id)
		}
	}
}

// everything writes one document of each kind and lists them.
func everything(tx billing.Tx) error {
	sub, in, p, sc, c := fullSubscription("sub_1", "u1"), fullInvoice(), fullPurchase("cs_1", "u1"), fullStripeCustomer(), fullCustomer()
	return errors.Join(
		tx.PutSubscription(&sub),
		tx.PutInvoice(&in),
		tx.PutPurchase(&p),
		tx.PutStripeCustomer("cus_1", &sc),
		tx.PutCustomer("u1", &c),
	)
}

var everyDoc = []doc{
	{billing.SubscriptionsCollection, "sub_1"},
	{billing.InvoicesCollection, "in_1"},
	{billing.PurchasesCollection, "cs_1"},
	{billing.StripeCustomersCollection, "cus_1"},
	{billing.CustomersCollection, "u1"},
}

func testApplyWrites(t *testing.T, s billing.Store) {
	rec := record("evt_1")
	stored, dup, err := s.ApplyEvent(ctxFor(t), rec, func(_ context.Context, tx billing.Tx) (billing.Outcome, string, error) {
		return billing.Stale, "newer view stored", everything(tx)
	})
	if err != nil || dup {
		t.Fatalf("ApplyEvent = dup %v, err %v; want a first delivery", dup, err)
	}
	want := rec
	want.Outcome, want.Detail = billing.Stale, "newer view stored"
	requireSame(t, "returned record", stored, want)

	got := state(t, s, slices.Concat(everyDoc, []doc{{billing.EventsCollection, "evt_1"}})...)
	sub, in, p, sc, c := fullSubscription("sub_1", "u1"), fullInvoice(), fullPurchase("cs_1", "u1"), fullStripeCustomer(), fullCustomer()
	requireSame(t, "subscription", got["subscriptions/sub_1"], &sub)
	requireSame(t, "invoice", got["invoices/in_1"], &in)
	requireSame(t, "purchase", got["purchases/cs_1"], &p)
	requireSame(t, "stripe customer", got["stripe_customers/cus_1"], &sc)
	requireSame(t, "customer", got["customers/u1"], &c)
	requireSame(t, "marker", got["stripe_events/evt_1"], &want)
}

func testDuplicate(t *testing.T, s billing.Store) {
	first := apply(t, s, "evt_1", everything)
	all := slices.Concat(everyDoc, []doc{{billing.EventsCollection, "evt_1"}, {billing.SubscriptionsCollection, "sub_other"}})
	before := state(t, s, all...)

	again := record("evt_1")
	again.Type, again.Function, again.ReceivedAt = "invoice.paid", "webhook-invoices", t0.Add(time.Hour)
	stored, dup, err := s.ApplyEvent(ctxFor(t), again, func(_ context.Context, tx billing.Tx) (billing.Outcome, string, error) {
		t.Error("fn ran for a duplicate event")
		other := bareSubscription("sub_other", "u1")
		sub := bareSubscription("sub_1", "u2")
		return billing.Applied, "second", errors.Join(tx.PutSubscription(&other), tx.PutSubscription(&sub))
	})
	if err != nil {
		t.Fatalf("duplicate ApplyEvent: %v", err)
	}
	if !dup {
		t.Error("duplicate ApplyEvent: duplicate = false")
	}
	requireSame(t, "record returned for the duplicate (the stored one)", stored, first)
	after := state(t, s, all...)
	for name := range before {
		requireSame(t, name+" after the duplicate", after[name], before[name])
	}
}

var errBoom = errors.New("storetest: boom")

func testFnError(t *testing.T, s billing.Store) {
	_, dup, err := s.ApplyEvent(ctxFor(t), record("evt_1"), func(_ context.Context, tx billing.Tx) (billing.Outcome, string, error) {
		if err := everything(tx); err != nil {
			return "", "", err
		}
		return billing.Applied, "", fmt.Errorf("handler: %w", errBoom)
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("ApplyEvent err = %v, want one wrapping %v", err, errBoom)
	}
	if dup {
		t.Error("failed ApplyEvent reported a duplicate")
	}
	requireAbsent(t, s, slices.Concat(everyDoc, []doc{{billing.EventsCollection, "evt_1"}})...)

	// With no marker left behind, Stripe's retry applies the event.
	apply(t, s, "evt_1", everything)
	if got := state(t, s, doc{billing.EventsCollection, "evt_1"}); got["stripe_events/evt_1"] == nil {
		t.Error("retry after a failure wrote no marker")
	}
}

func testReadAfterWrite(t *testing.T, s billing.Store) {
	seed := fullSubscription("sub_1", "u1")
	apply(t, s, "evt_0", func(tx billing.Tx) error { return tx.PutSubscription(&seed) })

	reads := map[string]func(ctx context.Context, tx billing.Tx) error{}
	for _, d := range slices.Concat(everyDoc, []doc{{billing.EventsCollection, "evt_0"}}) {
		reads[d.String()] = func(ctx context.Context, tx billing.Tx) error { _, err := d.read(ctx, tx); return err }
	}
	reads["SubscriptionsOf"] = func(ctx context.Context, tx billing.Tx) error { _, err := tx.SubscriptionsOf(ctx, "u1"); return err }
	reads["PurchasesOf"] = func(ctx context.Context, tx billing.Tx) error { _, err := tx.PurchasesOf(ctx, "u1"); return err }

	for name, read := range reads {
		var readErr error
		_, _, err := s.ApplyEvent(ctxFor(t), record("evt_raw"), func(ctx context.Context, tx billing.Tx) (billing.Outcome, string, error) {
			c := fullCustomer()
			if err := tx.PutCustomer("u1", &c); err != nil {
				return "", "", err
			}
			readErr = read(ctx, tx)
			return billing.Applied, "", readErr
		})
		if !errors.Is(readErr, billing.ErrReadAfterWrite) {
			t.Errorf("%s after a write: err = %v, want ErrReadAfterWrite", name, readErr)
		}
		if !errors.Is(err, billing.ErrReadAfterWrite) {
			t.Errorf("%s after a write: ApplyEvent err = %v, want one wrapping ErrReadAfterWrite", name, err)
		}
	}
	requireAbsent(t, s, doc{billing.CustomersCollection, "u1"})
}

func testReadsBeforeWrites(t *testing.T, s billing.Store) {
	old := bareSubscription("sub_1", "u1")
	apply(t, s, "evt_0", func(tx billing.Tx) error { return tx.PutSubscription(&old) })
	next := fullSubscription("sub_1", "u1")
	apply(t, s, "evt_1", func(tx billing.Tx) error {
		ctx := context.Background()
		got, err := tx.Subscription(ctx, "sub_1")
		if err != nil {
			return err
		}
		requireSame(t, "read inside ApplyEvent", got, &old)
		subs, err := tx.SubscriptionsOf(ctx, "u1")
		if err != nil {
			return err
		}
		requireSame(t, "SubscriptionsOf inside ApplyEvent", subs, []billing.Subscription{old})
		return tx.PutSubscription(&next)
	})
	got := state(t, s, doc{billing.SubscriptionsCollection, "sub_1"})
	requireSame(t, "subscription", got["subscriptions/sub_1"], &next)
}

func testCancelledBefore(t *testing.T, s billing.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, dup, err := s.ApplyEvent(ctx, record("evt_1"), func(_ context.Context, tx billing.Tx) (billing.Outcome, string, error) {
		return billing.Applied, "", everything(tx)
	})
	if err == nil {
		t.Error("ApplyEvent with a cancelled context: no error")
	}
	if dup {
		t.Error("ApplyEvent with a cancelled context: duplicate = true")
	}
	requireAbsent(t, s, slices.Concat(everyDoc, []doc{{billing.EventsCollection, "evt_1"}})...)
}

func testCancelledDuring(t *testing.T, s billing.Store) {
	ctx, cancel := context.WithCancel(ctxFor(t))
	defer cancel()
	_, _, err := s.ApplyEvent(ctx, record("evt_1"), func(_ context.Context, tx billing.Tx) (billing.Outcome, string, error) {
		// The request goes away after fn has done its work but before
		// the commit: the commit must not happen.
		cancel()
		return billing.Applied, "", everything(tx)
	})
	if err == nil {
		t.Error("ApplyEvent cancelled during fn: no error")
	}
	requireAbsent(t, s, slices.Concat(everyDoc, []doc{{billing.EventsCollection, "evt_1"}})...)
}

func testViewReadOnly(t *testing.T, s billing.Store) {
	puts := map[string]func(tx billing.Tx) error{
		"PutSubscription": func(tx billing.Tx) error { v := fullSubscription("sub_1", "u1"); return tx.PutSubscription(&v) },
		"PutInvoice":      func(tx billing.Tx) error { v := fullInvoice(); return tx.PutInvoice(&v) },
		"PutPurchase":     func(tx billing.Tx) error { v := fullPurchase("cs_1", "u1"); return tx.PutPurchase(&v) },
		"PutStripeCustomer": func(tx billing.Tx) error {
			v := fullStripeCustomer()
			return tx.PutStripeCustomer("cus_1", &v)
		},
		"PutCustomer": func(tx billing.Tx) error { v := fullCustomer(); return tx.PutCustomer("u1", &v) },
	}
	for name, put := range puts {
		var putErr error
		err := s.View(ctxFor(t), func(_ context.Context, tx billing.Tx) error {
			putErr = put(tx)
			return nil
		})
		if !errors.Is(putErr, billing.ErrReadOnly) {
			t.Errorf("%s in View: err = %v, want ErrReadOnly", name, putErr)
		}
		if err != nil {
			t.Errorf("View whose fn returned nil: %v", err)
		}
	}
	requireAbsent(t, s, everyDoc...)
}

func testViewError(t *testing.T, s billing.Store) {
	err := s.View(ctxFor(t), func(context.Context, billing.Tx) error {
		return fmt.Errorf("reading: %w", errBoom)
	})
	if !errors.Is(err, errBoom) {
		t.Errorf("View err = %v, want one wrapping %v", err, errBoom)
	}
}

func testViewCancelled(t *testing.T, s billing.Store) {
	seed := fullSubscription("sub_1", "u1")
	apply(t, s, "evt_1", func(tx billing.Tx) error { return tx.PutSubscription(&seed) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.View(ctx, func(ctx context.Context, tx billing.Tx) error {
		_, err := tx.Subscription(ctx, "sub_1")
		return err
	})
	if err == nil {
		t.Error("View with a cancelled context: no error")
	}
}

// Ids out of order, in several cases and lengths, so that "sorted by id"
// means byte order and not insertion order.
var ownedIDs = []string{"x_b", "x_10", "x_A", "x_2", "x_a"}

func testSubscriptionsOf(t *testing.T, s billing.Store) {
	owners := map[string]string{"x_c": "u2", "x_d": "", "x_e": "u10", "x_f": "U1", "x_g": "u"}
	apply(t, s, "evt_1", func(tx billing.Tx) error {
		var errs []error
		for _, id := range ownedIDs {
			v := fullSubscription(id, "u1")
			errs = append(errs, tx.PutSubscription(&v))
		}
		for id, uid := range owners {
			v := fullSubscription(id, uid)
			errs = append(errs, tx.PutSubscription(&v))
		}
		// A purchase of u1's is not a subscription.
		p := fullPurchase("x_p", "u1")
		errs = append(errs, tx.PutPurchase(&p))
		return errors.Join(errs...)
	})
	want := map[string][]billing.Subscription{"u1": nil, "u2": {fullSubscription("x_c", "u2")}, "nobody": nil}
	for _, id := range []string{"x_10", "x_2", "x_A", "x_a", "x_b"} {
		want["u1"] = append(want["u1"], fullSubscription(id, "u1"))
	}
	view(t, s, func(ctx context.Context, tx billing.Tx) error {
		for uid, w := range want {
			got, err := tx.SubscriptionsOf(ctx, uid)
			if err != nil {
				return fmt.Errorf("SubscriptionsOf(%s): %w", uid, err)
			}
			requireSame(t, "SubscriptionsOf("+uid+")", got, w)
		}
		return nil
	})
}

func testPurchasesOf(t *testing.T, s billing.Store) {
	owners := map[string]string{"x_c": "u2", "x_d": "", "x_e": "u10", "x_f": "U1", "x_g": "u"}
	apply(t, s, "evt_1", func(tx billing.Tx) error {
		var errs []error
		for _, id := range ownedIDs {
			v := fullPurchase(id, "u1")
			errs = append(errs, tx.PutPurchase(&v))
		}
		for id, uid := range owners {
			v := fullPurchase(id, uid)
			errs = append(errs, tx.PutPurchase(&v))
		}
		sub := fullSubscription("x_s", "u1")
		errs = append(errs, tx.PutSubscription(&sub))
		return errors.Join(errs...)
	})
	want := map[string][]billing.Purchase{"u1": nil, "u2": {fullPurchase("x_c", "u2")}, "nobody": nil}
	for _, id := range []string{"x_10", "x_2", "x_A", "x_a", "x_b"} {
		want["u1"] = append(want["u1"], fullPurchase(id, "u1"))
	}
	view(t, s, func(ctx context.Context, tx billing.Tx) error {
		for uid, w := range want {
			got, err := tx.PurchasesOf(ctx, uid)
			if err != nil {
				return fmt.Errorf("PurchasesOf(%s): %w", uid, err)
			}
			requireSame(t, "PurchasesOf("+uid+")", got, w)
		}
		return nil
	})
}

func testOwnerChange(t *testing.T, s billing.Store) {
	unclaimed := fullSubscription("sub_1", "")
	p := fullPurchase("cs_1", "u1")
	apply(t, s, "evt_1", func(tx billing.Tx) error {
		return errors.Join(tx.PutSubscription(&unclaimed), tx.PutPurchase(&p))
	})
	claimed := fullSubscription("sub_1", "u1")
	moved := fullPurchase("cs_1", "u2")
	apply(t, s, "evt_2", func(tx billing.Tx) error {
		return errors.Join(tx.PutSubscription(&claimed), tx.PutPurchase(&moved))
	})
	view(t, s, func(ctx context.Context, tx billing.Tx) error {
		subs, err := tx.SubscriptionsOf(ctx, "u1")
		if err != nil {
			return err
		}
		requireSame(t, "SubscriptionsOf(u1) after the claim", subs, []billing.Subscription{claimed})
		ps1, err := tx.PurchasesOf(ctx, "u1")
		if err != nil {
			return err
		}
		requireSame(t, "PurchasesOf(u1) after the move", ps1, []billing.Purchase(nil))
		ps2, err := tx.PurchasesOf(ctx, "u2")
		if err != nil {
			return err
		}
		requireSame(t, "PurchasesOf(u2) after the move", ps2, []billing.Purchase{moved})
		return nil
	})
}

// A counter held in customers/counter's Email: fn reads it and writes it
// back plus one, so a lost update or a second effect shows in the total.

const counterUID = "counter"

func readCounter(ctx context.Context, tx billing.Tx) (int, error) {
	c, err := tx.Customer(ctx, counterUID)
	if err != nil || c == nil {
		return 0, err
	}
	return strconv.Atoi(c.Email)
}

func increment(ctx context.Context, tx billing.Tx) error {
	n, err := readCounter(ctx, tx)
	if err != nil {
		return err
	}
	return tx.PutCustomer(counterUID, &billing.Customer{Email: strconv.Itoa(n + 1), UpdatedAt: t0})
}

func counter(t *testing.T, s billing.Store) int {
	t.Helper()
	var n int
	view(t, s, func(ctx context.Context, tx billing.Tx) error {
		var err error
		n, err = readCounter(ctx, tx)
		return err
	})
	return n
}

type result struct {
	stored billing.EventRecord
	dup    bool
	err    error
}

// race runs fn(i) for i in [0, Racers) at once and returns their results.
func race(fn func(i int) result) []result {
	results := make([]result, Racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range Racers {
		wg.Go(func() {
			<-start
			results[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return results
}

// racer's purchase proves whose fn committed.
func racerPurchase(i int) billing.Purchase {
	return fullPurchase(fmt.Sprintf("cs_racer_%02d", i), "racer")
}

func testSameEventRace(t *testing.T, s billing.Store) {
	ctx := ctxFor(t)
	results := race(func(i int) result {
		stored, dup, err := s.ApplyEvent(ctx, record("evt_same"), func(ctx context.Context, tx billing.Tx) (billing.Outcome, string, error) {
			if err := increment(ctx, tx); err != nil {
				return "", "", err
			}
			p := racerPurchase(i)
			return billing.Applied, strconv.Itoa(i), tx.PutPurchase(&p)
		})
		return result{stored, dup, err}
	})
	winner := -1
	for i, r := range results {
		switch {
		case r.err != nil:
			t.Errorf("racer %d: %v", i, r.err)
		case !r.dup && winner >= 0:
			t.Errorf("racers %d and %d both applied the event", winner, i)
		case !r.dup:
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no racer applied the event")
	}
	if n := counter(t, s); n != 1 {
		t.Errorf("counter = %d, want 1: the event took effect %d times", n, n)
	}
	won := results[winner].stored
	if won.Detail != strconv.Itoa(winner) {
		t.Errorf("winner %d's record has detail %q", winner, won.Detail)
	}
	for i, r := range results {
		if r.err == nil {
			requireSame(t, fmt.Sprintf("racer %d's record", i), r.stored, won)
		}
	}
	view(t, s, func(ctx context.Context, tx billing.Tx) error {
		ps, err := tx.PurchasesOf(ctx, "racer")
		if err != nil {
			return err
		}
		requireSame(t, "racers' purchases", ps, []billing.Purchase{racerPurchase(winner)})
		return nil
	})
}

func testDistinctEventsRace(t *testing.T, s billing.Store) {
	ctx := ctxFor(t)
	results := race(func(i int) result {
		stored, dup, err := s.ApplyEvent(ctx, record(fmt.Sprintf("evt_%02d", i)), func(ctx context.Context, tx billing.Tx) (billing.Outcome, string, error) {
			if err := increment(ctx, tx); err != nil {
				return "", "", err
			}
			p := racerPurchase(i)
			return billing.Applied, "", tx.PutPurchase(&p)
		})
		return result{stored, dup, err}
	})
	for i, r := range results {
		if r.err != nil || r.dup {
			t.Errorf("event %d: duplicate %v, err %v; want applied", i, r.dup, r.err)
		}
	}
	if n := counter(t, s); n != Racers {
		t.Errorf("counter = %d after %d events, want %d", n, Racers, Racers)
	}
	var want []billing.Purchase
	for i := range Racers {
		want = append(want, racerPurchase(i))
	}
	view(t, s, func(ctx context.Context, tx billing.Tx) error {
		ps, err := tx.PurchasesOf(ctx, "racer")
		if err != nil {
			return err
		}
		requireSame(t, "racers' purchases", ps, want)
		for i := range Racers {
			rec, err := tx.Event(ctx, fmt.Sprintf("evt_%02d", i))
			if err != nil {
				return err
			}
			if rec == nil {
				t.Errorf("event %d: no marker", i)
			}
		}
		return nil
	})
}

func fullCourse(id string) billing.Course {
	return billing.Course{
		ID: id, Title: "Go for billing engineers", StripeProductID: "prod_store", StripePriceID: "price_store",
		Mode: billing.ModeSubscription, Interval: "month", Amount: 4900, Currency: "usd",
		Active: true, PriceActive: true, ProductAsOf: t0, PriceAsOf: t0.Add(time.Second), UpdatedAt: t0,
	}
}

func update(t *testing.T, s billing.Store, fn func(ctx context.Context, tx billing.Tx) error) {
	t.Helper()
	if err := s.Update(ctxFor(t), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func testCourseRoundTrip(t *testing.T, s billing.Store) {
	c := fullCourse("go-billing")
	update(t, s, func(ctx context.Context, tx billing.Tx) error { return tx.PutCourse(&c) })
	got := state(t, s, doc{billing.CoursesCollection, c.ID})
	requireSame(t, "course", got["courses/go-billing"], &c)
}

func testUpdateError(t *testing.T, s billing.Store) {
	boom := errors.New("boom")
	err := s.Update(ctxFor(t), func(ctx context.Context, tx billing.Tx) error {
		c := fullCourse("half")
		if err := tx.PutCourse(&c); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want the fn's error", err)
	}
	requireAbsent(t, s, doc{billing.CoursesCollection, "half"})
}

func testUpdateNoMarker(t *testing.T, s billing.Store) {
	update(t, s, func(ctx context.Context, tx billing.Tx) error { return increment(ctx, tx) })
	if n := counter(t, s); n != 1 {
		t.Fatalf("counter = %d after one Update, want 1", n)
	}
	// Update is not an event: a later event still applies.
	if rec := apply(t, s, "evt_after_update", func(tx billing.Tx) error { return nil }); rec.Outcome != billing.Applied {
		t.Errorf("event after Update: outcome %q, want applied", rec.Outcome)
	}
}

func testUpdateRace(t *testing.T, s billing.Store) {
	ctx := ctxFor(t)
	results := race(func(i int) result {
		return result{err: s.Update(ctx, increment)}
	})
	for i, r := range results {
		if r.err != nil {
			t.Errorf("racer %d: %v", i, r.err)
		}
	}
	if n := counter(t, s); n != Racers {
		t.Errorf("counter = %d after %d concurrent Updates: updates were lost", n, Racers)
	}
}
