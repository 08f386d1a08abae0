package stripelocal

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/stripe/stripe-go/v76"
)

// rawCall sends a form request to the handler and returns status, headers
// and decoded body.
func rawCall(t *testing.T, h http.Handler, method, path, form string, headers map[string]string) (int, http.Header, map[string]any) {
	t.Helper()
	var body io.Reader
	if form != "" {
		body = strings.NewReader(form)
	}
	r := httptest.NewRequest(method, path, body)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Authorization", "Bearer sk_test_raw")
	for k, v := range headers {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("%s %s: %d %q is not JSON: %v", method, path, w.Code, w.Body.String(), err)
	}
	return w.Code, w.Header(), m
}

func TestIdempotencyKeys(t *testing.T) {
	tests := []struct {
		name       string
		first      string
		second     string
		secondPath string
		wantStatus int
		wantSame   bool // the second answer replays the first
		wantType   string
	}{
		{name: "same key, same parameters: the first answer again", first: "email=a@example.com&name=A",
			second: "email=a@example.com&name=A", wantStatus: 200, wantSame: true},
		{name: "same key, same parameters in another order: still a replay", first: "email=a@example.com&name=A",
			second: "name=A&email=a@example.com", wantStatus: 200, wantSame: true},
		{name: "same key, different parameters: idempotency_error", first: "email=a@example.com",
			second: "email=b@example.com", wantStatus: 400, wantType: "idempotency_error"},
		{name: "same key on another endpoint: idempotency_error", first: "email=a@example.com",
			second: "name=Course", secondPath: "/v1/products", wantStatus: 400, wantType: "idempotency_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{})
			key := map[string]string{"Idempotency-Key": "key-1"}
			st, _, first := rawCall(t, s, "POST", "/v1/customers", tt.first, key)
			if st != 200 {
				t.Fatalf("first call: %d %v", st, first)
			}
			path := "/v1/customers"
			if tt.secondPath != "" {
				path = tt.secondPath
			}
			st, hdr, second := rawCall(t, s, "POST", path, tt.second, key)
			if st != tt.wantStatus {
				t.Fatalf("second call: %d %v, want %d", st, second, tt.wantStatus)
			}
			if tt.wantSame {
				if second["id"] != first["id"] || hdr.Get("Idempotent-Replayed") != "true" {
					t.Errorf("replay %v (replayed header %q), want %v", second["id"], hdr.Get("Idempotent-Replayed"), first["id"])
				}
				if n := len(s.Customers()); n != 1 {
					t.Errorf("%d customers, want 1", n)
				}
				if got := EventTypes(s.Events()); !slices.Equal(got, []string{"customer.created"}) {
					t.Errorf("events %v, want one customer.created", got)
				}
			}
			if tt.wantType != "" {
				if e, _ := second["error"].(map[string]any); e == nil || e["type"] != tt.wantType {
					t.Errorf("error %v, want type %s", second, tt.wantType)
				}
			}
		})
	}

	t.Run("stripe-go: an explicit key replays, another key creates", func(t *testing.T) {
		s := New(Options{})
		sc := s.Client()
		p := &stripe.CustomerParams{Email: stripe.String("a@example.com")}
		p.SetIdempotencyKey("create-a")
		c1, err1 := sc.Customers.New(p)
		c2, err2 := sc.Customers.New(p)
		c3, err3 := sc.Customers.New(&stripe.CustomerParams{Email: stripe.String("a@example.com")})
		if err := errors.Join(err1, err2, err3); err != nil {
			t.Fatal(err)
		}
		if c1.ID != c2.ID || c1.ID == c3.ID {
			t.Errorf("ids %s %s %s: want the first two equal, the third new", c1.ID, c2.ID, c3.ID)
		}
		p2 := &stripe.CustomerParams{Email: stripe.String("other@example.com")}
		p2.SetIdempotencyKey("create-a")
		_, err := sc.Customers.New(p2)
		var se *stripe.Error
		if !errors.As(err, &se) || se.Type != stripe.ErrorTypeIdempotency || se.HTTPStatusCode != 400 {
			t.Errorf("reused key with other params: %v, want a 400 idempotency_error", err)
		}
		var ie *stripe.IdempotencyError
		if !errors.As(err, &ie) {
			t.Errorf("error does not unwrap to *stripe.IdempotencyError: %T", se.Err)
		}
	})
}

func TestErrorShapes(t *testing.T) {
	tests := []struct {
		name       string
		call       func(s *Stripe) error
		wantStatus int
		wantType   stripe.ErrorType
		wantCode   stripe.ErrorCode
		wantParam  string
		wantMsg    string
	}{
		{name: "unknown subscription: 404 resource_missing", call: func(s *Stripe) error {
			_, err := s.Client().Subscriptions.Get("sub_nope", nil)
			return err
		}, wantStatus: 404, wantType: "invalid_request_error", wantCode: "resource_missing", wantParam: "id", wantMsg: "No such subscription: 'sub_nope'"},
		{name: "unknown invoice: 404", call: func(s *Stripe) error {
			_, err := s.Client().Invoices.Get("in_nope", nil)
			return err
		}, wantStatus: 404, wantType: "invalid_request_error", wantCode: "resource_missing", wantMsg: "No such invoice: 'in_nope'"},
		{name: "wrong key: 401", call: func(s *Stripe) error {
			sc := s.Client()
			sc.Customers.Key = "sk_fake_wrongmode"
			_, err := sc.Customers.Get("cus_x", nil)
			return err
		}, wantStatus: 401, wantType: "invalid_request_error", wantMsg: "Invalid API Key provided: sk_fake_*****mode"},
		{name: "missing required parameter: 400 parameter_missing", call: func(s *Stripe) error {
			_, err := s.Client().Prices.New(&stripe.PriceParams{Currency: stripe.String("usd"), UnitAmount: stripe.Int64(1)})
			return err
		}, wantStatus: 400, wantType: "invalid_request_error", wantCode: "parameter_missing", wantParam: "product"},
		{name: "price of another account: 400 resource_missing on the parameter", call: func(s *Stripe) error {
			_, err := s.Client().CheckoutSessions.New(&stripe.CheckoutSessionParams{Mode: stripe.String("payment"),
				SuccessURL: stripe.String("https://x.example"),
				LineItems:  []*stripe.CheckoutSessionLineItemParams{{Price: stripe.String("price_nope"), Quantity: stripe.Int64(1)}}})
			return err
		}, wantStatus: 400, wantType: "invalid_request_error", wantCode: "resource_missing", wantParam: "line_items[0][price]"},
		{name: "unknown parameter: 400 parameter_unknown", call: func(s *Stripe) error {
			p := &stripe.CustomerParams{}
			p.AddExtra("favourite_colour", "blue")
			_, err := s.Client().Customers.New(p)
			return err
		}, wantStatus: 400, wantType: "invalid_request_error", wantCode: "parameter_unknown", wantParam: "favourite_colour"},
		{name: "paying with a declining card: 402 card_error", call: func(s *Stripe) error {
			h := harnessOn(&testing.T{}, s, sessionSpec{})
			if _, err := s.CompleteCheckout(h.cs, OutcomePaid); err != nil {
				return err
			}
			_ = s.SetPaymentFails(h.cus, true)
			s.Advance(month)
			_, err := s.Client().Invoices.Pay(h.latestInvoice(), nil)
			return err
		}, wantStatus: 402, wantType: "card_error", wantCode: "card_declined"},
		{name: "injected rate limit: 429", call: func(s *Stripe) error {
			s.FailNextRequests(1, 429)
			_, err := s.Client().Customers.New(nil)
			return err
		}, wantStatus: 429, wantType: "invalid_request_error", wantCode: "rate_limit"},
		{name: "injected lock timeout: 409", call: func(s *Stripe) error {
			s.FailNextRequests(1, 409)
			_, err := s.Client().Customers.New(nil)
			return err
		}, wantStatus: 409, wantType: "invalid_request_error", wantCode: "lock_timeout"},
		{name: "injected outage: 503 api_error", call: func(s *Stripe) error {
			s.FailNextRequests(1, 503)
			_, err := s.Client().Customers.New(nil)
			return err
		}, wantStatus: 503, wantType: "api_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{})
			err := tt.call(s)
			var se *stripe.Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T), want *stripe.Error", err, err)
			}
			if se.HTTPStatusCode != tt.wantStatus || se.Type != tt.wantType || se.Code != tt.wantCode {
				t.Errorf("got %d %s %q, want %d %s %q", se.HTTPStatusCode, se.Type, se.Code, tt.wantStatus, tt.wantType, tt.wantCode)
			}
			if tt.wantParam != "" && se.Param != tt.wantParam {
				t.Errorf("param %q, want %q", se.Param, tt.wantParam)
			}
			if !strings.Contains(se.Msg, tt.wantMsg) {
				t.Errorf("message %q, want it to contain %q", se.Msg, tt.wantMsg)
			}
			if se.RequestID == "" {
				t.Error("no Request-Id header")
			}
		})
	}

	t.Run("no key at all: 401 in Stripe's shape", func(t *testing.T) {
		st, _, body := rawCall(t, New(Options{}), "GET", "/v1/customers", "", map[string]string{"Authorization": ""})
		e, _ := body["error"].(map[string]any)
		if st != 401 || e == nil || e["type"] != "invalid_request_error" || !strings.Contains(e["message"].(string), "did not provide an API key") {
			t.Errorf("%d %v", st, body)
		}
	})
	t.Run("unknown URL: 404", func(t *testing.T) {
		st, _, body := rawCall(t, New(Options{}), "GET", "/v1/charges", "", nil)
		if st != 404 || body["error"] == nil {
			t.Errorf("%d %v", st, body)
		}
	})
}

func TestExpandAndVersions(t *testing.T) {
	h := newHarness(t, Options{}, sessionSpec{})
	if _, err := h.s.CompleteCheckout(h.cs, OutcomePaid); err != nil {
		t.Fatal(err)
	}
	sub := h.sub().ID
	tests := []struct {
		name    string
		path    string
		version string
		check   func(m map[string]any) string
	}{
		{name: "ids by default", path: "/v1/subscriptions/" + sub, check: func(m map[string]any) string {
			if _, ok := m["customer"].(string); !ok {
				return "customer is not an id"
			}
			return ""
		}},
		{name: "expand customer and latest_invoice", path: "/v1/subscriptions/" + sub + "?expand[]=customer&expand[]=latest_invoice",
			check: func(m map[string]any) string {
				c, _ := m["customer"].(map[string]any)
				in, _ := m["latest_invoice"].(map[string]any)
				if c["object"] != "customer" || in["object"] != "invoice" {
					return "not expanded"
				}
				return ""
			}},
		{name: "expand through lists", path: "/v1/subscriptions/" + sub + "?expand[0]=items.data.price.product",
			check: func(m map[string]any) string {
				it := m["items"].(map[string]any)["data"].([]any)[0].(map[string]any)
				if p, _ := it["price"].(map[string]any)["product"].(map[string]any); p["object"] != "product" {
					return "product not expanded"
				}
				return ""
			}},
		{name: "expand a list's data", path: "/v1/subscriptions?customer=" + h.cus + "&expand[]=data.customer",
			check: func(m map[string]any) string {
				d := m["data"].([]any)
				if len(d) != 1 || d[0].(map[string]any)["customer"].(map[string]any)["id"] != h.cus {
					return "data.customer not expanded"
				}
				return ""
			}},
		{name: "line_items only when asked", path: "/v1/checkout/sessions/" + h.cs + "?expand[]=line_items&expand[]=subscription",
			check: func(m map[string]any) string {
				li, _ := m["line_items"].(map[string]any)
				sub, _ := m["subscription"].(map[string]any)
				if li["object"] != "list" || len(li["data"].([]any)) != 1 || sub["object"] != "subscription" {
					return "line_items or subscription missing"
				}
				return ""
			}},
		{name: "2025-03-31.basil: period on items", path: "/v1/subscriptions/" + sub, version: BasilVersion,
			check: func(m map[string]any) string {
				it := m["items"].(map[string]any)["data"].([]any)[0].(map[string]any)
				if _, ok := m["current_period_end"]; ok || it["current_period_end"] == nil {
					return "period not moved to items"
				}
				return ""
			}},
		{name: "2025-03-31.basil: invoice parent, no paid", path: "/v1/invoices/" + h.latestInvoice(), version: BasilVersion,
			check: func(m map[string]any) string {
				parent, _ := m["parent"].(map[string]any)
				details, _ := parent["subscription_details"].(map[string]any)
				_, hasPaid := m["paid"]
				_, hasSub := m["subscription"]
				if details["subscription"] != sub || hasPaid || hasSub {
					return "invoice not in the basil shape"
				}
				return ""
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, hdr, m := rawCall(t, h.s, "GET", tt.path, "", map[string]string{"Stripe-Version": tt.version})
			if st != 200 {
				t.Fatalf("%d %v", st, m)
			}
			if hdr.Get("Request-Id") == "" {
				t.Error("no Request-Id")
			}
			if msg := tt.check(m); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func TestListsAndUpdates(t *testing.T) {
	s := New(Options{Seed: 3})
	sc := s.Client()
	var ids []string
	for i := 0; i < 5; i++ {
		c, err := sc.Customers.New(&stripe.CustomerParams{Email: stripe.String("same@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	if _, err := sc.Customers.New(&stripe.CustomerParams{Email: stripe.String("other@example.com")}); err != nil {
		t.Fatal(err)
	}

	t.Run("pages of two, newest first, filtered by email", func(t *testing.T) {
		p := &stripe.CustomerListParams{Email: stripe.String("same@example.com")}
		p.Limit = stripe.Int64(2)
		var got []string
		it := sc.Customers.List(p)
		for it.Next() {
			got = append(got, it.Customer().ID)
		}
		want := slices.Clone(ids)
		slices.Reverse(want)
		if it.Err() != nil || !slices.Equal(got, want) {
			t.Errorf("listed %v (err %v), want %v", got, it.Err(), want)
		}
	})
	t.Run("metadata: set, then unset with an empty value", func(t *testing.T) {
		p := &stripe.CustomerParams{}
		p.AddMetadata("uid", "u1")
		p.AddMetadata("plan", "pro")
		if _, err := sc.Customers.Update(ids[0], p); err != nil {
			t.Fatal(err)
		}
		p = &stripe.CustomerParams{}
		p.AddMetadata("plan", "")
		c, err := sc.Customers.Update(ids[0], p)
		if err != nil || len(c.Metadata) != 1 || c.Metadata["uid"] != "u1" {
			t.Errorf("metadata %v (err %v), want only uid", c.Metadata, err)
		}
		last := s.Events()[len(s.Events())-1]
		if last.Type != "customer.updated" || !strings.Contains(string(last.PreviousAttributes), `"plan":"pro"`) {
			t.Errorf("last event %s %s", last.Type, last.PreviousAttributes)
		}
	})
	t.Run("archived price: updated event, refused by Checkout", func(t *testing.T) {
		pr := catalog(t, sc, 100, "")
		if _, err := sc.Prices.Update(pr.ID, &stripe.PriceParams{Active: stripe.Bool(false)}); err != nil {
			t.Fatal(err)
		}
		if e := s.Events()[len(s.Events())-1]; e.Type != "price.updated" || string(e.PreviousAttributes) != `{"active":true}` {
			t.Errorf("event %s %s", e.Type, e.PreviousAttributes)
		}
		_, err := sc.CheckoutSessions.New(&stripe.CheckoutSessionParams{Mode: stripe.String("payment"),
			SuccessURL: stripe.String("https://x.example"),
			LineItems:  []*stripe.CheckoutSessionLineItemParams{{Price: stripe.String(pr.ID), Quantity: stripe.Int64(1)}}})
		if err == nil || !strings.Contains(err.Error(), "inactive") {
			t.Errorf("checkout with an archived price: %v", err)
		}
	})
	t.Run("deleted customer reads as deleted", func(t *testing.T) {
		d, err := sc.Customers.Del(ids[1], nil)
		if err != nil || !d.Deleted {
			t.Fatalf("delete: %+v %v", d, err)
		}
		c, err := sc.Customers.Get(ids[1], nil)
		if err != nil || !c.Deleted || c.ID != ids[1] {
			t.Errorf("get deleted: %+v %v", c, err)
		}
		if _, err := sc.Customers.Update(ids[1], &stripe.CustomerParams{Name: stripe.String("x")}); err == nil {
			t.Error("update of a deleted customer succeeded")
		}
	})
	t.Run("subscription update: cancel at period end and pause collection in one event", func(t *testing.T) {
		h := newHarness(t, Options{}, sessionSpec{})
		if _, err := h.s.CompleteCheckout(h.cs, OutcomePaid); err != nil {
			t.Fatal(err)
		}
		p := &stripe.SubscriptionParams{CancelAtPeriodEnd: stripe.Bool(true),
			PauseCollection: &stripe.SubscriptionPauseCollectionParams{Behavior: stripe.String("void")}}
		sub, err := h.sc.Subscriptions.Update(h.sub().ID, p)
		if err != nil || !sub.CancelAtPeriodEnd || sub.PauseCollection == nil || sub.PauseCollection.Behavior != "void" || sub.CancelAt != sub.CurrentPeriodEnd {
			t.Fatalf("update: %+v %v", sub, err)
		}
		e := h.s.Events()[len(h.s.Events())-1]
		var pa map[string]any
		_ = json.Unmarshal(e.PreviousAttributes, &pa)
		if _, had := pa["pause_collection"]; e.Type != "customer.subscription.updated" || pa["cancel_at_period_end"] != false || !had {
			t.Errorf("event %s %s", e.Type, e.PreviousAttributes)
		}
		// Expanding the answer must not reach into the event just emitted.
		ep := &stripe.SubscriptionParams{Description: stripe.String("renamed")}
		ep.AddExpand("customer")
		if _, err := h.sc.Subscriptions.Update(sub.ID, ep); err != nil {
			t.Fatal(err)
		}
		ev, err := h.s.Events()[len(h.s.Events())-1].Stripe()
		if _, isID := ev.Data.Object["customer"].(string); err != nil || !isID || ev.Data.PreviousAttributes["customer"] != nil {
			t.Error("the expand[] of the answer reached into the event just emitted")
		}
		resume := &stripe.SubscriptionParams{CancelAtPeriodEnd: stripe.Bool(false)}
		resume.AddExtra("pause_collection", "")
		if sub, err = h.sc.Subscriptions.Update(sub.ID, resume); err != nil || sub.PauseCollection != nil || sub.CancelAtPeriodEnd || sub.CanceledAt != 0 {
			t.Errorf("undo: %+v %v", sub, err)
		}
	})
}

func TestParseForm(t *testing.T) {
	tests := []struct {
		name string
		form string
		path []string
		want string
		list []string
	}{
		{name: "nested", form: "a[b][c]=1", path: []string{"a", "b", "c"}, want: "1"},
		{name: "indexed array", form: "items[1][price]=p2&items[0][price]=p1", path: []string{"items", "0", "price"}, want: "p1"},
		{name: "escaped brackets", form: "metadata%5Buid%5D=u%201", path: []string{"metadata", "uid"}, want: "u 1"},
		{name: "appended array keeps order", form: "expand[]=b&expand[]=a", list: []string{"b", "a"}},
		{name: "indexed expand", form: "expand[0]=customer&expand[1]=latest_invoice", list: []string{"customer", "latest_invoice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, _, err := parseForm(tt.form)
			if err != nil {
				t.Fatal(err)
			}
			p := params{root: root}
			if tt.path != nil {
				if got, _ := p.str(tt.path...); got != tt.want {
					t.Errorf("%v = %q, want %q", tt.path, got, tt.want)
				}
			}
			if tt.list != nil {
				if got := p.strings("expand"); !slices.Equal(got, tt.list) {
					t.Errorf("expand = %v, want %v", got, tt.list)
				}
			}
		})
	}
}
