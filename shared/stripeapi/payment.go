package stripeapi

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/courseplatform/billing/shared/billing"
)

// Payment is the view of a payment's money a charge or dispute event
// carries. It always comes from the payload: a charge's refunded amount
// only grows and a dispute only moves towards closed, so the store keeps
// the furthest view whatever order the events arrive in, and no read back
// from Stripe is needed to be right.
func Payment(_ context.Context, ev *stripe.Event) (billing.PaymentView, time.Time, error) {
	if strings.HasPrefix(string(ev.Type), "charge.dispute.") {
		v, err := DecodeDispute(ev.Data.Raw)
		return v, created(ev), err
	}
	v, err := DecodeCharge(ev.Data.Raw)
	return v, created(ev), err
}

// DecodeCharge converts a raw charge: its payment intent and refunds.
// Only those fields are read, so that the charge's other members, whose
// shapes changed across API versions (refunds, source), cannot fail it.
func DecodeCharge(raw []byte) (billing.PaymentView, error) {
	var c struct {
		ID             string          `json:"id"`
		Amount         int64           `json:"amount"`
		AmountRefunded int64           `json:"amount_refunded"`
		Refunded       bool            `json:"refunded"`
		PaymentIntent  json.RawMessage `json:"payment_intent"`
	}
	// Some captured charges lack "object"; the event type names the kind,
	// so only another kind is refused.
	var h header
	if err := json.Unmarshal(raw, &h); err != nil {
		return billing.PaymentView{}, unprocessable("charge: %v", err)
	}
	if h.Object != "" && h.Object != "charge" {
		return billing.PaymentView{}, unprocessable("object is %q, not charge", h.Object)
	}
	if err := json.Unmarshal(raw, &c); err != nil || c.ID == "" {
		return billing.PaymentView{}, unprocessable("charge without id or of another shape: %v", err)
	}
	return billing.PaymentView{
		Charge: c.ID, PaymentIntent: expandableID(c.PaymentIntent),
		Amount: c.Amount, AmountRefunded: c.AmountRefunded, Refunded: c.Refunded,
	}, nil
}

// DecodeDispute converts a raw dispute: its charge, payment intent and
// status.
func DecodeDispute(raw []byte) (billing.PaymentView, error) {
	var d struct {
		ID            string          `json:"id"`
		Amount        int64           `json:"amount"`
		Status        string          `json:"status"`
		Charge        json.RawMessage `json:"charge"`
		PaymentIntent json.RawMessage `json:"payment_intent"`
	}
	if err := decode(raw, "dispute", &d, nil); err != nil {
		return billing.PaymentView{}, err
	}
	if d.Status == "" {
		return billing.PaymentView{}, unprocessable("dispute %s without status", d.ID)
	}
	return billing.PaymentView{
		Dispute: d.ID, DisputeStatus: d.Status, Amount: d.Amount,
		Charge: expandableID(d.Charge), PaymentIntent: expandableID(d.PaymentIntent),
	}, nil
}

// expandableID reads a member that is an id, an expanded object with an
// id, or null.
func expandableID(raw json.RawMessage) string {
	var id string
	if json.Unmarshal(raw, &id) == nil {
		return id
	}
	var obj struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.ID
	}
	return ""
}
