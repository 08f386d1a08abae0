package webhook_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	stripewebhook "github.com/stripe/stripe-go/v76/webhook"

	"github.com/courseplatform/billing/shared/store/memstore"
	"github.com/courseplatform/billing/shared/webhook"
	"github.com/courseplatform/billing/shared/webhook/webhooktest"
)

// The cost of the webhook contract around Stripe's own signature check, on
// a captured subscription payload (about 5 KB): the bare check
// (stripe-go's webhook.ConstructEventWithOptions), a redelivery answered
// from the marker, and a first delivery applied to the in-memory store.
// Compare ns/op and allocs/op within one run:
//
//	go test -run '^$' -bench Webhook -benchmem ./shared/webhook
func BenchmarkWebhook(b *testing.B) {
	ev, err := webhooktest.Captured("subscription.updated.json")
	if err != nil {
		b.Fatal(err)
	}
	body := ev.JSON()
	signedAt := time.Now()
	header := webhooktest.Header(body, webhooktest.Secret, signedAt)

	b.Run("bare_signature_check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := stripewebhook.ConstructEventWithOptions(body, header, webhooktest.Secret,
				stripewebhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true}); err != nil {
				b.Fatal(err)
			}
		}
	})

	handler := func(b *testing.B) *webhook.Handler {
		h, err := webhook.NewHandler(webhook.Config{
			Function: "bench", Secrets: []string{webhooktest.Secret}, Routes: subscriptionRoutes(),
			Store: memstore.New(), Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		})
		if err != nil {
			b.Fatal(err)
		}
		return h
	}
	b.Run("handler_redelivery", func(b *testing.B) {
		h := handler(b)
		h.ServeHTTP(httptest.NewRecorder(), webhooktest.Request("/", body, webhooktest.Secret, signedAt))
		b.ReportAllocs()
		for b.Loop() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, webhooktest.Request("/", body, webhooktest.Secret, signedAt))
			if w.Code != 200 {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
	b.Run("handler_first_delivery", func(b *testing.B) {
		h := handler(b)
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			i++
			e := ev
			e.ID = fmt.Sprintf("evt_bench_%d", i)
			e.Created = 1700000000 + int64(i)
			raw := e.JSON()
			w := httptest.NewRecorder()
			h.ServeHTTP(w, webhooktest.Request("/", raw, webhooktest.Secret, signedAt))
			if w.Code != 200 {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
}
