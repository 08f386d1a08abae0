package memstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/store/memstore"
	"github.com/courseplatform/billing/shared/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) billing.Store { return memstore.New() })
}

func TestFailCommitWritesNothing(t *testing.T) {
	s := memstore.New()
	errDown := errors.New("database down")
	s.FailCommit = func() error { return errDown }
	rec := billing.EventRecord{ID: "evt_1", Type: "customer.subscription.updated"}
	write := func(_ context.Context, tx billing.Tx) (billing.Outcome, string, error) {
		sub := billing.Subscription{ID: "sub_1", UID: "u1", Status: "active"}
		c := billing.Customer{Email: "ada@example.com"}
		return billing.Applied, "", errors.Join(
			tx.PutSubscription(&sub),
			tx.PutCustomer("u1", &c),
			tx.PutStripeCustomer("cus_1", &billing.StripeCustomer{UID: "u1"}),
		)
	}

	_, dup, err := s.ApplyEvent(context.Background(), rec, write)
	if !errors.Is(err, errDown) {
		t.Fatalf("ApplyEvent err = %v, want %v", err, errDown)
	}
	if dup {
		t.Error("failed commit reported a duplicate")
	}
	if dump := s.Dump(); len(dump) != 0 {
		t.Errorf("failed commit left documents behind: %v", dump)
	}

	// The database is back: Stripe's retry applies the event in full.
	s.FailCommit = nil
	if _, dup, err := s.ApplyEvent(context.Background(), rec, write); err != nil || dup {
		t.Fatalf("retry: duplicate %v, err %v; want applied", dup, err)
	}
	for coll, want := range map[string]int{
		billing.SubscriptionsCollection:   1,
		billing.CustomersCollection:       1,
		billing.StripeCustomersCollection: 1,
		billing.EventsCollection:          1,
	} {
		if got := s.Len(coll); got != want {
			t.Errorf("%s holds %d documents after the retry, want %d", coll, got, want)
		}
	}
}
