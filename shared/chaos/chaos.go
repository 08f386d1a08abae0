// Package chaos proves the webhook functions right under Stripe's real
// delivery. It drives generated customer histories through the local
// Stripe stand-in (checkouts, renewals, failed and recovered payments,
// cancellations, pauses, deletions), lets the stand-in deliver the events
// with duplicates, in any order and concurrently, and then compares every
// stored document with the stand-in's truth.
package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/stripeapi"
	"github.com/courseplatform/billing/shared/stripelocal"
)

// Config shapes one run.
type Config struct {
	// Customers is how many customer histories are generated.
	Customers int
	// Rounds is how many rounds of actions each history gets after its
	// checkout; the stand-in's clock moves between rounds. Default 4.
	Rounds int
	// Dup is the probability that an event is delivered once more (up to
	// three times in all).
	Dup float64
	// Concurrency is how many deliveries are in flight at once.
	Concurrency int
	// Seed makes the histories and the delivery plans reproducible.
	Seed int64
	// Shuffle delivers each round's events in random order; default true
	// through DefaultConfig.
	Shuffle bool
}

// DefaultConfig is a run small enough for every test run.
func DefaultConfig() Config {
	return Config{Customers: 12, Rounds: 6, Dup: 0.3, Concurrency: 8, Seed: 1, Shuffle: true}
}

// Result is what a run found.
type Result struct {
	Customers  int
	Deliveries int
	// Diverged counts documents that differ from the stand-in's truth.
	Diverged int
	// Lost counts events never acknowledged and objects with no document.
	Lost int
	// Problems describes each divergence and loss, sorted.
	Problems []string
}

// String is the one summary line.
func (r Result) String() string {
	return fmt.Sprintf("customers=%d deliveries=%d diverged=%d lost=%d", r.Customers, r.Deliveries, r.Diverged, r.Lost)
}

// OK reports a run without divergence or loss.
func (r Result) OK() bool { return r.Diverged == 0 && r.Lost == 0 }

// Run generates the histories on s, whose endpoints must already point at
// the deployment under test, delivers every event, and compares what store
// (the deployment's database) holds with s's truth.
func Run(ctx context.Context, s *stripelocal.Stripe, store billing.Store, cfg Config) (Result, error) {
	if cfg.Customers <= 0 {
		return Result{}, errors.New("chaos: no customers")
	}
	if cfg.Rounds <= 0 {
		cfg.Rounds = DefaultConfig().Rounds
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	d := &driver{s: s, api: s.Client(), rng: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5eed)), cfg: cfg}
	res := Result{Customers: cfg.Customers}
	if err := d.catalog(); err != nil {
		return res, err
	}
	for i := 0; i < cfg.Customers; i++ {
		if err := d.checkout(i); err != nil {
			return res, fmt.Errorf("chaos: checkout of customer %d: %w", i, err)
		}
	}
	d.deliver(ctx, &res)
	for round := 0; round < cfg.Rounds; round++ {
		for _, c := range d.customers {
			if err := d.act(c); err != nil {
				return res, fmt.Errorf("chaos: round %d, customer %s: %w", round, c.uid, err)
			}
		}
		s.Advance(time.Duration(1+d.rng.IntN(20)) * 24 * time.Hour)
		d.deliver(ctx, &res)
	}
	// A last quiet delivery: events emitted while receivers worked.
	d.deliver(ctx, &res)
	if err := compare(ctx, s, store, d, &res); err != nil {
		return res, err
	}
	sort.Strings(res.Problems)
	return res, nil
}

type course struct {
	id    string
	price string
	mode  stripe.CheckoutSessionMode
}

type customer struct {
	uid string
	cus string
	// viaMetadata says whether the checkout named the user in metadata
	// (as the checkout function does) or only in client_reference_id.
	viaMetadata bool
}

type driver struct {
	s         *stripelocal.Stripe
	api       *client.API
	rng       *rand.Rand
	cfg       Config
	courses   []course
	customers []*customer
	round     int
}

// catalog creates the courses: two sold by subscription, one one-time.
func (d *driver) catalog() error {
	for _, c := range []struct {
		id       string
		amount   int64
		interval string
	}{{"go-basics", 1900, "month"}, {"rust-deep-dive", 4900, "month"}, {"sql-for-analysts", 9900, ""}} {
		prod, err := d.api.Products.New(&stripe.ProductParams{
			Name:     stripe.String(c.id),
			Metadata: map[string]string{stripeapi.CourseIDKey: c.id},
		})
		if err != nil {
			return fmt.Errorf("chaos: product %s: %w", c.id, err)
		}
		pp := &stripe.PriceParams{
			Product:    stripe.String(prod.ID),
			Currency:   stripe.String("usd"),
			UnitAmount: stripe.Int64(c.amount),
			Metadata:   map[string]string{stripeapi.CourseIDKey: c.id},
		}
		mode := stripe.CheckoutSessionModePayment
		if c.interval != "" {
			pp.Recurring = &stripe.PriceRecurringParams{Interval: stripe.String(c.interval)}
			mode = stripe.CheckoutSessionModeSubscription
		}
		price, err := d.api.Prices.New(pp)
		if err != nil {
			return fmt.Errorf("chaos: price %s: %w", c.id, err)
		}
		d.courses = append(d.courses, course{id: c.id, price: price.ID, mode: mode})
	}
	return nil
}

// checkout creates customer i and runs one checkout for a random course,
// the way the checkout function does (the user's uid on the session and,
// mostly, in metadata), finished with a random outcome.
func (d *driver) checkout(i int) error {
	c := &customer{uid: fmt.Sprintf("user-%04d", i), viaMetadata: d.rng.IntN(4) != 0}
	cus, err := d.api.Customers.New(&stripe.CustomerParams{Email: stripe.String(c.uid + "@example.com")})
	if err != nil {
		return err
	}
	c.cus = cus.ID
	d.customers = append(d.customers, c)
	return d.buy(c, d.courses[d.rng.IntN(len(d.courses))])
}

func (d *driver) buy(c *customer, co course) error {
	p := &stripe.CheckoutSessionParams{
		Mode:              stripe.String(string(co.mode)),
		Customer:          stripe.String(c.cus),
		ClientReferenceID: stripe.String(c.uid),
		SuccessURL:        stripe.String("https://courses.example.com/done"),
		CancelURL:         stripe.String("https://courses.example.com/cancel"),
		LineItems:         []*stripe.CheckoutSessionLineItemParams{{Price: stripe.String(co.price), Quantity: stripe.Int64(1)}},
		Metadata:          map[string]string{stripeapi.CourseIDKey: co.id},
	}
	if c.viaMetadata {
		p.Metadata[stripeapi.UIDKey] = c.uid
	}
	if co.mode == stripe.CheckoutSessionModeSubscription {
		p.SubscriptionData = &stripe.CheckoutSessionSubscriptionDataParams{Metadata: map[string]string{}}
		if c.viaMetadata {
			p.SubscriptionData.Metadata[stripeapi.UIDKey] = c.uid
		}
		if d.rng.IntN(5) == 0 {
			p.SubscriptionData.TrialPeriodDays = stripe.Int64(7)
		}
	}
	cs, err := d.api.CheckoutSessions.New(p)
	if err != nil {
		return err
	}
	switch r := d.rng.IntN(10); {
	case r < 6:
		_, err = d.s.CompleteCheckout(cs.ID, stripelocal.OutcomePaid)
	case r < 7:
		if _, err = d.s.CompleteCheckout(cs.ID, stripelocal.OutcomeAsyncPending); err == nil {
			_, err = d.s.CompleteCheckout(cs.ID, stripelocal.OutcomeAsyncSucceeded)
		}
	case r < 8:
		if _, err = d.s.CompleteCheckout(cs.ID, stripelocal.OutcomeAsyncPending); err == nil {
			_, err = d.s.CompleteCheckout(cs.ID, stripelocal.OutcomeAsyncFailed)
		}
	case r < 9:
		_, err = d.s.ExpireCheckout(cs.ID)
	default:
		_, err = d.s.CompleteCheckout(cs.ID, stripelocal.OutcomeAsyncPending)
	}
	if isRefusal(err) {
		return nil // e.g. settling a trial's checkout, which has nothing to pay
	}
	return err
}

// act does one random thing: a payment method starts failing, an open
// invoice is paid, another course is bought, one of the customer's
// subscriptions is canceled (at period end or now), paused or resumed, the
// customer is deleted, or nothing happens.
func (d *driver) act(c *customer) error {
	var live []*stripe.Subscription
	for _, s := range d.s.Subscriptions() {
		if s.Customer != nil && s.Customer.ID == c.cus && s.Status != stripe.SubscriptionStatusCanceled && s.Status != stripe.SubscriptionStatusIncompleteExpired {
			live = append(live, s)
		}
	}
	var sub *stripe.Subscription
	if len(live) > 0 {
		sub = live[d.rng.IntN(len(live))]
	}
	var err error
	switch r := d.rng.IntN(100); {
	case r < 10:
		err = d.s.SetPaymentFails(c.cus, true)
	case r < 25:
		err = d.recover(c)
	case r < 33:
		err = d.buy(c, d.courses[d.rng.IntN(len(d.courses))])
	case sub == nil:
	case r < 40:
		_, err = d.s.CancelAtPeriodEnd(sub.ID)
	case r < 44:
		_, err = d.s.CancelNow(sub.ID)
	case r < 50:
		_, err = d.s.Pause(sub.ID)
	case r < 58:
		_, err = d.s.Resume(sub.ID)
	case r == 99:
		err = d.s.DeleteCustomer(c.cus)
	}
	if err != nil && !isRefusal(err) {
		return err
	}
	return nil
}

// recover pays the customer's oldest open invoice, if any.
func (d *driver) recover(c *customer) error {
	for _, in := range d.s.Invoices() {
		if in.Customer != nil && in.Customer.ID == c.cus && in.Status == stripe.InvoiceStatusOpen {
			if err := d.s.SetPaymentFails(c.cus, false); err != nil {
				return err
			}
			_, err := d.s.Recover(in.ID)
			return err
		}
	}
	return nil
}

// isRefusal reports an action Stripe refuses in the object's state
// (pausing a canceled subscription, buying as a deleted customer): part
// of a random history, not a failure of the run.
func isRefusal(err error) bool {
	var se *stripe.Error
	return errors.As(err, &se) && se.HTTPStatusCode >= 400 && se.HTTPStatusCode < 500
}

func (d *driver) deliver(ctx context.Context, res *Result) {
	d.round++
	rep := d.s.Deliver(ctx, stripelocal.DeliveryOptions{
		Duplicates:  d.cfg.Dup,
		Shuffle:     d.cfg.Shuffle,
		Concurrency: d.cfg.Concurrency,
		Seed:        d.cfg.Seed*1000 + int64(d.round),
		MaxAttempts: 8,
		RetryDelay:  50 * time.Millisecond,
	})
	res.Deliveries += len(rep.Attempts)
	for _, f := range rep.Failures {
		res.Lost++
		res.Problems = append(res.Problems, fmt.Sprintf("lost: %s %s to %s: status %d %s %s", f.EventType, f.EventID, f.Endpoint, f.Status, strings.TrimSpace(f.Body), f.Err))
	}
}
