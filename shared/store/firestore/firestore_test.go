package firestore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	gfs "cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/store/firestore"
	"github.com/courseplatform/billing/shared/store/firestore/firestoretest"
	"github.com/courseplatform/billing/shared/store/storetest"
)

func TestContract(t *testing.T) {
	firestoretest.Host(t)
	storetest.Run(t, func(t *testing.T) billing.Store {
		s, _ := firestoretest.Open(t)
		return s
	})
}

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 123456000, time.UTC)

func record(id string) billing.EventRecord {
	return billing.EventRecord{
		ID:         id,
		Type:       "customer.subscription.updated",
		Created:    t0.Add(-time.Minute),
		APIVersion: "2023-10-16",
		Livemode:   false,
		Function:   "webhook-subscriptions",
		ReceivedAt: t0,
		ExpireAt:   t0.Add(billing.EventRetention),
	}
}

// writeAll writes one document of every kind with the given status, so
// that a second run with another status would change every one of them.
func writeAll(status string) billing.ApplyFunc {
	return func(_ context.Context, tx billing.Tx) (billing.Outcome, string, error) {
		return billing.Applied, status, errors.Join(
			tx.PutSubscription(&billing.Subscription{ID: "sub_1", UID: "u1", Status: status, CurrentPeriodEnd: &t0}),
			tx.PutInvoice(&billing.Invoice{ID: "in_1", UID: "u1", Status: status}),
			tx.PutPurchase(&billing.Purchase{ID: "cs_1", UID: "u1", Status: status}),
			tx.PutStripeCustomer("cus_1", &billing.StripeCustomer{UID: "u1", Email: status}),
			tx.PutCustomer("u1", &billing.Customer{StripeCustomerID: "cus_1", Email: status}),
		)
	}
}

var allPaths = []string{
	billing.SubscriptionsCollection + "/sub_1",
	billing.InvoicesCollection + "/in_1",
	billing.PurchasesCollection + "/cs_1",
	billing.StripeCustomersCollection + "/cus_1",
	billing.CustomersCollection + "/u1",
	billing.EventsCollection + "/evt_1",
}

// snapshots reads paths straight from Firestore, bypassing the store.
func snapshots(t *testing.T, c *gfs.Client, paths []string) map[string]*gfs.DocumentSnapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := map[string]*gfs.DocumentSnapshot{}
	for _, p := range paths {
		snap, err := c.Doc(p).Get(ctx)
		if err != nil {
			t.Fatalf("get %s: %v", p, err)
		}
		out[p] = snap
	}
	return out
}

// A redelivered event must not touch a document: not even rewrite it with
// the same content, which would move UpdateTime and fire listeners.
func TestDuplicateKeepsUpdateTime(t *testing.T) {
	s, _ := firestoretest.Open(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, dup, err := s.ApplyEvent(ctx, record("evt_1"), writeAll("active")); err != nil || dup {
		t.Fatalf("first delivery: duplicate %v, err %v", dup, err)
	}
	before := snapshots(t, s.Client(), allPaths)

	for _, status := range []string{"active", "canceled"} {
		stored, dup, err := s.ApplyEvent(ctx, record("evt_1"), writeAll(status))
		if err != nil || !dup {
			t.Fatalf("redelivery: duplicate %v, err %v; want duplicate", dup, err)
		}
		if stored.Detail != "active" {
			t.Errorf("redelivery returned detail %q, want the stored %q", stored.Detail, "active")
		}
	}

	after := snapshots(t, s.Client(), allPaths)
	for _, p := range allPaths {
		if !after[p].UpdateTime.Equal(before[p].UpdateTime) {
			t.Errorf("%s: UpdateTime moved from %v to %v on a duplicate", p, before[p].UpdateTime, after[p].UpdateTime)
		}
	}
}

// The security rules, the frontend and the TTL policy read the documents
// by field name, so the names and types in DESIGN.md are part of the
// contract too.
func TestDocumentShape(t *testing.T) {
	s, _ := firestoretest.Open(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rec := record("evt_1")
	sub := billing.Subscription{
		ID: "sub_1", UID: "u1", Customer: "cus_1", Status: "active",
		Items:   []billing.SubscriptionItem{{Price: "price_1", Product: "prod_1", CourseID: "course_go", Quantity: 1}},
		Version: billing.Version{AsOf: t0, LastEventID: "evt_1", SyncedAt: t0},
	}
	if _, _, err := s.ApplyEvent(ctx, rec, func(_ context.Context, tx billing.Tx) (billing.Outcome, string, error) {
		return billing.Applied, "", tx.PutSubscription(&sub)
	}); err != nil {
		t.Fatal(err)
	}
	snaps := snapshots(t, s.Client(), []string{"subscriptions/sub_1", "stripe_events/evt_1"})

	subData := snaps["subscriptions/sub_1"].Data()
	for _, f := range []string{"uid", "customer", "status", "items", "cancelAtPeriodEnd", "currentPeriodEnd", "metadata", "asOf", "syncedAt", "lastEventId"} {
		if _, ok := subData[f]; !ok {
			t.Errorf("subscriptions/sub_1 lacks top-level field %q; has %v", f, keys(subData))
		}
	}
	if _, ok := subData["Version"]; ok {
		t.Error("subscriptions/sub_1 nests the version under \"Version\"; its fields belong at the top level")
	}
	if uid, _ := subData["uid"].(string); uid != "u1" {
		t.Errorf("subscriptions/sub_1 uid = %#v, want \"u1\"", subData["uid"])
	}

	evData := snaps["stripe_events/evt_1"].Data()
	for _, f := range []string{"type", "created", "apiVersion", "livemode", "outcome", "expireAt"} {
		if _, ok := evData[f]; !ok {
			t.Errorf("stripe_events/evt_1 lacks field %q; has %v", f, keys(evData))
		}
	}
	// A TTL policy only deletes documents whose field is a timestamp.
	if exp, ok := evData["expireAt"].(time.Time); !ok || !exp.Equal(rec.ExpireAt) {
		t.Errorf("stripe_events/evt_1 expireAt = %#v, want the timestamp %v", evData["expireAt"], rec.ExpireAt)
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A Firestore that cannot be reached is an error the webhook turns into a
// 5xx, within the request's deadline, with nothing written.
func TestUnreachable(t *testing.T) {
	t.Setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:1") // nothing listens on port 1
	s, err := firestore.Open(context.Background(), "test-unreachable", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })

	// The store gets a short deadline; the test waits on a longer one so
	// that a store ignoring its deadline fails here instead of hanging.
	wait, cancelWait := context.WithTimeout(context.Background(), time.Minute)
	defer cancelWait()

	type result struct {
		dup bool
		err error
	}
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, dup, err := s.ApplyEvent(ctx, record("evt_1"), writeAll("active"))
		done <- result{dup, err}
	}()
	select {
	case r := <-done:
		if r.err == nil {
			t.Fatal("ApplyEvent against an unreachable Firestore: no error")
		}
		if r.dup {
			t.Error("ApplyEvent against an unreachable Firestore: duplicate = true")
		}
		if c := status.Code(r.err); c != codes.Unavailable && c != codes.DeadlineExceeded && !errors.Is(r.err, context.DeadlineExceeded) {
			t.Logf("error (code %v): %v", c, r.err)
		}
	case <-wait.Done():
		t.Fatal("ApplyEvent against an unreachable Firestore did not return long after its deadline")
	}
}
