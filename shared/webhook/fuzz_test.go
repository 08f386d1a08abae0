package webhook_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/courseplatform/billing/shared/store/memstore"
	"github.com/courseplatform/billing/shared/webhook/webhooktest"
)

// FuzzSignatureHeader feeds arbitrary Stripe-Signature headers and bodies to
// the handler: it must never panic, and must never accept what was not
// signed with the secret.
func FuzzSignatureHeader(f *testing.F) {
	body := webhooktest.Event{ID: "evt_f", Type: "customer.subscription.created",
		Data: webhooktest.Object(`{"id":"sub_f","object":"subscription","status":"active"}`)}.JSON()
	f.Add(webhooktest.Header(body, webhooktest.Secret, now), body)
	f.Add("t=1764590400,v1=", body)
	f.Add("t=,v1=abc,v0=def", []byte("{}"))
	f.Add("t=99999999999999999999,v1=00", body)
	f.Add(",,,=,t=1,", []byte(""))
	f.Add("t=1764590400,v1="+string(bytes.Repeat([]byte("a"), 64)), []byte(`{"id":"evt","type":"x","data":{"object":null}}`))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		store := memstore.New()
		h := newHandler(t, store, subscriptionRoutes())
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set("Stripe-Signature", header)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		signed := header == webhooktest.Header(body, webhooktest.Secret, now)
		if w.Code == http.StatusOK && !signed {
			t.Fatalf("accepted an unsigned request: header %q", header)
		}
		if !signed && docCount(store) != 0 {
			t.Fatal("an unsigned request wrote documents")
		}
	})
}

// FuzzSignedEvent signs arbitrary bodies correctly: decoding and applying
// whatever is inside must never panic, and must answer 200 or 400 (the
// store works, so nothing is the dependency's fault).
func FuzzSignedEvent(f *testing.F) {
	for _, name := range []string{"subscription.created.json", "subscription.updated.json", "checkout.session.completed.json", "invoice.payment_failed.json"} {
		ev, err := webhooktest.Captured(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(ev.JSON())
	}
	f.Add([]byte(`{"id":"evt_1","type":"customer.subscription.updated","data":{"object":{"object":"subscription","id":"sub_1","items":{"data":[null]}}}}`))
	f.Add([]byte(`{"id":"evt_1","type":"customer.subscription.updated","data":{"object":{"object":"subscription","id":"sub_1","customer":{"id":7}}}}`))
	f.Add([]byte(`{"id":"evt_1","type":"customer.subscription.deleted","data":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		h := newHandler(t, memstore.New(), subscriptionRoutes())
		w := httptest.NewRecorder()
		h.ServeHTTP(w, webhooktest.Request("/", body, webhooktest.Secret, now))
		if w.Code != http.StatusOK && w.Code != http.StatusBadRequest && w.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d for a signed body: %s", w.Code, w.Body.String())
		}
	})
}
