package stripeapi

import (
	"context"
	"fmt"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/courseplatform/billing/shared/billing"
)

// Refetch is the Source that reads each object back from the Stripe API, so
// that what is stored is the object's current truth whatever the order,
// age or API version of the event that prompted it. The view is as of the
// moment the read started.
//
// An object Stripe no longer has (404) is taken from the payload, as of the
// event's creation: it is the last word about it.
type Refetch struct {
	API *client.API
	// Now is the clock that dates each read; time.Now when nil.
	Now func() time.Time
}

var _ Source = Refetch{}

func (r Refetch) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

// refetch reads one object with get and decodes the raw answer with
// decodeRaw, so that fields of newer API versions are understood too.
func refetch[T any](
	ctx context.Context, r Refetch, ev *stripe.Event, kind string,
	get func(id string, params stripe.Params) (*stripe.APIResponse, error),
	decodeRaw func([]byte) (T, error),
	fromPayload func(context.Context, *stripe.Event) (T, time.Time, error),
) (T, time.Time, error) {
	var zero T
	id, err := objectID(ev.Data.Raw, kind)
	if err != nil {
		return zero, time.Time{}, err
	}
	asOf := r.now()
	res, err := get(id, stripe.Params{Context: ctx})
	if IsNotFound(err) {
		return fromPayload(ctx, ev)
	}
	if err != nil {
		return zero, time.Time{}, fmt.Errorf("stripe: get %s %s: %w", kind, id, apiError{err})
	}
	if res == nil {
		return zero, time.Time{}, fmt.Errorf("stripe: get %s %s: empty answer", kind, id)
	}
	obj, err := decodeRaw(res.RawJSON)
	if err != nil {
		// Stripe answered with something we cannot read: not the
		// event's fault, and maybe not forever (a deploy may fix it).
		return zero, time.Time{}, fmt.Errorf("stripe: get %s %s: %v", kind, id, err)
	}
	return obj, asOf, nil
}

// Subscription implements Source.
func (r Refetch) Subscription(ctx context.Context, ev *stripe.Event) (billing.Subscription, time.Time, error) {
	return refetch(ctx, r, ev, "subscription", func(id string, p stripe.Params) (*stripe.APIResponse, error) {
		params := &stripe.SubscriptionParams{Params: p}
		params.AddExpand("items.data.price.product")
		s, err := r.API.Subscriptions.Get(id, params)
		if err != nil {
			return nil, err
		}
		return s.LastResponse, nil
	}, DecodeSubscription, Payload{}.Subscription)
}

// Invoice implements Source.
func (r Refetch) Invoice(ctx context.Context, ev *stripe.Event) (billing.Invoice, time.Time, error) {
	return refetch(ctx, r, ev, "invoice", func(id string, p stripe.Params) (*stripe.APIResponse, error) {
		in, err := r.API.Invoices.Get(id, &stripe.InvoiceParams{Params: p})
		if err != nil {
			return nil, err
		}
		return in.LastResponse, nil
	}, DecodeInvoice, Payload{}.Invoice)
}

// CheckoutSession implements Source.
func (r Refetch) CheckoutSession(ctx context.Context, ev *stripe.Event) (billing.CheckoutSession, time.Time, error) {
	return refetch(ctx, r, ev, "checkout.session", func(id string, p stripe.Params) (*stripe.APIResponse, error) {
		params := &stripe.CheckoutSessionParams{Params: p}
		params.AddExpand("customer")
		s, err := r.API.CheckoutSessions.Get(id, params)
		if err != nil {
			return nil, err
		}
		return s.LastResponse, nil
	}, DecodeCheckoutSession, Payload{}.CheckoutSession)
}

// Customer implements Source. Stripe answers a deleted customer with a
// stub marked deleted, which is what is stored.
func (r Refetch) Customer(ctx context.Context, ev *stripe.Event) (billing.CustomerView, time.Time, error) {
	return refetch(ctx, r, ev, "customer", func(id string, p stripe.Params) (*stripe.APIResponse, error) {
		c, err := r.API.Customers.Get(id, &stripe.CustomerParams{Params: p})
		if err != nil {
			return nil, err
		}
		return c.LastResponse, nil
	}, DecodeCustomer, Payload{}.Customer)
}

// Product implements Source, with the default price expanded so that the
// course can move to it. A deleted product (404, or a stub marked deleted,
// which names no course) is taken from the payload.
func (r Refetch) Product(ctx context.Context, ev *stripe.Event) (billing.ProductView, time.Time, error) {
	p, asOf, err := refetch(ctx, r, ev, "product", func(id string, prm stripe.Params) (*stripe.APIResponse, error) {
		params := &stripe.ProductParams{Params: prm}
		params.AddExpand("default_price")
		p, err := r.API.Products.Get(id, params)
		if err != nil {
			return nil, err
		}
		return p.LastResponse, nil
	}, DecodeProduct, Payload{}.Product)
	if err == nil && p.Deleted && p.CourseID == "" {
		gone, at, perr := Payload{}.Product(ctx, ev)
		gone.Deleted = true
		return gone, at, perr
	}
	return p, asOf, err
}

// Price implements Source, with the product expanded so that a price
// without course metadata is still placed by its product's.
func (r Refetch) Price(ctx context.Context, ev *stripe.Event) (billing.PriceView, time.Time, error) {
	p, asOf, err := refetch(ctx, r, ev, "price", func(id string, prm stripe.Params) (*stripe.APIResponse, error) {
		params := &stripe.PriceParams{Params: prm}
		params.AddExpand("product")
		p, err := r.API.Prices.Get(id, params)
		if err != nil {
			return nil, err
		}
		return p.LastResponse, nil
	}, DecodePrice, Payload{}.Price)
	if err == nil && p.Deleted && p.CourseID == "" {
		gone, at, perr := Payload{}.Price(ctx, ev)
		gone.Deleted = true
		return gone, at, perr
	}
	return p, asOf, err
}
