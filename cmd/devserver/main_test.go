package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	gfs "cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/store/firestore/firestoretest"
	"github.com/courseplatform/billing/shared/webhook"
	"github.com/courseplatform/billing/shared/webhook/webhooktest"
)

// start runs the dev server on a free port until the test ends and returns
// its base URL.
func start(t *testing.T, env map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	go func() { done <- run(ctx, ln, lookup, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("devserver: %v", err)
		}
	})
	base := "http://" + ln.Addr().String()
	for i := 0; ; i++ {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			return base
		}
		select {
		case err := <-done:
			t.Fatalf("devserver stopped: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// capturedEvents returns every captured payload as a signed-ready body: full
// events as they are, data members wrapped; bare API objects are left out.
func capturedEvents(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(webhooktest.CapturedDir(), "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no captured payloads: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		name := filepath.Base(f)
		if ev, err := webhooktest.Captured(name); err == nil {
			out[name] = ev.JSON()
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var probe struct{ Object string }
		if json.Unmarshal(b, &probe) == nil && probe.Object == "event" {
			out[name] = b
		}
	}
	return out
}

func post(t *testing.T, url string, body []byte) (int, webhook.Response) {
	t.Helper()
	req := webhooktest.Request(url, body, webhooktest.Secret, time.Now())
	req.RequestURI = ""
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out webhook.Response
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("%s: response is not JSON: %v", url, err)
	}
	return res.StatusCode, out
}

// docs lists every document of the billing collections with its update time.
func docs(t *testing.T, c *gfs.Client) map[string]time.Time {
	t.Helper()
	out := map[string]time.Time{}
	for _, coll := range []string{billing.SubscriptionsCollection, billing.InvoicesCollection, billing.PurchasesCollection,
		billing.StripeCustomersCollection, billing.CustomersCollection, billing.EventsCollection, billing.PaymentsCollection} {
		it := c.Collection(coll).Documents(context.Background())
		for {
			snap, err := it.Next()
			if errors.Is(err, iterator.Done) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			out[coll+"/"+snap.Ref.ID] = snap.UpdateTime
		}
	}
	return out
}

// TestCapturedPayloadsThroughCombinedRoute is the local stack end to end:
// every captured Stripe payload, signed, into the combined route, and out
// as Firestore documents in the emulator; a second replay changes nothing.
func TestCapturedPayloadsThroughCombinedRoute(t *testing.T) {
	store, project := firestoretest.Open(t)
	base := start(t, map[string]string{
		"GOOGLE_CLOUD_PROJECT":    project,
		"FIRESTORE_EMULATOR_HOST": firestoretest.Host(t),
		"STRIPE_WEBHOOK_SECRET":   "whsec_test_other_one," + webhooktest.Secret,
		"STRIPE_REFETCH":          "false",
		"BILLING_DOTENV":          filepath.Join(t.TempDir(), "none.env"),
	})
	events := capturedEvents(t)
	names := make([]string, 0, len(events))
	for n := range events {
		names = append(names, n)
	}
	sort.Strings(names)

	applied := map[string]bool{}
	for _, n := range names {
		code, res := post(t, base+CombinedRoute, events[n])
		if code != http.StatusOK {
			t.Errorf("%s: status %d (%s), want 200", n, code, res.Error)
		}
		switch res.Outcome {
		// Stale is recorded too: the captured payloads are unrelated
		// samples of one subscription, and a view further along its
		// lifecycle (canceled) outranks a later file's active one.
		case billing.Applied, billing.Unprocessable, billing.Stale:
			applied[res.ID] = true
		case billing.Ignored:
		default:
			t.Errorf("%s: outcome %q on first delivery", n, res.Outcome)
		}
	}

	first := docs(t, store.Client())
	for _, want := range []string{
		"subscriptions/sub_00000000000000",
		"invoices/in_1234",
		"stripe_customers/cus_M5wW9RPFk9xNZ5",
	} {
		if _, ok := first[want]; !ok {
			t.Errorf("%s was not written", want)
		}
	}
	markers := 0
	for k := range first {
		if id, ok := strings.CutPrefix(k, billing.EventsCollection+"/"); ok {
			markers++
			if !applied[id] {
				t.Errorf("marker %s for an event that was not applied", id)
			}
		}
	}
	if markers != len(applied) {
		t.Errorf("%d event markers, want one per applied event (%d)", markers, len(applied))
	}

	for _, n := range names {
		code, res := post(t, base+CombinedRoute, events[n])
		if code != http.StatusOK || (res.Outcome != billing.Duplicate && res.Outcome != billing.Ignored) {
			t.Errorf("%s again: %d %q, want 200 duplicate or ignored", n, code, res.Outcome)
		}
	}
	second := docs(t, store.Client())
	if len(second) != len(first) {
		t.Errorf("replay changed the number of documents: %d then %d", len(first), len(second))
	}
	for k, at := range first {
		if !second[k].Equal(at) {
			t.Errorf("replay rewrote %s (update time %v then %v)", k, at, second[k])
		}
	}
}

func TestFunctionRoutesOwnTheirGroupOnly(t *testing.T) {
	store, project := firestoretest.Open(t)
	base := start(t, map[string]string{
		"GOOGLE_CLOUD_PROJECT":  project,
		"STRIPE_WEBHOOK_SECRET": webhooktest.Secret,
		"STRIPE_REFETCH":        "false",
		// The emulator comes from the process environment; say so here
		// too, since the dev server picks its store by this variable.
		"FIRESTORE_EMULATOR_HOST": firestoretest.Host(t),
	})
	ev, err := webhooktest.Captured("subscription.created.json")
	if err != nil {
		t.Fatal(err)
	}
	body := ev.JSON()
	cases := []struct {
		route string
		want  billing.Outcome
	}{
		{"/" + billing.InvoiceEvents.EntryPoint, billing.Ignored},
		{"/" + billing.CheckoutSessionEvents.EntryPoint, billing.Ignored},
		{"/" + billing.SubscriptionEvents.EntryPoint, billing.Applied},
	}
	for _, c := range cases {
		code, res := post(t, base+c.route, body)
		if code != http.StatusOK || res.Outcome != c.want {
			t.Errorf("%s: %d %q, want 200 %q", c.route, code, res.Outcome, c.want)
		}
	}
	if n := len(docs(t, store.Client())); n == 0 {
		t.Error("the owning route wrote nothing")
	}
}

// startInMemory starts the dev server without the emulator and returns it
// with a captured event to send.
func startInMemory(t *testing.T) (string, webhooktest.Event) {
	t.Helper()
	base := start(t, map[string]string{
		"GOOGLE_CLOUD_PROJECT":  "demo-memory",
		"STRIPE_WEBHOOK_SECRET": webhooktest.Secret,
		"STRIPE_REFETCH":        "false",
	})
	ev, err := webhooktest.Captured("subscription.created.json")
	if err != nil {
		t.Fatal(err)
	}
	return base, ev
}

func TestWithoutEmulatorStateIsInMemory(t *testing.T) {
	base, ev := startInMemory(t)
	if code, res := post(t, base+CombinedRoute, ev.JSON()); code != 200 || res.Outcome != billing.Applied {
		t.Errorf("got %d %q, want 200 applied", code, res.Outcome)
	}
	res, err := http.Get(base + CombinedRoute)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d, want 405", res.StatusCode)
	}
}

// Stripe does not follow redirects: the combined route without its
// trailing slash is served, not redirected.
func TestCombinedRouteWithoutTrailingSlash(t *testing.T) {
	base, ev := startInMemory(t)
	if code, res := post(t, base+strings.TrimSuffix(CombinedRoute, "/"), ev.JSON()); code != 200 || res.Outcome != billing.Applied {
		t.Errorf("got %d %q, want 200 applied", code, res.Outcome)
	}
}

func TestRefusesToStartMisconfigured(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no project", map[string]string{"STRIPE_WEBHOOK_SECRET": webhooktest.Secret, "STRIPE_REFETCH": "false"}, "GOOGLE_CLOUD_PROJECT"},
		{"no secret", map[string]string{"GOOGLE_CLOUD_PROJECT": "p", "STRIPE_REFETCH": "false", "BILLING_DOTENV": "/nonexistent/.env"}, "STRIPE_WEBHOOK_SECRET"},
		{"bad livemode", map[string]string{"GOOGLE_CLOUD_PROJECT": "p", "STRIPE_WEBHOOK_SECRET": webhooktest.Secret, "STRIPE_REFETCH": "false", "STRIPE_LIVEMODE": "maybe"}, "STRIPE_LIVEMODE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			lookup := func(k string) (string, bool) { v, ok := c.env[k]; return v, ok }
			err = run(context.Background(), ln, lookup, io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("run = %v, want an error naming %s", err, c.want)
			}
			if strings.Contains(errString(err), webhooktest.Secret) {
				t.Error("error contains the secret")
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// With Firestore unreachable the event cannot be recorded: the answer must
// be a 5xx so that Stripe retries, never a 2xx.
func TestFirestoreUnreachableIs5xx(t *testing.T) {
	t.Setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:1") // nothing listens on port 1
	base := start(t, map[string]string{
		"GOOGLE_CLOUD_PROJECT":    "demo-unreachable",
		"FIRESTORE_EMULATOR_HOST": "127.0.0.1:1",
		"STRIPE_WEBHOOK_SECRET":   webhooktest.Secret,
		"STRIPE_REFETCH":          "false",
		"WEBHOOK_TIMEOUT":         "2s",
	})
	ev, err := webhooktest.Captured("invoice.payment_failed.json")
	if err != nil {
		t.Fatal(err)
	}
	code, res := post(t, base+CombinedRoute, ev.JSON())
	if code < 500 || code > 599 {
		t.Errorf("status %d (%q), want 5xx", code, res.Outcome)
	}
	if res.Outcome != "" {
		t.Errorf("outcome %q reported for an event that was not recorded", res.Outcome)
	}
}
