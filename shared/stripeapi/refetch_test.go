package stripeapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/courseplatform/billing/shared/stripeapi"
	"github.com/courseplatform/billing/shared/webhook/webhooktest"
)

var refetchNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// fakeStripe answers every request with status and body, counting calls.
func fakeStripe(t *testing.T, status int, body string) (*stripeapi.Refetch, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if got := r.Header.Get("Authorization"); got != "Bearer sk_test_fakefakefake" {
			t.Errorf("Authorization = %q", got)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	api, err := stripeapi.NewClient(stripeapi.ClientConfig{Key: "sk_test_fakefakefake", BaseURL: srv.URL, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return &stripeapi.Refetch{API: api, Now: func() time.Time { return refetchNow }}, &calls
}

func capturedEvent(t *testing.T, name string) *stripe.Event {
	t.Helper()
	ev, err := webhooktest.Captured(name)
	if err != nil {
		t.Fatal(err)
	}
	var out stripe.Event
	if err := json.Unmarshal(ev.JSON(), &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func TestRefetchReadsTheObjectBack(t *testing.T) {
	sub := `{"id":"sub_00000000000000","object":"subscription","status":"canceled","customer":"cus_9",
		"current_period_start":1700000000,"current_period_end":1702592000,
		"items":{"object":"list","data":[{"id":"si_1","object":"subscription_item","quantity":1,
		"price":{"id":"price_9","object":"price","product":{"id":"prod_9","object":"product","metadata":{"courseId":"go-101"}}}}]}}`
	r, calls := fakeStripe(t, 200, sub)
	got, asOf, err := r.Subscription(context.Background(), capturedEvent(t, "subscription.created.json"))
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 {
		t.Errorf("%d calls to Stripe, want 1", calls.Load())
	}
	// The stored truth is Stripe's answer, not the (active) payload.
	if got.Status != "canceled" || got.Customer != "cus_9" || len(got.Items) != 1 || got.Items[0].CourseID != "go-101" {
		t.Errorf("subscription = %+v, want Stripe's answer", got)
	}
	if !asOf.Equal(refetchNow) {
		t.Errorf("asOf = %v, want the time of the read %v", asOf, refetchNow)
	}
}

func TestRefetchErrors(t *testing.T) {
	cases := []struct {
		name            string
		status          int
		body            string
		wantErr         bool
		wantFromPayload bool
	}{
		{"429 is a temporary error", 429, `{"error":{"type":"invalid_request_error","code":"rate_limit","message":"Too many requests"}}`, true, false},
		{"500 is a temporary error", 500, `{"error":{"type":"api_error","message":"boom"}}`, true, false},
		{"401 (bad key) is a temporary error", 401, `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_test_****"}}`, true, false},
		{"401 echoing the key is a temporary error without the key", 401, `{"error":{"type":"invalid_request_error","message":"Authorization was 'Bearer sk_test_fakefakefake'."}}`, true, false},
		{"unreadable answer is a temporary error", 200, `{"id":"sub_00000000000000","object":"invoice"}`, true, false},
		{"404 falls back to the payload", 404, `{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such subscription"}}`, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, _ := fakeStripe(t, c.status, c.body)
			ev := capturedEvent(t, "subscription.created.json")
			got, asOf, err := r.Subscription(context.Background(), ev)
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, want error %v", err, c.wantErr)
			}
			if err != nil {
				if errors.Is(err, stripeapi.ErrUnprocessable) {
					t.Errorf("err = %v: a failed read must not be taken as an unprocessable event", err)
				}
				if strings.Contains(err.Error(), "sk_test_fakefakefake") {
					t.Errorf("error leaks the API key: %v", err)
				}
				return
			}
			if c.wantFromPayload && (got.Status != "active" || !asOf.Equal(time.Unix(ev.Created, 0))) {
				t.Errorf("got %q as of %v, want the payload's view as of the event", got.Status, asOf)
			}
		})
	}
}

func TestRefetchRefusesWrongObjectWithoutCallingStripe(t *testing.T) {
	r, calls := fakeStripe(t, 200, `{}`)
	ev := capturedEvent(t, "invoice.updated.json") // carries an invoice_payment
	_, _, err := r.Invoice(context.Background(), ev)
	if !errors.Is(err, stripeapi.ErrUnprocessable) {
		t.Errorf("err = %v, want ErrUnprocessable", err)
	}
	if calls.Load() != 0 {
		t.Errorf("%d calls to Stripe for an object of the wrong kind", calls.Load())
	}
}

func TestNewClientNeedsKey(t *testing.T) {
	if _, err := stripeapi.NewClient(stripeapi.ClientConfig{Key: "  "}); err == nil {
		t.Error("NewClient without a key succeeded")
	}
}

// stripeMock returns the URL of a running stripe-mock (STRIPE_MOCK_URL).
func stripeMock(t *testing.T) string {
	t.Helper()
	u := os.Getenv("STRIPE_MOCK_URL")
	if u == "" {
		if os.Getenv("BILLING_REQUIRE_STRIPE_MOCK") == "1" {
			t.Fatal("STRIPE_MOCK_URL is not set but BILLING_REQUIRE_STRIPE_MOCK=1")
		}
		t.Skip("STRIPE_MOCK_URL is not set; scripts/test starts stripe-mock")
	}
	return u
}

// stripe-mock serves the newest API shapes: the reads must still decode,
// with the fields that moved found where they are now.
func TestRefetchAgainstStripeMock(t *testing.T) {
	api, err := stripeapi.NewClient(stripeapi.ClientConfig{Key: "sk_test_fakefakefake", BaseURL: stripeMock(t)})
	if err != nil {
		t.Fatal(err)
	}
	r := stripeapi.Refetch{API: api, Now: func() time.Time { return refetchNow }}
	ctx := context.Background()

	sub, _, err := r.Subscription(ctx, capturedEvent(t, "subscription.updated.json"))
	if err != nil {
		t.Fatalf("subscription: %v", err)
	}
	if sub.ID != "sub_00000000000000" || sub.Customer == "" || sub.Status == "" {
		t.Errorf("subscription = %+v", sub)
	}
	in, _, err := r.Invoice(ctx, capturedEvent(t, "invoice.payment_failed.json"))
	if err != nil {
		t.Fatalf("invoice: %v", err)
	}
	if in.ID != "in_1234" || in.Customer == "" || in.Status == "" {
		t.Errorf("invoice = %+v", in)
	}
	cs, _, err := r.CheckoutSession(ctx, capturedEvent(t, "checkout.session.completed.json"))
	if err != nil {
		t.Fatalf("checkout session: %v", err)
	}
	if cs.Purchase.ID != "cs_test_a1UejXx8ebIdTzFolicVypUAZpOBVkoQKDbaarXoPlPVtj8p0zujPEEhjT" || cs.Mode == "" {
		t.Errorf("checkout session = %+v", cs)
	}
}
