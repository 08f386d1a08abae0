package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/courseplatform/billing/shared/stripeapi"
)

// triggers are the events `billing trigger` can cause, each by the real
// flow that makes Stripe emit it.
var triggers = map[string]func(t *trigger) error{
	"checkout.session.completed":    func(t *trigger) error { _, err := t.checkout(false); return err },
	"checkout.session.expired":      func(t *trigger) error { return t.expire() },
	"customer.subscription.created": func(t *trigger) error { _, err := t.checkout(true); return err },
	"invoice.paid":                  func(t *trigger) error { _, err := t.checkout(true); return err },
	"invoice.payment_succeeded":     func(t *trigger) error { _, err := t.checkout(true); return err },
	"customer.subscription.updated": func(t *trigger) error { return t.subscriptionThen("cancel_at_period_end") },
	"customer.subscription.deleted": func(t *trigger) error { return t.subscriptionThen("cancel") },
	"customer.subscription.paused":  func(t *trigger) error { return t.subscriptionThen("pause") },
	"invoice.payment_failed":        func(t *trigger) error { return t.failRenewal() },
}

type trigger struct {
	ctx       context.Context
	api       *client.API
	stripeURL string
	uid       string
	out       io.Writer
}

func runTrigger(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("trigger", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stripeURL := fs.String("stripe", envOr("STRIPE_API_BASE", "http://127.0.0.1:12112"), "the local Stripe stand-in (its webhooks go to the endpoints it was started with)")
	uid := fs.String("uid", "trigger-user", "platform user the objects name (client_reference_id, metadata.uid)")
	fs.Usage = func() {
		names := make([]string, 0, len(triggers))
		for n := range triggers {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(fs.Output(), `Usage: billing trigger [flags] EVENT

The offline twin of "stripe trigger": performs, on the local Stripe stand-in,
the real flow that makes Stripe emit EVENT (checkout.session.completed:
customer, product and price, Checkout Session, payment), so the signed
events reach the dev server as they would from Stripe.

Events: %s

Flags:
`, strings.Join(names, ", "))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	do, ok := triggers[fs.Arg(0)]
	if !ok {
		fmt.Fprintf(stderr, "billing trigger: no flow for %q (billing trigger -h lists them)\n", fs.Arg(0))
		return 2
	}
	api, err := stripeapi.NewClient(stripeapi.ClientConfig{Key: "sk_test_local_trigger", BaseURL: *stripeURL})
	if err != nil {
		fmt.Fprintln(stderr, "billing trigger:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t := &trigger{ctx: ctx, api: api, stripeURL: strings.TrimRight(*stripeURL, "/"), uid: *uid, out: stdout}
	if err := do(t); err != nil {
		fmt.Fprintln(stderr, "billing trigger:", stripeapi.Redact(err.Error()))
		return 1
	}
	fmt.Fprintf(stdout, "triggered %s; the stand-in delivers the events to its endpoints\n", fs.Arg(0))
	return 0
}

// session makes a customer, a product and price, and an open Checkout
// Session for them.
func (t *trigger) session(recurring bool) (*stripe.CheckoutSession, error) {
	cp := &stripe.CustomerParams{Email: stripe.String(t.uid + "@example.com")}
	cp.AddMetadata("uid", t.uid)
	cus, err := t.api.Customers.New(cp)
	if err != nil {
		return nil, err
	}
	prod, err := t.api.Products.New(&stripe.ProductParams{Name: stripe.String("Triggered course")})
	if err != nil {
		return nil, err
	}
	pp := &stripe.PriceParams{Product: stripe.String(prod.ID), UnitAmount: stripe.Int64(2000), Currency: stripe.String("usd")}
	mode := stripe.CheckoutSessionModePayment
	if recurring {
		pp.Recurring = &stripe.PriceRecurringParams{Interval: stripe.String("month")}
		mode = stripe.CheckoutSessionModeSubscription
	}
	price, err := t.api.Prices.New(pp)
	if err != nil {
		return nil, err
	}
	sp := &stripe.CheckoutSessionParams{
		Mode: stripe.String(string(mode)), Customer: stripe.String(cus.ID), ClientReferenceID: stripe.String(t.uid),
		LineItems:  []*stripe.CheckoutSessionLineItemParams{{Price: stripe.String(price.ID), Quantity: stripe.Int64(1)}},
		SuccessURL: stripe.String("http://localhost:5173/billing/success"), CancelURL: stripe.String("http://localhost:5173/billing/canceled"),
	}
	sp.AddMetadata("uid", t.uid)
	if recurring {
		sp.SubscriptionData = &stripe.CheckoutSessionSubscriptionDataParams{Metadata: map[string]string{"uid": t.uid}}
	}
	cs, err := t.api.CheckoutSessions.New(sp)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(t.out, "customer %s, product %s, price %s, session %s\n", cus.ID, prod.ID, price.ID, cs.ID)
	return cs, nil
}

// checkout runs a session to completion and returns its subscription id.
func (t *trigger) checkout(recurring bool) (string, error) {
	cs, err := t.session(recurring)
	if err != nil {
		return "", err
	}
	var done struct {
		Subscription any `json:"subscription"`
	}
	if err := t.control("/_local/checkout/sessions/"+cs.ID+"/complete", map[string]any{"outcome": "paid"}, &done); err != nil {
		return "", err
	}
	switch s := done.Subscription.(type) {
	case string:
		return s, nil
	case map[string]any:
		id, _ := s["id"].(string)
		return id, nil
	}
	return "", nil
}

func (t *trigger) expire() error {
	cs, err := t.session(false)
	if err != nil {
		return err
	}
	return t.control("/_local/checkout/sessions/"+cs.ID+"/expire", map[string]any{}, nil)
}

func (t *trigger) subscriptionThen(action string) error {
	sub, err := t.checkout(true)
	if err != nil {
		return err
	}
	return t.control("/_local/subscriptions/"+sub+"/"+action, map[string]any{}, nil)
}

func (t *trigger) failRenewal() error {
	sub, err := t.checkout(true)
	if err != nil {
		return err
	}
	s, err := t.api.Subscriptions.Get(sub, nil)
	if err != nil {
		return err
	}
	if err := t.control("/_local/customers/"+s.Customer.ID+"/payment_fails", map[string]any{"fails": true}, nil); err != nil {
		return err
	}
	return t.control("/_local/clock/advance", map[string]any{"duration": "745h"}, nil)
}

func (t *trigger) control(path string, body, out any) error {
	status, code, err := postJSON(t.ctx, t.stripeURL+path, "", body, out)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("stand-in %s: %s (%d)", path, code, status)
	}
	return nil
}
