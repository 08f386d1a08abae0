package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/courseplatform/billing/functions/webhooks/invoices"
	"github.com/courseplatform/billing/functions/webhooks/subscriptions"
	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/store/memstore"
	"github.com/courseplatform/billing/shared/stripeapi"
	"github.com/courseplatform/billing/shared/webhook"
	"github.com/courseplatform/billing/shared/webhook/webhooktest"
)

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

const otherSecret = "whsec_test_fake_rotated_111111111"

func newHandler(t *testing.T, store billing.Store, routes map[string]webhook.Processor, mutate ...func(*webhook.Config)) *webhook.Handler {
	t.Helper()
	cfg := webhook.Config{
		Function: "test",
		Secrets:  []string{otherSecret, webhooktest.Secret},
		Routes:   routes,
		Store:    store,
		Logger:   slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Now:      func() time.Time { return now },
	}
	for _, m := range mutate {
		m(&cfg)
	}
	h, err := webhook.NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func subscriptionRoutes() map[string]webhook.Processor {
	return subscriptions.Routes(stripeapi.Payload{}, func() time.Time { return now })
}

func captured(t *testing.T, name string) webhooktest.Event {
	t.Helper()
	ev, err := webhooktest.Captured(name)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func serve(h http.Handler, r *http.Request) (int, webhook.Response) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var res webhook.Response
	_ = json.Unmarshal(w.Body.Bytes(), &res)
	return w.Code, res
}

func docCount(s *memstore.Store) int {
	n := 0
	for _, c := range []string{billing.SubscriptionsCollection, billing.InvoicesCollection, billing.PurchasesCollection,
		billing.StripeCustomersCollection, billing.CustomersCollection, billing.EventsCollection, billing.PaymentsCollection} {
		n += s.Len(c)
	}
	return n
}

// TestContract walks the webhook contract table of DESIGN.md.
func TestContract(t *testing.T) {
	sub := captured(t, "subscription.created.json").JSON()
	testMode := webhooktest.Event{ID: "evt_live", Type: "customer.subscription.created", Livemode: true,
		Data: captured(t, "subscription.created.json").Data}.JSON()
	unknown := webhooktest.Event{ID: "evt_unknown", Type: "charge.succeeded", Data: captured(t, "charge.succeeded.json").Data}.JSON()
	post := func(body []byte, secret string, at time.Time) *http.Request {
		return webhooktest.Request("/", body, secret, at)
	}
	withHeader := func(h string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(sub))
		if h != "" {
			r.Header.Set("Stripe-Signature", h)
		}
		return r
	}
	cases := []struct {
		name        string
		req         *http.Request
		wantStatus  int
		wantOutcome billing.Outcome
		wantDocs    bool
	}{
		{"GET is 405", httptest.NewRequest(http.MethodGet, "/", nil), 405, "", false},
		{"PUT is 405", httptest.NewRequest(http.MethodPut, "/", bytes.NewReader(sub)), 405, "", false},
		{"3 MB body is 413", post(bytes.Repeat([]byte("a"), 3<<20), webhooktest.Secret, now), 413, "", false},
		{"no signature is 400", withHeader(""), 400, "", false},
		{"garbage signature is 400", withHeader("garbage"), 400, "", false},
		{"non-numeric timestamp is 400", withHeader("t=abc,v1=00"), 400, "", false},
		{"signature without v1 is 400", withHeader("t=1764590400"), 400, "", false},
		{"wrong secret is 400", post(sub, "whsec_test_not_ours", now), 400, "", false},
		{"timestamp 10 minutes old is 400", post(sub, webhooktest.Secret, now.Add(-10*time.Minute)), 400, "", false},
		{"timestamp 10 minutes in the future is 400", post(sub, webhooktest.Secret, now.Add(10*time.Minute)), 400, "", false},
		{"timestamp 4 minutes old is accepted", post(sub, webhooktest.Secret, now.Add(-4*time.Minute)), 200, billing.Applied, true},
		{"old signature behind a fresh timestamp is 400", withHeader("t=" + strconv.FormatInt(now.Unix(), 10) + "," + webhooktest.Header(sub, webhooktest.Secret, now.Add(-time.Hour))), 400, "", false},
		{"fresh timestamp with a space stripe-go ignores is 400", withHeader(webhooktest.Header(sub, webhooktest.Secret, now.Add(-time.Hour)) + ", t=" + strconv.FormatInt(now.Unix(), 10)), 400, "", false},
		{"largest timestamp is 400", post(sub, webhooktest.Secret, time.Unix(math.MaxInt64, 0)), 400, "", false},
		{"smallest timestamp is 400", post(sub, webhooktest.Secret, time.Unix(math.MinInt64, 0)), 400, "", false},
		{"timestamp of year 1 is 400", post(sub, webhooktest.Secret, time.Unix(-62135596800, 0)), 400, "", false},
		{"event id no document can have is 400", post(webhooktest.Event{ID: "evt_a/b", Type: "customer.subscription.created", Data: captured(t, "subscription.created.json").Data}.JSON(), webhooktest.Secret, now), 400, "", false},
		{"reserved event id is 400", post(webhooktest.Event{ID: "__evt__", Type: "customer.subscription.created", Data: captured(t, "subscription.created.json").Data}.JSON(), webhooktest.Secret, now), 400, "", false},
		{"created time past year 9999 is 400", post(webhooktest.Event{ID: "evt_far", Type: "customer.subscription.created", Created: 99999999999999, Data: captured(t, "subscription.created.json").Data}.JSON(), webhooktest.Secret, now), 400, "", false},
		{"negative created time is 400", post(webhooktest.Event{ID: "evt_neg", Type: "customer.subscription.created", Created: -99999999999, Data: captured(t, "subscription.created.json").Data}.JSON(), webhooktest.Secret, now), 400, "", false},
		{"signed but not JSON is 400", post([]byte("{not json"), webhooktest.Secret, now), 400, "", false},
		{"signed event without id is 400", post([]byte(`{"type":"customer.subscription.created","data":{"object":{}}}`), webhooktest.Secret, now), 400, "", false},
		{"first of two secrets is accepted", post(sub, otherSecret, now), 200, billing.Applied, true},
		{"second of two secrets is accepted", post(sub, webhooktest.Secret, now), 200, billing.Applied, true},
		{"type not owned is 200 and writes nothing", post(unknown, webhooktest.Secret, now), 200, billing.Ignored, false},
		{"live event to a test deployment is 200 and writes nothing", post(testMode, webhooktest.Secret, now), 200, billing.Ignored, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := memstore.New()
			h := newHandler(t, store, subscriptionRoutes())
			code, res := serve(h, c.req)
			if code != c.wantStatus {
				t.Errorf("status = %d, want %d (body error %q)", code, c.wantStatus, res.Error)
			}
			if res.Outcome != c.wantOutcome {
				t.Errorf("outcome = %q, want %q", res.Outcome, c.wantOutcome)
			}
			if got := docCount(store) > 0; got != c.wantDocs {
				t.Errorf("documents written = %v, want %v", got, c.wantDocs)
			}
		})
	}
}

func TestSecondDeliveryIsDuplicateAndChangesNothing(t *testing.T) {
	store := memstore.New()
	h := newHandler(t, store, subscriptionRoutes())
	body := captured(t, "subscription.created.json").JSON()
	if code, res := serve(h, webhooktest.Request("/", body, webhooktest.Secret, now)); code != 200 || res.Outcome != billing.Applied {
		t.Fatalf("first delivery: %d %q", code, res.Outcome)
	}
	before := store.Dump()
	code, res := serve(h, webhooktest.Request("/", body, webhooktest.Secret, now.Add(time.Second)))
	if code != 200 || res.Outcome != billing.Duplicate {
		t.Fatalf("second delivery: %d %q, want 200 duplicate", code, res.Outcome)
	}
	if after := store.Dump(); !reflect.DeepEqual(after, before) {
		t.Errorf("second delivery changed the store:\nbefore %v\nafter  %v", before, after)
	}
}

func TestStoreFailureIs5xxAndWritesNothing(t *testing.T) {
	store := memstore.New()
	store.FailCommit = func() error { return errors.New("firestore: unavailable") }
	h := newHandler(t, store, subscriptionRoutes())
	code, res := serve(h, webhooktest.Request("/", captured(t, "subscription.created.json").JSON(), webhooktest.Secret, now))
	if code < 500 {
		t.Errorf("status = %d, want 5xx", code)
	}
	if strings.Contains(res.Error, "firestore") {
		t.Errorf("response leaks internals: %q", res.Error)
	}
	if n := docCount(store); n != 0 {
		t.Errorf("%d documents written, want none", n)
	}
	// Once the store is back, Stripe's retry applies the event.
	store.FailCommit = nil
	if code, res := serve(h, webhooktest.Request("/", captured(t, "subscription.created.json").JSON(), webhooktest.Secret, now)); code != 200 || res.Outcome != billing.Applied {
		t.Errorf("retry: %d %q, want 200 applied", code, res.Outcome)
	}
}

func TestTemporaryPrepareErrorIs5xx(t *testing.T) {
	store := memstore.New()
	failing := webhook.ProcessorFunc(func(context.Context, *stripe.Event) (billing.ApplyFunc, error) {
		return nil, errors.New("stripe: 429 too many requests")
	})
	h := newHandler(t, store, map[string]webhook.Processor{"customer.subscription.created": failing})
	code, _ := serve(h, webhooktest.Request("/", captured(t, "subscription.created.json").JSON(), webhooktest.Secret, now))
	if code < 500 {
		t.Errorf("status = %d, want 5xx", code)
	}
	if n := docCount(store); n != 0 {
		t.Errorf("%d documents written, want none", n)
	}
}

// invoice.updated.json, as captured, carries an invoice_payment object: an
// event the invoices function owns but can never turn into an invoice.
func TestUnprocessablePayloadIsRecordedAnd2xx(t *testing.T) {
	store := memstore.New()
	routes := invoices.Routes(stripeapi.Payload{}, func() time.Time { return now })
	routes["invoice.updated"] = routes["invoice.paid"]
	h := newHandler(t, store, routes)
	ev := captured(t, "invoice.updated.json")
	code, res := serve(h, webhooktest.Request("/", ev.JSON(), webhooktest.Secret, now))
	if code != 200 || res.Outcome != billing.Unprocessable {
		t.Fatalf("got %d %q, want 200 unprocessable", code, res.Outcome)
	}
	if store.Len(billing.InvoicesCollection) != 0 {
		t.Error("an invoice was written from an invoice_payment")
	}
	err := store.View(context.Background(), func(ctx context.Context, tx billing.Tx) error {
		rec, err := tx.Event(ctx, ev.ID)
		if err != nil {
			return err
		}
		if rec == nil || rec.Outcome != billing.Unprocessable || !strings.Contains(rec.Detail, "invoice_payment") {
			t.Errorf("marker = %+v, want outcome unprocessable naming invoice_payment", rec)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestNewHandlerRefusesIncompleteConfig(t *testing.T) {
	store := memstore.New()
	cases := []struct {
		name string
		cfg  webhook.Config
	}{
		{"no secret", webhook.Config{Store: store, Routes: subscriptionRoutes()}},
		{"blank secrets only", webhook.Config{Secrets: []string{" ", ""}, Store: store, Routes: subscriptionRoutes()}},
		{"no store", webhook.Config{Secrets: []string{webhooktest.Secret}, Routes: subscriptionRoutes()}},
		{"no routes", webhook.Config{Secrets: []string{webhooktest.Secret}, Store: store}},
	}
	for _, c := range cases {
		if _, err := webhook.NewHandler(c.cfg); err == nil {
			t.Errorf("%s: NewHandler succeeded, want an error", c.name)
		}
	}
}

func TestResponsesNeverEchoSecretsOrSignatures(t *testing.T) {
	store := memstore.New()
	h := newHandler(t, store, subscriptionRoutes())
	r := webhooktest.Request("/", []byte("{bad"), webhooktest.Secret, now)
	sig := r.Header.Get("Stripe-Signature")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	body := w.Body.String()
	for _, s := range []string{webhooktest.Secret, otherSecret, sig} {
		if strings.Contains(body, s) {
			t.Errorf("response %q contains a secret or the signature", body)
		}
	}
}

// countingProcessor counts Prepare calls and applies subscriptions from the
// payload.
type countingProcessor struct {
	calls int
	next  webhook.Processor
}

func (c *countingProcessor) Prepare(ctx context.Context, ev *stripe.Event) (billing.ApplyFunc, error) {
	c.calls++
	return c.next.Prepare(ctx, ev)
}

// A redelivered event must not cost a second read from Stripe.
func TestRedeliveryIsAnsweredWithoutPreparing(t *testing.T) {
	store := memstore.New()
	counting := &countingProcessor{next: subscriptionRoutes()["customer.subscription.created"]}
	h := newHandler(t, store, map[string]webhook.Processor{"customer.subscription.created": counting})
	body := captured(t, "subscription.created.json").JSON()
	for i, want := range []billing.Outcome{billing.Applied, billing.Duplicate, billing.Duplicate} {
		if code, res := serve(h, webhooktest.Request("/", body, webhooktest.Secret, now)); code != 200 || res.Outcome != want {
			t.Errorf("delivery %d: %d %q, want 200 %q", i+1, code, res.Outcome, want)
		}
	}
	if counting.calls != 1 {
		t.Errorf("Prepare ran %d times, want 1", counting.calls)
	}
}

// Stripe answering 429 or 500 when the object is read back: the event is
// not recorded and Stripe is told to retry.
func TestRefetchFailureIs5xxAndWritesNothing(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusInternalServerError} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				_, _ = io.WriteString(w, `{"error":{"type":"api_error","message":"try later"}}`)
			}))
			defer srv.Close()
			api, err := stripeapi.NewClient(stripeapi.ClientConfig{Key: "sk_test_fakefakefake", BaseURL: srv.URL, MaxRetries: -1})
			if err != nil {
				t.Fatal(err)
			}
			store := memstore.New()
			routes := subscriptions.Routes(stripeapi.Refetch{API: api}, func() time.Time { return now })
			h := newHandler(t, store, routes)
			code, _ := serve(h, webhooktest.Request("/", captured(t, "subscription.updated.json").JSON(), webhooktest.Secret, now))
			if code < 500 {
				t.Errorf("status = %d, want 5xx", code)
			}
			if n := docCount(store); n != 0 {
				t.Errorf("%d documents written, want none", n)
			}
		})
	}
}
