package stripelocal

import (
	"net/http/httptest"
	"testing"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
)

// newServerClient serves s over HTTP and returns a stripe-go v76 client
// pointed at it, the way the webhook functions will be configured.
func newServerClient(t *testing.T, s *Stripe) *client.API {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return clientAt(srv.URL)
}

// clientAt returns a stripe-go v76 client whose API backend is at url.
func clientAt(url string) *client.API {
	b := stripe.GetBackendWithConfig(stripe.APIBackend, &stripe.BackendConfig{
		URL:               stripe.String(url),
		MaxNetworkRetries: stripe.Int64(0),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
	})
	return client.New("sk_test_fake", &stripe.Backends{API: b, Connect: b, Uploads: b})
}

// catalog creates a product and a price through the API.
func catalog(t *testing.T, sc *client.API, amount int64, interval string) *stripe.Price {
	t.Helper()
	prod, err := sc.Products.New(&stripe.ProductParams{Name: stripe.String("Go in depth"),
		Params: stripe.Params{Metadata: map[string]string{"courseId": "go-depth"}}})
	if err != nil {
		t.Fatalf("create product: %v", err)
	}
	pp := &stripe.PriceParams{Product: stripe.String(prod.ID), Currency: stripe.String("eur"), UnitAmount: stripe.Int64(amount)}
	if interval != "" {
		pp.Recurring = &stripe.PriceRecurringParams{Interval: stripe.String(interval)}
	}
	pr, err := sc.Prices.New(pp)
	if err != nil {
		t.Fatalf("create price: %v", err)
	}
	return pr
}

func TestStripeGoClientFlow(t *testing.T) {
	tests := []struct {
		name string
		// client returns the stripe-go client under test.
		client func(t *testing.T, s *Stripe) *client.API
	}{
		{"over HTTP with the backend URL pointed at the stand-in", newServerClient},
		{"in process through Client()", func(_ *testing.T, s *Stripe) *client.API { return s.Client() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{Seed: 42})
			sc := tt.client(t, s)

			pr := catalog(t, sc, 1900, "month")
			if pr.Product == nil || pr.Product.ID == "" || pr.Recurring == nil || pr.Recurring.Interval != "month" || pr.UnitAmount != 1900 {
				t.Fatalf("price decoded as %+v", pr)
			}
			cus, err := sc.Customers.New(&stripe.CustomerParams{Email: stripe.String("ada@example.com"), Name: stripe.String("Ada")})
			if err != nil {
				t.Fatalf("create customer: %v", err)
			}
			cp := &stripe.CheckoutSessionParams{
				Mode:              stripe.String(string(stripe.CheckoutSessionModeSubscription)),
				Customer:          stripe.String(cus.ID),
				ClientReferenceID: stripe.String("uid-ada"),
				SuccessURL:        stripe.String("https://courses.example/done?session={CHECKOUT_SESSION_ID}"),
				CancelURL:         stripe.String("https://courses.example/cancel"),
				LineItems:         []*stripe.CheckoutSessionLineItemParams{{Price: stripe.String(pr.ID), Quantity: stripe.Int64(1)}},
				SubscriptionData: &stripe.CheckoutSessionSubscriptionDataParams{
					Metadata: map[string]string{"uid": "uid-ada", "courseId": "go-depth"},
				},
			}
			cp.AddMetadata("uid", "uid-ada")
			cs, err := sc.CheckoutSessions.New(cp)
			if err != nil {
				t.Fatalf("create checkout session: %v", err)
			}
			if cs.Status != stripe.CheckoutSessionStatusOpen || cs.URL == "" || cs.AmountTotal != 1900 || cs.Customer.ID != cus.ID {
				t.Fatalf("new session: status %q url %q total %d customer %v", cs.Status, cs.URL, cs.AmountTotal, cs.Customer)
			}

			if _, err := s.CompleteCheckout(cs.ID, OutcomePaid); err != nil {
				t.Fatalf("complete: %v", err)
			}

			gp := &stripe.CheckoutSessionParams{}
			gp.AddExpand("line_items")
			got, err := sc.CheckoutSessions.Get(cs.ID, gp)
			if err != nil {
				t.Fatalf("get session: %v", err)
			}
			if got.Status != stripe.CheckoutSessionStatusComplete || got.PaymentStatus != stripe.CheckoutSessionPaymentStatusPaid {
				t.Errorf("session after payment: %s/%s", got.Status, got.PaymentStatus)
			}
			if got.Subscription == nil || got.Invoice == nil || got.LineItems == nil || len(got.LineItems.Data) != 1 ||
				got.LineItems.Data[0].Price.ID != pr.ID || got.CustomerDetails == nil || got.CustomerDetails.Email != "ada@example.com" {
				t.Fatalf("session after payment lacks subscription, invoice, line items or customer details: %+v", got)
			}

			sp := &stripe.SubscriptionParams{}
			sp.AddExpand("items.data.price.product")
			sp.AddExpand("latest_invoice")
			sp.AddExpand("customer")
			sub, err := sc.Subscriptions.Get(got.Subscription.ID, sp)
			if err != nil {
				t.Fatalf("get subscription: %v", err)
			}
			switch {
			case sub.Status != stripe.SubscriptionStatusActive:
				t.Errorf("subscription status %q, want active", sub.Status)
			case sub.Customer.ID != cus.ID || sub.Customer.Email != "ada@example.com":
				t.Errorf("subscription customer %+v, want %s expanded", sub.Customer, cus.ID)
			case sub.LatestInvoice.ID != got.Invoice.ID || sub.LatestInvoice.Status != stripe.InvoiceStatusPaid:
				t.Errorf("latest invoice %s %s, want %s paid", sub.LatestInvoice.ID, sub.LatestInvoice.Status, got.Invoice.ID)
			case len(sub.Items.Data) != 1 || sub.Items.Data[0].Price.ID != pr.ID || sub.Items.Data[0].Price.Product.Metadata["courseId"] != "go-depth":
				t.Errorf("items %+v, want the price with its product expanded", sub.Items.Data)
			case sub.Metadata["uid"] != "uid-ada" || sub.CurrentPeriodEnd <= sub.CurrentPeriodStart:
				t.Errorf("metadata %v period %d..%d", sub.Metadata, sub.CurrentPeriodStart, sub.CurrentPeriodEnd)
			}

			in, err := sc.Invoices.Get(got.Invoice.ID, nil)
			if err != nil {
				t.Fatalf("get invoice: %v", err)
			}
			if !in.Paid || in.AmountPaid != 1900 || in.Subscription.ID != sub.ID || in.Customer.ID != cus.ID ||
				in.BillingReason != stripe.InvoiceBillingReasonSubscriptionCreate || in.Lines == nil || len(in.Lines.Data) != 1 {
				t.Errorf("invoice %s: paid %v amount %d subscription %v customer %v reason %s", in.ID, in.Paid, in.AmountPaid,
					in.Subscription, in.Customer, in.BillingReason)
			}

			// Lists: the stripe-go iterators page through the stand-in.
			var listed []string
			it := sc.Invoices.List(&stripe.InvoiceListParams{Subscription: stripe.String(sub.ID)})
			for it.Next() {
				listed = append(listed, it.Invoice().ID)
			}
			if err := it.Err(); err != nil || len(listed) != 1 || listed[0] != in.ID {
				t.Errorf("invoices of %s: %v (err %v)", sub.ID, listed, err)
			}
			sit := sc.Subscriptions.List(&stripe.SubscriptionListParams{Customer: stripe.String(cus.ID)})
			if !sit.Next() || sit.Subscription().ID != sub.ID || sit.Next() {
				t.Errorf("subscriptions of %s: want exactly %s (err %v)", cus.ID, sub.ID, sit.Err())
			}

			// The truth accessors agree with the API.
			truth := s.Subscriptions()
			if len(truth) != 1 || truth[0].ID != sub.ID || truth[0].Status != sub.Status || truth[0].Customer.ID != cus.ID {
				t.Errorf("Subscriptions() = %+v", truth)
			}
			if ins := s.Invoices(); len(ins) != 1 || ins[0].ID != in.ID {
				t.Errorf("Invoices() = %v", ins)
			}
			if css := s.CheckoutSessions(); len(css) != 1 || css[0].Subscription.ID != sub.ID {
				t.Errorf("CheckoutSessions() = %v", css)
			}

			ps, err := sc.BillingPortalSessions.New(&stripe.BillingPortalSessionParams{Customer: stripe.String(cus.ID),
				ReturnURL: stripe.String("https://courses.example/account")})
			if err != nil || ps.URL == "" || ps.Customer != cus.ID {
				t.Errorf("portal session %+v, err %v", ps, err)
			}
		})
	}
}
