package stripeapi

import (
	"context"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/courseplatform/billing/shared/billing"
)

// Source yields the view of the object an event is about, and when that
// view was true.
type Source interface {
	Subscription(ctx context.Context, ev *stripe.Event) (billing.Subscription, time.Time, error)
	Invoice(ctx context.Context, ev *stripe.Event) (billing.Invoice, time.Time, error)
	CheckoutSession(ctx context.Context, ev *stripe.Event) (billing.CheckoutSession, time.Time, error)
	Customer(ctx context.Context, ev *stripe.Event) (billing.CustomerView, time.Time, error)
	Product(ctx context.Context, ev *stripe.Event) (billing.ProductView, time.Time, error)
	Price(ctx context.Context, ev *stripe.Event) (billing.PriceView, time.Time, error)
}

// Payload is the Source that trusts the event's payload: the object as it
// was when the event was created. It needs no Stripe API.
type Payload struct{}

var _ Source = Payload{}

func created(ev *stripe.Event) time.Time { return time.Unix(ev.Created, 0).UTC() }

// Subscription implements Source.
func (Payload) Subscription(_ context.Context, ev *stripe.Event) (billing.Subscription, time.Time, error) {
	s, err := DecodeSubscription(ev.Data.Raw)
	return s, created(ev), err
}

// Invoice implements Source.
func (Payload) Invoice(_ context.Context, ev *stripe.Event) (billing.Invoice, time.Time, error) {
	in, err := DecodeInvoice(ev.Data.Raw)
	return in, created(ev), err
}

// CheckoutSession implements Source.
func (Payload) CheckoutSession(_ context.Context, ev *stripe.Event) (billing.CheckoutSession, time.Time, error) {
	cs, err := DecodeCheckoutSession(ev.Data.Raw)
	return cs, created(ev), err
}

// Customer implements Source.
func (Payload) Customer(_ context.Context, ev *stripe.Event) (billing.CustomerView, time.Time, error) {
	c, err := DecodeCustomer(ev.Data.Raw)
	if err == nil && ev.Type == "customer.deleted" {
		c.Deleted = true
	}
	return c, created(ev), err
}

// Product implements Source.
func (Payload) Product(_ context.Context, ev *stripe.Event) (billing.ProductView, time.Time, error) {
	p, err := DecodeProduct(ev.Data.Raw)
	if err == nil && ev.Type == "product.deleted" {
		p.Deleted = true
	}
	return p, created(ev), err
}

// Price implements Source.
func (Payload) Price(_ context.Context, ev *stripe.Event) (billing.PriceView, time.Time, error) {
	p, err := DecodePrice(ev.Data.Raw)
	if err == nil && ev.Type == "price.deleted" {
		p.Deleted = true
	}
	return p, created(ev), err
}
