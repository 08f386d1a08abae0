package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	stripewebhook "github.com/stripe/stripe-go/v76/webhook"

	"github.com/courseplatform/billing/shared/stripelocal"
)

func noEnv(string) (string, bool) { return "", false }

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
		check   func(c config) bool
	}{
		{name: "defaults", args: nil, check: func(c config) bool {
			return c.port == 12112 && c.host == "127.0.0.1" && len(c.endpoints) == 0 && c.options.AfterRetries == "canceled"
		}},
		{name: "one secret for two endpoints", args: []string{"--endpoint", "http://a", "--endpoint", "http://b", "--secret", "whsec_1"},
			check: func(c config) bool {
				return len(c.endpoints) == 2 && c.endpoints[0].Secret == "whsec_1" && c.endpoints[1].Secret == "whsec_1"
			}},
		{name: "a secret and a version per endpoint", args: []string{"--endpoint", "http://a", "--secret", "whsec_a",
			"--api-version", stripelocal.BasilVersion, "--endpoint", "http://b", "--secret", "whsec_b", "--api-version", "2023-10-16"},
			check: func(c config) bool {
				return c.endpoints[1].Secret == "whsec_b" && c.endpoints[0].APIVersion == stripelocal.BasilVersion
			}},
		{name: "secret from the environment, first of a rotation list", args: []string{"--endpoint", "http://a"},
			env:   map[string]string{"STRIPE_WEBHOOK_SECRET": "whsec_new,whsec_old"},
			check: func(c config) bool { return c.endpoints[0].Secret == "whsec_new" }},
		{name: "chaos flags", args: []string{"--dup", "0.3", "--shuffle", "--delay", "2s", "--concurrency", "4", "--events", "invoice.*,customer.subscription.updated", "--endpoint", "http://a", "--secret", "s"},
			check: func(c config) bool {
				d := c.delivery
				return d.Duplicates == 0.3 && d.Shuffle && d.MaxDelay == 2*time.Second && d.Concurrency == 4 && len(c.endpoints[0].EnabledEvents) == 2
			}},
		{name: "endpoint without a secret", args: []string{"--endpoint", "http://a"}, wantErr: "signing secret"},
		{name: "two secrets for three endpoints", args: []string{"--endpoint", "a", "--endpoint", "b", "--endpoint", "c", "--secret", "1", "--secret", "2"},
			wantErr: "one per --endpoint"},
		{name: "bad after-retries", args: []string{"--after-retries", "deleted"}, wantErr: "after-retries"},
		{name: "stray argument", args: []string{"serve"}, wantErr: "unexpected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			c, err := parseFlags(tt.args, io.Discard, lookup)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one about %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(c) {
				t.Errorf("config %+v, err %v", c, err)
			}
		})
	}
}

// syncBuffer is the command's stdout, read while it writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeDeliversAsItHappens runs the command's server with one endpoint,
// buys a subscription through the API and the control endpoint, and waits
// for each event to arrive signed and be printed.
func TestServeDeliversAsItHappens(t *testing.T) {
	const secret = "whsec_cmd_test"
	got := make(chan string, 100)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ev, err := stripewebhook.ConstructEventWithOptions(body, r.Header.Get("Stripe-Signature"), secret,
			stripewebhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got <- ev.ID
	}))
	defer hook.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := parseFlags([]string{"--endpoint", hook.URL, "--secret", secret, "--seed", "9"}, io.Discard, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error)
	go func() { served <- serve(ctx, ln, cfg, out) }()

	base := "http://" + ln.Addr().String()
	b := stripe.GetBackendWithConfig(stripe.APIBackend, &stripe.BackendConfig{URL: stripe.String(base),
		MaxNetworkRetries: stripe.Int64(0), LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull}})
	sc := client.New("sk_test_cmd", &stripe.Backends{API: b, Connect: b, Uploads: b})
	prod, err := sc.Products.New(&stripe.ProductParams{Name: stripe.String("Course")})
	if err != nil {
		t.Fatal(err)
	}
	price, err := sc.Prices.New(&stripe.PriceParams{Product: stripe.String(prod.ID), Currency: stripe.String("usd"),
		UnitAmount: stripe.Int64(900), Recurring: &stripe.PriceRecurringParams{Interval: stripe.String("month")}})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := sc.CheckoutSessions.New(&stripe.CheckoutSessionParams{Mode: stripe.String("subscription"),
		CustomerEmail: stripe.String("cmd@example.com"), SuccessURL: stripe.String("https://x.example"),
		LineItems: []*stripe.CheckoutSessionLineItemParams{{Price: stripe.String(price.ID), Quantity: stripe.Int64(1)}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cs.URL, base+"/_local/pay/") {
		t.Errorf("session url %s, want the local Checkout page", cs.URL)
	}
	res, err := http.Post(base+"/_local/checkout/sessions/"+cs.ID+"/complete", "application/json", strings.NewReader(`{"outcome":"paid"}`))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("complete: %v %v", res, err)
	}
	res.Body.Close()

	// product.created, price.created, customer.created and the seven
	// events of a paid subscription checkout.
	const want = 10
	var ids []string
	for len(ids) < want {
		select {
		case id := <-got:
			ids = append(ids, id)
		case <-time.After(30 * time.Second):
			t.Fatalf("received %d of %d events; output:\n%s", len(ids), want, out)
		}
	}
	cancel()
	if err := <-served; err != nil {
		t.Errorf("serve: %v", err)
	}
	text := out.String()
	for _, id := range ids {
		if !strings.Contains(text, id+" ") {
			t.Errorf("no line for %s in:\n%s", id, text)
		}
	}
	if !strings.Contains(text, "checkout.session.completed") || !strings.Contains(text, " 200 (attempt 1)") {
		t.Errorf("output:\n%s", text)
	}
}
