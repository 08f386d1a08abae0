package stripelocal

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stripe/stripe-go/v76"
)

func TestControlEndpoints(t *testing.T) {
	h := newHarness(t, Options{}, sessionSpec{})
	sub := func() string { return h.sub().ID }
	tests := []struct {
		name       string
		method     string
		path       func() string
		body       string
		wantStatus int
		// want is a key and value the JSON answer must hold.
		want       [2]string
		wantEvents []string
	}{
		{name: "complete a session", method: "POST", path: func() string { return "/_local/checkout/sessions/" + h.cs + "/complete" },
			body: `{"outcome":"paid"}`, wantStatus: 200, want: [2]string{"status", "complete"}, wantEvents: paidCheckout},
		{name: "complete it again: 400", method: "POST", path: func() string { return "/_local/checkout/sessions/" + h.cs + "/complete" },
			body: `{"outcome":"paid"}`, wantStatus: 400},
		{name: "card starts failing", method: "POST", path: func() string { return "/_local/customers/" + h.cus + "/payment_fails" },
			body: `{"fails":true}`, wantStatus: 200, want: [2]string{"id", h.cus}},
		{name: "advance a month", method: "POST", path: func() string { return "/_local/clock/advance" },
			body: `{"duration":"744h"}`, wantStatus: 200, want: [2]string{"time", "2026-02-01T00:00:00Z"}, wantEvents: failedRenewal},
		{name: "advance by nothing: 400", method: "POST", path: func() string { return "/_local/clock/advance" }, body: `{}`, wantStatus: 400},
		{name: "recover the failed invoice", method: "POST", path: func() string { return "/_local/invoices/" + h.latestInvoice() + "/recover" },
			wantStatus: 200, want: [2]string{"status", "paid"}, wantEvents: seq(paid, []string{"customer.subscription.updated"})},
		{name: "pause", method: "POST", path: func() string { return "/_local/subscriptions/" + sub() + "/pause" },
			wantStatus: 200, want: [2]string{"status", "paused"}, wantEvents: []string{"customer.subscription.paused", "customer.subscription.updated"}},
		{name: "unknown action: 404", method: "POST", path: func() string { return "/_local/subscriptions/" + sub() + "/explode" }, wantStatus: 404},
		{name: "malformed body: 400", method: "POST", path: func() string { return "/_local/clock/advance" }, body: `{`, wantStatus: 400},
		{name: "the clock", method: "GET", path: func() string { return "/_local/clock" }, wantStatus: 200, want: [2]string{"object", "stripelocal.clock"}},
		{name: "delete the customer", method: "POST", path: func() string { return "/_local/customers/" + h.cus + "/delete" },
			wantStatus: 200, want: [2]string{"deleted", "true"}, wantEvents: []string{"customer.subscription.deleted", "customer.deleted"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(h.s.Events())
			r := httptest.NewRequest(tt.method, tt.path(), strings.NewReader(tt.body))
			w := httptest.NewRecorder()
			h.s.ServeHTTP(w, r)
			if w.Code != tt.wantStatus {
				t.Fatalf("%d %s, want %d", w.Code, w.Body, tt.wantStatus)
			}
			if tt.want[0] != "" && !strings.Contains(w.Body.String(), `"`+tt.want[0]+`":`) {
				t.Errorf("answer %s lacks %s", w.Body, tt.want[0])
			}
			if tt.want[0] != "" && !strings.Contains(w.Body.String(), tt.want[1]) {
				t.Errorf("answer %s lacks %s=%s", w.Body, tt.want[0], tt.want[1])
			}
			if got := EventTypes(h.s.Events()[before:]); !slices.Equal(got, tt.wantEvents) && len(got)+len(tt.wantEvents) > 0 {
				t.Errorf("events %v, want %v", got, tt.wantEvents)
			}
		})
	}
}

// TestPages follows a session's url as a browser would: the Checkout page
// pays and redirects to success_url; the portal page cancels.
func TestPages(t *testing.T) {
	s := New(Options{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	sc := clientAt(srv.URL)
	h := harnessOn(t, s, sessionSpec{})
	// The first request over HTTP teaches the stand-in its URL, for the
	// url fields of what is created afterwards (the portal session below).
	if _, err := sc.CheckoutSessions.Get(h.cs, nil); err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page, err := browser.Get(srv.URL + "/_local/pay/" + h.cs)
	if err != nil || page.StatusCode != 200 {
		t.Fatalf("checkout page: %v %v", page, err)
	}
	page.Body.Close()
	res, err := browser.PostForm(srv.URL+"/_local/pay/"+h.cs, url.Values{"outcome": {"paid"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "https://courses.example/done" {
		t.Errorf("after paying: %d to %q, want 303 to the success_url", res.StatusCode, res.Header.Get("Location"))
	}
	if got := h.session(); got.Status != "complete" {
		t.Fatalf("session %s", got.Status)
	}

	ps, err := sc.BillingPortalSessions.New(nil)
	if err == nil {
		t.Fatalf("portal session without customer: %+v", ps)
	}
	ps, err = sc.BillingPortalSessions.New(&stripe.BillingPortalSessionParams{Customer: stripe.String(h.cus),
		ReturnURL: stripe.String("https://courses.example/account")})
	if err != nil || !strings.HasPrefix(ps.URL, srv.URL+"/_local/portal/") {
		t.Fatalf("portal session %+v %v", ps, err)
	}
	res, err = browser.PostForm(ps.URL, url.Values{"sub": {h.sub().ID}, "action": {"cancel_at_period_end"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || !h.sub().CancelAtPeriodEnd {
		t.Errorf("portal cancel: %d, cancel_at_period_end %v", res.StatusCode, h.sub().CancelAtPeriodEnd)
	}
}
