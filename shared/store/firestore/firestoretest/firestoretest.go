// Package firestoretest opens the Firestore emulator for tests, each test
// in a project of its own so that tests running at once never see each
// other's documents.
package firestoretest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"testing"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/store/firestore"
	"github.com/courseplatform/billing/shared/store/memstore"
)

// RequireEnv, when set to 1, turns a missing emulator into a test failure
// instead of a skip; the project's test command sets it.
const RequireEnv = "BILLING_REQUIRE_EMULATOR"

// Host returns the emulator's host:port, or skips (or fails, under
// RequireEnv) the test when no emulator is configured.
func Host(t testing.TB) string {
	t.Helper()
	host := os.Getenv("FIRESTORE_EMULATOR_HOST")
	if host == "" {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatal("FIRESTORE_EMULATOR_HOST is not set but " + RequireEnv + "=1: start the emulator (scripts/test does)")
		}
		t.Skip("FIRESTORE_EMULATOR_HOST is not set; run scripts/test to include the Firestore emulator")
	}
	return host
}

// Project returns a fresh project id for one test.
func Project(t testing.TB) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "test-" + hex.EncodeToString(b)
}

// Open returns a store on the emulator in a fresh project, and the project
// id. The project's documents are deleted when the test ends.
func Open(t testing.TB) (*firestore.Store, string) {
	t.Helper()
	host := Host(t)
	project := Project(t)
	s, err := firestore.Open(context.Background(), project, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		req, err := http.NewRequest(http.MethodDelete, "http://"+host+"/emulator/v1/projects/"+project+"/databases/(default)/documents", nil)
		if err == nil {
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
			}
		}
	})
	return s, project
}

// EachStore runs test on memstore and on the emulator (a fresh project),
// as two subtests; the second is skipped, or fails under RequireEnv,
// without the emulator.
func EachStore(t *testing.T, test func(t *testing.T, store billing.Store)) {
	t.Run("memstore", func(t *testing.T) { test(t, memstore.New()) })
	t.Run("firestore", func(t *testing.T) {
		s, _ := Open(t)
		test(t, s)
	})
}
