package stripelocal

import (
	"bytes"
	"io"
	"net/http"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
)

// Truth accessors: the account as it is now, at APIVersion and unexpanded,
// decoded into stripe-go's types so that the project's converters
// (shared/stripeapi) apply to them as to webhook payloads. Each returns
// objects in creation order.

func mustDecode[T any](m obj) *T {
	v, err := decodeAs[T](m)
	if err != nil {
		panic(err) // a render that stripe-go cannot read is a bug in the stand-in
	}
	return v
}

func snapshot[R any, T any](s *Stripe, t *table[R], render func(*R) obj) []*T {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := t.all()
	out := make([]*T, 0, len(all))
	for _, r := range all {
		out = append(out, mustDecode[T](render(r)))
	}
	return out
}

// Subscriptions returns every subscription, canceled ones included.
func (s *Stripe) Subscriptions() []*stripe.Subscription {
	return snapshot[subscription, stripe.Subscription](s, &s.subs, s.renderSubscription)
}

// Invoices returns every invoice, drafts included.
func (s *Stripe) Invoices() []*stripe.Invoice {
	return snapshot[invoice, stripe.Invoice](s, &s.invoices, s.renderInvoice)
}

// CheckoutSessions returns every Checkout session.
func (s *Stripe) CheckoutSessions() []*stripe.CheckoutSession {
	return snapshot[session, stripe.CheckoutSession](s, &s.sessions, s.renderSession)
}

// Customers returns every customer; deleted ones keep their last fields and
// have Deleted set.
func (s *Stripe) Customers() []*stripe.Customer {
	return snapshot[customer, stripe.Customer](s, &s.customers, func(c *customer) obj {
		m := s.renderCustomer(c)
		if c.deleted {
			m["deleted"] = true
		}
		return m
	})
}

// Products returns every product.
func (s *Stripe) Products() []*stripe.Product {
	return snapshot[product, stripe.Product](s, &s.products, s.renderProduct)
}

// Prices returns every price.
func (s *Stripe) Prices() []*stripe.Price {
	return snapshot[price, stripe.Price](s, &s.prices, s.renderPrice)
}

// Backend returns a stripe-go backend that calls the stand-in in process,
// with no network and no retries.
func (s *Stripe) Backend() stripe.Backend {
	return stripe.GetBackendWithConfig(stripe.APIBackend, &stripe.BackendConfig{
		URL:               stripe.String("http://stripelocal.invalid"),
		HTTPClient:        &http.Client{Transport: inProcess{s}},
		MaxNetworkRetries: stripe.Int64(0),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
		EnableTelemetry:   stripe.Bool(false),
	})
}

// Client returns a stripe-go v76 client on Backend, with a test (or, with
// Options.Livemode, live) secret key the stand-in accepts.
func (s *Stripe) Client() *client.API {
	b := s.Backend()
	// Only the mode part of a key means anything to the stand-in.
	key := "sk_" + modeTag(s.opts.Livemode) + "stripelocal_fake"
	return client.New(key, &stripe.Backends{API: b, Connect: b, Uploads: b})
}

// inProcess serves a client's requests with the stand-in's handler.
type inProcess struct{ s *Stripe }

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	srv := req.Clone(req.Context())
	srv.RequestURI = req.URL.RequestURI()
	srv.RemoteAddr = "" // in process: not a Host to learn BaseURL from
	if srv.Body == nil {
		srv.Body = http.NoBody
	}
	rec := &recorder{header: http.Header{}}
	t.s.ServeHTTP(rec, srv)
	if req.Body != nil {
		_ = req.Body.Close()
	}
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return &http.Response{
		Status: http.StatusText(rec.status), StatusCode: rec.status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: rec.header, Body: io.NopCloser(bytes.NewReader(rec.body.Bytes())),
		ContentLength: int64(rec.body.Len()), Request: req,
	}, nil
}

type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
