package stripeapi_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/courseplatform/billing/shared/stripeapi"
)

// TestPayloadSource: the payload view is true as of the event's creation,
// in UTC, and a payload of the wrong kind is ErrUnprocessable.
func TestPayloadSource(t *testing.T) {
	ctx := context.Background()
	event := func(raw []byte) *stripe.Event {
		return &stripe.Event{ID: "evt_1", Created: 1700000000, Data: &stripe.EventData{Raw: raw}}
	}
	wantAsOf := time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)
	src := stripeapi.Payload{}

	t.Run("subscription payload decodes as of the event's creation", func(t *testing.T) {
		s, asOf, err := src.Subscription(ctx, event(loadPayload(t, capturedDir, "subscription.created.json")))
		if err != nil || s.ID != "sub_00000000000000" {
			t.Fatalf("got %q, %v", s.ID, err)
		}
		checkInstant(t, "asOf", &asOf, &wantAsOf)
	})
	t.Run("invoice payload decodes as of the event's creation", func(t *testing.T) {
		in, asOf, err := src.Invoice(ctx, event(loadPayload(t, capturedDir, "invoice.payment_failed.json")))
		if err != nil || in.ID != "in_1234" {
			t.Fatalf("got %q, %v", in.ID, err)
		}
		checkInstant(t, "asOf", &asOf, &wantAsOf)
	})
	t.Run("checkout session payload decodes as of the event's creation", func(t *testing.T) {
		cs, asOf, err := src.CheckoutSession(ctx, event(loadPayload(t, capturedDir, "checkout.session.completed.json")))
		if err != nil || cs.Purchase.ID == "" {
			t.Fatalf("got %q, %v", cs.Purchase.ID, err)
		}
		checkInstant(t, "asOf", &asOf, &wantAsOf)
	})
	t.Run("invoice_payment under an invoice event is ErrUnprocessable", func(t *testing.T) {
		_, _, err := src.Invoice(ctx, event(loadPayload(t, capturedDir, "invoice.updated.json")))
		if !errors.Is(err, stripeapi.ErrUnprocessable) {
			t.Fatalf("error %v, want ErrUnprocessable", err)
		}
	})
}
