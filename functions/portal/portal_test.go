package portal

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stripe/stripe-go/v76"

	"github.com/courseplatform/billing/shared/auth"
	"github.com/courseplatform/billing/shared/auth/authtest"
	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/frontend"
	"github.com/courseplatform/billing/shared/store/memstore"
	"github.com/courseplatform/billing/shared/stripeapi"
	"github.com/courseplatform/billing/shared/stripelocal"
)

const app = "https://app.example.com"

func newPortal(t *testing.T, apiBase string, store billing.Store) http.Handler {
	t.Helper()
	api, err := stripeapi.NewClient(stripeapi.ClientConfig{Key: "sk_test_fakeportalkey", BaseURL: apiBase, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	redirects, _ := frontend.ParseRedirects(app + "/account/")
	return New(frontend.Deps{
		Settings: frontend.Settings{Project: "demo-billing", Origins: frontend.Origins{app}, Redirects: redirects, ReturnURL: app + "/account/"},
		Store:    store, Stripe: api, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Auth: authtest.Tokens{Users: map[string]auth.User{"tok-alice": {UID: "alice"}, "tok-bob": {UID: "bob"}}},
	})
}

func post(h http.Handler, token, body string) (int, string, string) {
	req := httptest.NewRequest(http.MethodPost, "/Portal", strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out struct {
		URL   string
		Error struct{ Code string }
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out.Error.Code, out.URL
}

func TestPortalOpensOnlyTheUsersOwnCustomer(t *testing.T) {
	s := stripelocal.New(stripelocal.Options{Seed: 3})
	srv := httptest.NewServer(s)
	defer srv.Close()
	cus, err := s.Client().Customers.New(&stripe.CustomerParams{Email: stripe.String("alice@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	store := memstore.New()
	if err := store.Update(context.Background(), func(_ context.Context, tx billing.Tx) error {
		return tx.PutCustomer("alice", &billing.Customer{StripeCustomerID: cus.ID})
	}); err != nil {
		t.Fatal(err)
	}
	h := newPortal(t, srv.URL, store)

	status, code, url := post(h, "tok-alice", `{}`)
	if status != 200 || url == "" {
		t.Fatalf("alice: %d %s %q", status, code, url)
	}
	if status, code, url := post(h, "tok-alice", ``); status != 200 || url == "" {
		t.Errorf("alice with no body (it is optional): %d %s %q", status, code, url)
	}
	if status, code, _ := post(h, "tok-bob", `{}`); status != 404 || code != "no_billing_account" {
		t.Errorf("bob without a customer: %d %s, want 404 no_billing_account", status, code)
	}
	if status, code, _ := post(h, "tok-alice", `{"customer":"`+cus.ID+`"}`); status != 400 || code != "bad_body" {
		t.Errorf("a customer in the body: %d %s, want 400", status, code)
	}
	if status, code, _ := post(h, "tok-alice", `{"returnUrl":"https://evil.example/account/"}`); status != 400 || code != "bad_redirect" {
		t.Errorf("foreign return URL: %d %s, want 400 bad_redirect", status, code)
	}
	if status, code, _ := post(h, "", `{}`); status != 401 || code != "unauthenticated" {
		t.Errorf("no token: %d %s, want 401", status, code)
	}
	s.FailNextRequests(1, http.StatusServiceUnavailable)
	if status, code, _ := post(h, "tok-alice", `{}`); status != 502 || code != "payment_provider_error" {
		t.Errorf("stripe down: %d %s, want 502", status, code)
	}
}

func TestPortalShapeAgainstStripeMock(t *testing.T) {
	mockURL := os.Getenv("STRIPE_MOCK_URL")
	if mockURL == "" {
		if os.Getenv("BILLING_REQUIRE_STRIPE_MOCK") == "1" {
			t.Fatal("STRIPE_MOCK_URL is not set and BILLING_REQUIRE_STRIPE_MOCK=1")
		}
		t.Skip("STRIPE_MOCK_URL not set")
	}
	store := memstore.New()
	if err := store.Update(context.Background(), func(_ context.Context, tx billing.Tx) error {
		return tx.PutCustomer("alice", &billing.Customer{StripeCustomerID: "cus_123"})
	}); err != nil {
		t.Fatal(err)
	}
	if status, code, url := post(newPortal(t, mockURL, store), "tok-alice", `{}`); status != 200 || url == "" {
		t.Fatalf("stripe-mock: %d %s %q", status, code, url)
	}
}
