package chaos

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"time"

	"github.com/courseplatform/billing/functions/webhooks"
	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/stripeapi"
	"github.com/courseplatform/billing/shared/stripelocal"
	"github.com/courseplatform/billing/shared/webhook"
)

// LocalConfig shapes a deployment hosted in this process.
type LocalConfig struct {
	// Secret signs the events; one for all three endpoints.
	Secret string
	// APIVersion is the version the stand-in renders events at ("" is
	// the client's, 2023-10-16).
	APIVersion string
	// Logger receives the handlers' logs; discarded when nil.
	Logger *slog.Logger
}

// Local is the deployment under test hosted in this process: the real
// webhook handlers of every function, each behind its own endpoint, that
// read objects back from the stand-in's API over HTTP, as deployed
// functions read them from Stripe.
type Local struct {
	API       *httptest.Server
	Endpoints []*httptest.Server
}

// StartLocal hosts the webhook functions and registers their endpoints
// with s.
func StartLocal(s *stripelocal.Stripe, store billing.Store, cfg LocalConfig) (*Local, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	l := &Local{API: httptest.NewServer(s)}
	api, err := stripeapi.NewClient(stripeapi.ClientConfig{Key: "sk_test_chaos_local", BaseURL: l.API.URL})
	if err != nil {
		l.Close()
		return nil, err
	}
	// Reads are dated by the stand-in's clock, the time its events carry,
	// as a deployment's reads and Stripe's events share real time.
	src := stripeapi.Refetch{API: api, Now: s.Now}
	for _, fn := range webhooks.All() {
		h, err := webhook.NewHandler(webhook.Config{
			Function: fn.Group.EntryPoint,
			Secrets:  []string{cfg.Secret},
			Routes:   fn.Routes(src, time.Now),
			Store:    store,
			Logger:   cfg.Logger.With("function", fn.Group.EntryPoint),
		})
		if err != nil {
			l.Close()
			return nil, err
		}
		srv := httptest.NewServer(h)
		l.Endpoints = append(l.Endpoints, srv)
		s.AddEndpoint(stripelocal.Endpoint{URL: srv.URL, Secret: cfg.Secret, EnabledEvents: fn.Group.Types, APIVersion: cfg.APIVersion})
	}
	return l, nil
}

// Close stops the servers.
func (l *Local) Close() {
	for _, e := range l.Endpoints {
		e.Close()
	}
	l.API.Close()
}
