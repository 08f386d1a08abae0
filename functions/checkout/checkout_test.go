package checkout

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/courseplatform/billing/shared/auth"
	"github.com/courseplatform/billing/shared/auth/authtest"
	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/chaos"
	"github.com/courseplatform/billing/shared/frontend"
	"github.com/courseplatform/billing/shared/store/firestore/firestoretest"
	"github.com/courseplatform/billing/shared/store/memstore"
	"github.com/courseplatform/billing/shared/stripeapi"
	"github.com/courseplatform/billing/shared/stripelocal"
)

const (
	app        = "https://app.example.com"
	successURL = app + "/billing/done?session_id={CHECKOUT_SESSION_ID}"
	cancelURL  = app + "/billing/canceled"
)

var tokens = authtest.Tokens{Users: map[string]auth.User{
	"tok-alice": {UID: "alice", Email: "alice@example.com"},
	"tok-bob":   {UID: "bob", Email: "bob@example.com"},
}}

// env is a deployment under test: the checkout handler and the webhook
// functions, both on the stand-in's API over HTTP, sharing one store.
type env struct {
	t       *testing.T
	stripe  *stripelocal.Stripe
	store   billing.Store
	local   *chaos.Local
	handler http.Handler
}

func newEnv(t *testing.T, store billing.Store) *env {
	t.Helper()
	s := stripelocal.New(stripelocal.Options{Seed: 11})
	local, err := chaos.StartLocal(s, store, chaos.LocalConfig{Secret: "whsec_test_checkout"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(local.Close)
	api, err := stripeapi.NewClient(stripeapi.ClientConfig{Key: "sk_test_checkout_fake", BaseURL: local.API.URL, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	redirects, err := frontend.ParseRedirects(app + "/billing/")
	if err != nil {
		t.Fatal(err)
	}
	svc := &Service{Deps: frontend.Deps{
		Settings: frontend.Settings{Project: "demo-billing", Origins: frontend.Origins{app}, Redirects: redirects,
			SuccessURL: successURL, CancelURL: cancelURL},
		Store: store, Stripe: api, Auth: tokens, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}}
	// A fixed clock: checkouts repeated in one test fall in one minute,
	// the window in which a repeated request gets the same session.
	svc.Now = func() time.Time { return time.Date(2026, 1, 1, 12, 0, 30, 0, time.UTC) }
	return &env{t: t, stripe: s, store: store, local: local, handler: Handler(svc)}
}

// course creates a product and price in the stand-in and the catalog
// document that sells them, as `billing course create` does.
func (e *env) course(id string, amount int64, interval string) billing.Course {
	e.t.Helper()
	sc := e.stripe.Client()
	p, err := sc.Products.New(&stripe.ProductParams{Name: stripe.String("Course " + id), Metadata: map[string]string{stripeapi.CourseIDKey: id}})
	if err != nil {
		e.t.Fatal(err)
	}
	pp := &stripe.PriceParams{Product: stripe.String(p.ID), UnitAmount: stripe.Int64(amount), Currency: stripe.String("usd")}
	mode := billing.ModePayment
	if interval != "" {
		pp.Recurring = &stripe.PriceRecurringParams{Interval: stripe.String(interval)}
		mode = billing.ModeSubscription
	}
	pr, err := sc.Prices.New(pp)
	if err != nil {
		e.t.Fatal(err)
	}
	c := billing.Course{ID: id, Title: p.Name, StripeProductID: p.ID, StripePriceID: pr.ID, Mode: mode, Interval: interval,
		Amount: amount, Currency: "usd", Active: true, PriceActive: true}
	e.put(c)
	return c
}

func (e *env) put(c billing.Course) {
	e.t.Helper()
	if err := e.store.Update(context.Background(), func(_ context.Context, tx billing.Tx) error { return tx.PutCourse(&c) }); err != nil {
		e.t.Fatal(err)
	}
}

type answer struct {
	status int
	resp   Response
	code   string
	raw    string
}

func (e *env) checkout(token, body string) answer {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/Checkout", strings.NewReader(body))
	req.Header.Set("Origin", app)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	a := answer{status: rec.Code, raw: rec.Body.String()}
	var errBody struct{ Error struct{ Code string } }
	_ = json.Unmarshal(rec.Body.Bytes(), &a.resp)
	_ = json.Unmarshal(rec.Body.Bytes(), &errBody)
	a.code = errBody.Error.Code
	return a
}

func (e *env) session(id string) *stripe.CheckoutSession {
	e.t.Helper()
	for _, cs := range e.stripe.CheckoutSessions() {
		if cs.ID == id {
			return cs
		}
	}
	e.t.Fatalf("no checkout session %s in the stand-in", id)
	return nil
}

func (e *env) customer(uid string) *billing.Customer {
	e.t.Helper()
	var c *billing.Customer
	if err := e.store.View(context.Background(), func(ctx context.Context, tx billing.Tx) error {
		var err error
		c, err = tx.Customer(ctx, uid)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) deliver() {
	e.t.Helper()
	rep := e.stripe.Deliver(context.Background(), stripelocal.DeliveryOptions{Concurrency: 4})
	if len(rep.Failures) > 0 {
		e.t.Fatalf("deliveries failed: %+v", rep.Failures)
	}
}

func TestCheckoutSellsTheCatalogPrice(t *testing.T) {
	e := newEnv(t, memstore.New())
	course := e.course("go-101", 4900, "")
	a := e.checkout("tok-alice", `{"courseId":"go-101"}`)
	if a.status != http.StatusOK || a.resp.ID == "" || a.resp.URL == "" {
		t.Fatalf("checkout: %d %s", a.status, a.raw)
	}
	cs := e.session(a.resp.ID)
	if cs.Mode != stripe.CheckoutSessionModePayment {
		t.Errorf("mode %q, want payment for a one-time course", cs.Mode)
	}
	if cs.ClientReferenceID != "alice" || cs.Metadata["uid"] != "alice" || cs.Metadata["courseId"] != "go-101" {
		t.Errorf("session does not name its buyer and course: client_reference_id %q metadata %v", cs.ClientReferenceID, cs.Metadata)
	}
	if cs.SuccessURL != successURL || cs.CancelURL != cancelURL {
		t.Errorf("redirects %q %q, want the configured defaults", cs.SuccessURL, cs.CancelURL)
	}
	var prices []string
	it := e.stripe.Client().CheckoutSessions.ListLineItems(&stripe.CheckoutSessionListLineItemsParams{Session: stripe.String(cs.ID)})
	for it.Next() {
		prices = append(prices, fmt.Sprintf("%s x%d", it.LineItem().Price.ID, it.LineItem().Quantity))
	}
	if err := it.Err(); err != nil || len(prices) != 1 || prices[0] != course.StripePriceID+" x1" {
		t.Errorf("line items %v (%v), want exactly the catalog price %s once", prices, err, course.StripePriceID)
	}
	cus := e.stripe.Customers()
	if len(cus) != 1 || cus[0].Metadata["uid"] != "alice" || cus[0].Email != "alice@example.com" || cs.Customer == nil || cs.Customer.ID != cus[0].ID {
		t.Fatalf("customers %+v, session customer %+v: want one customer for alice, used by the session", cus, cs.Customer)
	}
	if c := e.customer("alice"); c == nil || c.StripeCustomerID != cus[0].ID {
		t.Errorf("customers/alice = %+v, want stripeCustomerId %s", c, cus[0].ID)
	}
}

func TestCheckoutSubscriptionCarriesTheUser(t *testing.T) {
	e := newEnv(t, memstore.New())
	e.course("pro-plan", 1500, "month")
	a := e.checkout("tok-alice", `{"courseId":"pro-plan","successUrl":"`+app+`/billing/welcome"}`)
	if a.status != http.StatusOK {
		t.Fatalf("checkout: %d %s", a.status, a.raw)
	}
	cs := e.session(a.resp.ID)
	if cs.Mode != stripe.CheckoutSessionModeSubscription || cs.SuccessURL != app+"/billing/welcome" {
		t.Errorf("mode %q success %q", cs.Mode, cs.SuccessURL)
	}
	if _, err := e.stripe.CompleteCheckout(cs.ID, stripelocal.OutcomePaid); err != nil {
		t.Fatal(err)
	}
	subs := e.stripe.Subscriptions()
	if len(subs) != 1 || subs[0].Metadata["uid"] != "alice" || subs[0].Metadata["courseId"] != "pro-plan" {
		t.Fatalf("subscriptions %+v: subscription_data.metadata must name the user and course", subs)
	}
	e.deliver()
	c := e.customer("alice")
	if c == nil || c.Entitlements["pro-plan"].Source != "subscription" {
		t.Fatalf("customers/alice = %+v, want an entitlement to pro-plan from the subscription", c)
	}
	if a := e.checkout("tok-alice", `{"courseId":"pro-plan"}`); a.status != http.StatusConflict || a.code != "already_owned" {
		t.Errorf("second checkout of an active plan: %d %s, want 409 already_owned", a.status, a.raw)
	}
}

func TestCheckoutRefusals(t *testing.T) {
	e := newEnv(t, memstore.New())
	course := e.course("go-101", 4900, "")
	archived := course
	archived.ID, archived.PriceActive = "old-course", false
	e.put(archived)
	cases := []struct {
		name, token, body string
		status            int
		code              string
	}{
		{"no token", "", `{"courseId":"go-101"}`, 401, "unauthenticated"},
		{"forged token", "tok-forged", `{"courseId":"go-101"}`, 401, "unauthenticated"},
		{"unknown course", "tok-alice", `{"courseId":"nope"}`, 400, "unknown_course"},
		{"no course", "tok-alice", `{}`, 400, "bad_body"},
		{"path in course id", "tok-alice", `{"courseId":"go-101/../x"}`, 400, "unknown_course"},
		{"archived price", "tok-alice", `{"courseId":"old-course"}`, 400, "course_unavailable"},
		{"client picks a price", "tok-alice", `{"courseId":"go-101","price":"price_cheap"}`, 400, "bad_body"},
		{"client picks an amount", "tok-alice", `{"courseId":"go-101","amount":1}`, 400, "bad_body"},
		{"client picks a customer", "tok-alice", `{"courseId":"go-101","customer":"cus_someone"}`, 400, "bad_body"},
		{"foreign success URL", "tok-alice", `{"courseId":"go-101","successUrl":"https://evil.example/billing/"}`, 400, "bad_redirect"},
		{"foreign cancel URL", "tok-alice", `{"courseId":"go-101","cancelUrl":"https://app.example.com.evil.example/billing/"}`, 400, "bad_redirect"},
		{"success URL off the allowed path", "tok-alice", `{"courseId":"go-101","successUrl":"https://app.example.com/admin"}`, 400, "bad_redirect"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := e.checkout(c.token, c.body)
			if a.status != c.status || a.code != c.code {
				t.Errorf("%d %s, want %d %s", a.status, a.raw, c.status, c.code)
			}
		})
	}
	if n := len(e.stripe.CheckoutSessions()); n != 0 {
		t.Errorf("%d sessions created by refused checkouts", n)
	}
	if n := len(e.stripe.Customers()); n != 0 {
		t.Errorf("%d customers created by refused checkouts", n)
	}
}

// A course id no Firestore document can have is the caller's mistake: 400,
// never the 503 that Firestore's refusal of the read would otherwise be.
func TestCheckoutCourseIDsNoDocumentCanHave(t *testing.T) {
	firestoretest.EachStore(t, func(t *testing.T, store billing.Store) {
		e := newEnv(t, store)
		for _, id := range []string{"__reserved__", "a/b", "..", "."} {
			body, _ := json.Marshal(map[string]string{"courseId": id})
			if a := e.checkout("tok-alice", string(body)); a.status != http.StatusBadRequest || a.code != "unknown_course" {
				t.Errorf("courseId %q: %d %s, want 400 unknown_course", id, a.status, a.raw)
			}
		}
	})
}

func TestConcurrentFirstCheckoutsMakeOneCustomer(t *testing.T) {
	firestoretest.EachStore(t, func(t *testing.T, store billing.Store) {
		e := newEnv(t, store)
		e.course("go-101", 4900, "")
		const n = 8
		answers := make([]answer, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				answers[i] = e.checkout("tok-alice", fmt.Sprintf(`{"courseId":"go-101","cancelUrl":"%s/billing/c%d"}`, app, i))
			})
		}
		close(start)
		wg.Wait()
		cus := e.stripe.Customers()
		if len(cus) != 1 {
			t.Fatalf("%d concurrent first checkouts made %d Stripe customers, want 1", n, len(cus))
		}
		for i, a := range answers {
			if a.status != http.StatusOK {
				t.Errorf("checkout %d: %d %s", i, a.status, a.raw)
				continue
			}
			if cs := e.session(a.resp.ID); cs.Customer == nil || cs.Customer.ID != cus[0].ID {
				t.Errorf("checkout %d used customer %+v, want %s", i, cs.Customer, cus[0].ID)
			}
		}
		if c := e.customer("alice"); c == nil || c.StripeCustomerID != cus[0].ID {
			t.Errorf("customers/alice = %+v, want %s", c, cus[0].ID)
		}
		// The next checkout, of another user, makes their own customer.
		if a := e.checkout("tok-bob", `{"courseId":"go-101"}`); a.status != http.StatusOK {
			t.Fatalf("bob: %d %s", a.status, a.raw)
		}
		if got := len(e.stripe.Customers()); got != 2 {
			t.Errorf("%d customers after bob's checkout, want 2", got)
		}
	})
}

func TestPaidPurchaseGrantsAccessAndIsNotSoldTwice(t *testing.T) {
	firestoretest.EachStore(t, func(t *testing.T, store billing.Store) {
		e := newEnv(t, store)
		e.course("go-101", 4900, "")
		a := e.checkout("tok-alice", `{"courseId":"go-101"}`)
		if a.status != http.StatusOK {
			t.Fatalf("checkout: %d %s", a.status, a.raw)
		}
		if _, err := e.stripe.CompleteCheckout(a.resp.ID, stripelocal.OutcomePaid); err != nil {
			t.Fatal(err)
		}
		e.deliver()
		c := e.customer("alice")
		if c == nil || c.Entitlements["go-101"].Source != "purchase" || c.Entitlements["go-101"].SourceID != a.resp.ID {
			t.Fatalf("customers/alice = %+v, want go-101 granted by purchase %s", c, a.resp.ID)
		}
		again := e.checkout("tok-alice", `{"courseId":"go-101"}`)
		if again.status != http.StatusConflict || again.code != "already_owned" {
			t.Errorf("second checkout: %d %s, want 409 already_owned", again.status, again.raw)
		}
		if n := len(e.stripe.Customers()); n != 1 {
			t.Errorf("%d customers, want the first one reused", n)
		}
	})
}

func TestCheckoutFailuresAreRetrySafe(t *testing.T) {
	t.Run("stripe answers 500", func(t *testing.T) {
		e := newEnv(t, memstore.New())
		e.course("go-101", 4900, "")
		e.stripe.FailNextRequests(1, http.StatusInternalServerError)
		a := e.checkout("tok-alice", `{"courseId":"go-101"}`)
		if a.status != http.StatusBadGateway || a.code != "payment_provider_error" {
			t.Fatalf("%d %s, want 502 payment_provider_error", a.status, a.raw)
		}
		if strings.Contains(a.raw, "sk_test") {
			t.Errorf("the answer echoes the key: %s", a.raw)
		}
		// The retry goes through and still makes one customer.
		if a := e.checkout("tok-alice", `{"courseId":"go-101"}`); a.status != http.StatusOK {
			t.Fatalf("retry: %d %s", a.status, a.raw)
		}
		if n := len(e.stripe.Customers()); n != 1 {
			t.Errorf("%d customers after a failed call and its retry, want 1", n)
		}
	})
	t.Run("firestore fails", func(t *testing.T) {
		store := memstore.New()
		e := newEnv(t, store)
		e.course("go-101", 4900, "")
		store.FailCommit = func() error { return fmt.Errorf("unavailable") }
		a := e.checkout("tok-alice", `{"courseId":"go-101"}`)
		if a.status != http.StatusServiceUnavailable || a.code != "unavailable" {
			t.Fatalf("%d %s, want 503 unavailable", a.status, a.raw)
		}
		if n := len(e.stripe.Customers()) + len(e.stripe.CheckoutSessions()); n != 0 {
			t.Errorf("%d Stripe objects created although the reservation failed", n)
		}
	})
}

// TestCheckoutShapeAgainstStripeMock sends the calls checkout makes to
// stripe-mock, which validates parameters against Stripe's OpenAPI spec.
func TestCheckoutShapeAgainstStripeMock(t *testing.T) {
	mockURL := os.Getenv("STRIPE_MOCK_URL")
	if mockURL == "" {
		if os.Getenv("BILLING_REQUIRE_STRIPE_MOCK") == "1" {
			t.Fatal("STRIPE_MOCK_URL is not set and BILLING_REQUIRE_STRIPE_MOCK=1")
		}
		t.Skip("STRIPE_MOCK_URL not set")
	}
	for _, mode := range []string{"", "month"} {
		store := memstore.New()
		api, err := stripeapi.NewClient(stripeapi.ClientConfig{Key: "sk_test_123", BaseURL: mockURL, MaxRetries: -1})
		if err != nil {
			t.Fatal(err)
		}
		redirects, _ := frontend.ParseRedirects(app + "/billing/")
		svc := &Service{Deps: frontend.Deps{
			Settings: frontend.Settings{Project: "demo-billing", Redirects: redirects, SuccessURL: successURL, CancelURL: cancelURL},
			Store:    store, Stripe: api, Auth: tokens, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		}}
		c := billing.Course{ID: "go-101", StripeProductID: "prod_123", StripePriceID: "price_123", Mode: billing.ModePayment, Active: true, PriceActive: true}
		if mode != "" {
			c.Mode, c.Interval = billing.ModeSubscription, mode
		}
		if err := store.Update(context.Background(), func(_ context.Context, tx billing.Tx) error { return tx.PutCourse(&c) }); err != nil {
			t.Fatal(err)
		}
		res, err := svc.Checkout(context.Background(), auth.User{UID: "alice", Email: "alice@example.com"}, Request{CourseID: "go-101"})
		if err != nil {
			t.Fatalf("mode %s: stripe-mock refused the calls: %v", c.Mode, err)
		}
		if r := res.(Response); r.ID == "" || r.URL == "" {
			t.Errorf("mode %s: answer %+v", c.Mode, r)
		}
	}
}

func TestCustomerDeletedInStripeIsReplaced(t *testing.T) {
	firestoretest.EachStore(t, func(t *testing.T, store billing.Store) {
		e := newEnv(t, store)
		e.course("go-101", 4900, "")
		e.course("go-201", 5900, "")
		a := e.checkout("tok-alice", `{"courseId":"go-101"}`)
		if a.status != http.StatusOK {
			t.Fatalf("checkout: %d %s", a.status, a.raw)
		}
		if _, err := e.stripe.CompleteCheckout(a.resp.ID, stripelocal.OutcomePaid); err != nil {
			t.Fatal(err)
		}
		first := e.customer("alice").StripeCustomerID
		if err := e.stripe.DeleteCustomer(first); err != nil {
			t.Fatal(err)
		}
		e.deliver()

		b := e.checkout("tok-alice", `{"courseId":"go-201"}`)
		if b.status != http.StatusOK {
			t.Fatalf("checkout after the customer was deleted: %d %s", b.status, b.raw)
		}
		c := e.customer("alice")
		if c.StripeCustomerID == first || c.StripeCustomerID == "" {
			t.Fatalf("customers/alice still names %q (deleted %s)", c.StripeCustomerID, first)
		}
		if cs := e.session(b.resp.ID); cs.Customer == nil || cs.Customer.ID != c.StripeCustomerID {
			t.Errorf("the new session uses %+v, want the new customer %s", cs.Customer, c.StripeCustomerID)
		}
		if _, ok := c.Entitlements["go-101"]; !ok {
			t.Errorf("the purchase made with the deleted customer no longer grants go-101: %+v", c.Entitlements)
		}
		// And the replacement is made once, not at every checkout.
		if again := e.checkout("tok-alice", `{"courseId":"go-201","cancelUrl":"`+app+`/billing/x"}`); again.status != http.StatusOK {
			t.Fatalf("third checkout: %d %s", again.status, again.raw)
		}
		if got := e.customer("alice").StripeCustomerID; got != c.StripeCustomerID {
			t.Errorf("customer changed again: %s then %s", c.StripeCustomerID, got)
		}
		live := 0
		for _, c := range e.stripe.Customers() {
			if !c.Deleted {
				live++
			}
		}
		if live != 1 {
			t.Errorf("%d live customers in the stand-in, want the one replacement", live)
		}
	})
}

func TestOneOpenCheckoutPerCourse(t *testing.T) {
	firestoretest.EachStore(t, func(t *testing.T, store billing.Store) {
		e := newEnv(t, store)
		e.course("go-101", 4900, "")
		// Two tabs: the second checkout expires the first, so only one
		// can be paid.
		first := e.checkout("tok-alice", `{"courseId":"go-101","cancelUrl":"`+app+`/billing/tab1"}`)
		second := e.checkout("tok-alice", `{"courseId":"go-101","cancelUrl":"`+app+`/billing/tab2"}`)
		if first.status != 200 || second.status != 200 || first.resp.ID == second.resp.ID {
			t.Fatalf("checkouts: %d %s / %d %s", first.status, first.raw, second.status, second.raw)
		}
		if st := e.session(first.resp.ID).Status; st != stripe.CheckoutSessionStatusExpired {
			t.Errorf("the first tab's session is %q, want expired", st)
		}
		if _, err := e.stripe.CompleteCheckout(first.resp.ID, stripelocal.OutcomePaid); err == nil {
			t.Error("the expired first session could still be paid")
		}
		// The second is paid; before its webhook arrives, a third
		// checkout learns the course is paid for and makes nothing
		// payable.
		if _, err := e.stripe.CompleteCheckout(second.resp.ID, stripelocal.OutcomePaid); err != nil {
			t.Fatal(err)
		}
		third := e.checkout("tok-alice", `{"courseId":"go-101","cancelUrl":"`+app+`/billing/tab3"}`)
		if third.status != http.StatusConflict || third.code != "already_owned" {
			t.Fatalf("checkout while the paid session's webhook is pending: %d %s, want 409", third.status, third.raw)
		}
		for _, cs := range e.stripe.CheckoutSessions() {
			if cs.ID != second.resp.ID && cs.Status == stripe.CheckoutSessionStatusOpen {
				t.Errorf("session %s is still open", cs.ID)
			}
		}
		e.deliver()
		if c := e.customer("alice"); c.Entitlements["go-101"].SourceID != second.resp.ID {
			t.Errorf("entitlement %+v, want the one paid session %s", c.Entitlements, second.resp.ID)
		}
	})
}

func TestDoubleClickGetsTheSameSession(t *testing.T) {
	e := newEnv(t, memstore.New())
	e.course("go-101", 4900, "")
	a := e.checkout("tok-alice", `{"courseId":"go-101"}`)
	b := e.checkout("tok-alice", `{"courseId":"go-101"}`)
	if a.status != 200 || b.status != 200 {
		t.Fatalf("%d %s / %d %s", a.status, a.raw, b.status, b.raw)
	}
	if a.resp.ID != b.resp.ID {
		t.Errorf("a repeated request within the minute made a second session: %s, %s", a.resp.ID, b.resp.ID)
	}
	if st := e.session(a.resp.ID).Status; st != stripe.CheckoutSessionStatusOpen {
		t.Errorf("the session is %q after a double click, want open", st)
	}
}
