package chaos_test

import (
	"context"
	"flag"
	"fmt"
	"testing"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/chaos"
	"github.com/courseplatform/billing/shared/store/firestore/firestoretest"
	"github.com/courseplatform/billing/shared/store/memstore"
	"github.com/courseplatform/billing/shared/stripelocal"
	"github.com/courseplatform/billing/shared/webhook/webhooktest"
)

var (
	customers = flag.Int("chaos.customers", 0, "customers per seed in the replay property test (0: the CI size)")
	seeds     = flag.Int("chaos.seeds", 3, "how many seeds the replay property test runs")
)

func run(t *testing.T, store billing.Store, seed int64, apiVersion string) {
	t.Helper()
	cfg := chaos.DefaultConfig()
	cfg.Seed = seed
	if *customers > 0 {
		cfg.Customers = *customers
	}
	s := stripelocal.New(stripelocal.Options{Seed: seed})
	local, err := chaos.StartLocal(s, store, chaos.LocalConfig{Secret: webhooktest.Secret, APIVersion: apiVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	res, err := chaos.Run(context.Background(), s, store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if !res.OK() {
		for _, p := range res.Problems {
			t.Error(p)
		}
	}
	if res.Deliveries == 0 {
		t.Error("nothing was delivered")
	}
}

// TestReplayProperty is the replay property: generated customer histories,
// every event delivered one to three times, shuffled, concurrently, through
// the real handlers into the Firestore emulator; afterwards every document
// equals the stand-in's truth. Seeded and reproducible; -chaos.customers
// and -chaos.seeds make it larger.
func TestReplayProperty(t *testing.T) {
	firestoretest.Host(t)
	for seed := int64(1); seed <= int64(*seeds); seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			// Each seed has its own project on the emulator and its own
			// stand-in; together they keep the emulator busy.
			t.Parallel()
			store, _ := firestoretest.Open(t)
			run(t, store, seed, "")
		})
	}
}

// The same property with events rendered at a newer API version than the
// client's, into the in-memory store.
func TestReplayPropertyNewerAPIVersion(t *testing.T) {
	run(t, memstore.New(), 7, stripelocal.BasilVersion)
}
