package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/instance"
	"github.com/courseplatform/billing/shared/logging"
	"github.com/courseplatform/billing/shared/secrets"
	"github.com/courseplatform/billing/shared/store/firestore"
	"github.com/courseplatform/billing/shared/stripeapi"
)

// SecretKey is the secret that holds an endpoint's signing secrets, one or
// several separated by commas while a secret is being rotated.
const SecretKey = "STRIPE_WEBHOOK_SECRET"

// Settings are a webhook function's non-secret configuration.
type Settings struct {
	// Project is the Google Cloud project (GOOGLE_CLOUD_PROJECT).
	Project string
	// Database is the Firestore database id (FIRESTORE_DATABASE).
	Database string
	// Livemode is the deployment's Stripe mode (STRIPE_LIVEMODE).
	Livemode bool
	// Refetch reads each object from the Stripe API instead of trusting
	// the payload (STRIPE_REFETCH, default true).
	Refetch bool
	// APIBase replaces https://api.stripe.com (STRIPE_API_BASE), for the
	// local stand-in or stripe-mock.
	APIBase string
	// Timeout bounds the work on one event (WEBHOOK_TIMEOUT, a Go
	// duration).
	Timeout time.Duration
}

// APIKey is the secret that holds the Stripe API key.
const APIKey = "STRIPE_SECRET_KEY"

// SecretKeys are the secrets the settings call for: the signing secrets
// always, the API key when objects are read back from Stripe.
func (s Settings) SecretKeys() []secrets.Key {
	return []secrets.Key{{Name: SecretKey}, {Name: APIKey, Optional: !s.Refetch}}
}

// SettingsFromEnv reads Settings; lookup is os.LookupEnv outside tests.
func SettingsFromEnv(lookup func(string) (string, bool)) (Settings, error) {
	s := Settings{Refetch: true, Timeout: DefaultTimeout}
	s.Project, _ = lookup("GOOGLE_CLOUD_PROJECT")
	s.Database, _ = lookup("FIRESTORE_DATABASE")
	s.APIBase, _ = lookup("STRIPE_API_BASE")
	var errs []error
	boolean := func(name string, dst *bool) {
		if v, ok := lookup(name); ok && v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s=%q is not true or false", name, v))
				return
			}
			*dst = b
		}
	}
	boolean("STRIPE_LIVEMODE", &s.Livemode)
	boolean("STRIPE_REFETCH", &s.Refetch)
	if v, ok := lookup("WEBHOOK_TIMEOUT"); ok && v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("WEBHOOK_TIMEOUT=%q is not a positive duration", v))
		} else {
			s.Timeout = d
		}
	}
	if s.Project == "" {
		errs = append(errs, errors.New("GOOGLE_CLOUD_PROJECT is not set"))
	}
	return s, errors.Join(errs...)
}

// Source returns where the settings say objects are read from: the
// Stripe API (with the resolved API key) or the event payloads.
func (s Settings) Source(vals secrets.Values) (stripeapi.Source, error) {
	if !s.Refetch {
		return stripeapi.Payload{}, nil
	}
	api, err := stripeapi.NewClient(stripeapi.ClientConfig{Key: vals.Get(APIKey), BaseURL: s.APIBase})
	if err != nil {
		return nil, err
	}
	return stripeapi.Refetch{API: api}, nil
}

// RoutesFunc builds a group's processors from its source of objects.
type RoutesFunc func(src stripeapi.Source, now func() time.Time) map[string]Processor

// FunctionOption adjusts how NewFunction builds its instance.
type FunctionOption func(*functionOptions)

type functionOptions struct {
	secrets []secrets.Option
}

// WithSecretOptions passes options to the secret resolver, e.g. a Secret
// Manager client for another endpoint.
func WithSecretOptions(opts ...secrets.Option) FunctionOption {
	return func(o *functionOptions) { o.secrets = append(o.secrets, opts...) }
}

// NewFunction returns the HTTP function of one webhook group as deployed:
// on the first request it reads settings and secrets and opens Firestore;
// until that succeeds every request is answered 503, so Stripe retries.
func NewFunction(g billing.Group, routes RoutesFunc, opts ...FunctionOption) http.HandlerFunc {
	var o functionOptions
	for _, opt := range opts {
		opt(&o)
	}
	log := logging.New(os.Stdout, g.EntryPoint)
	handler := instance.NewLazy(func(ctx context.Context) (*Handler, error) {
		settings, err := SettingsFromEnv(os.LookupEnv)
		if err != nil {
			return nil, err
		}
		vals, err := secrets.NewResolver(settings.SecretKeys(), o.secrets...).Values(ctx)
		if err != nil {
			return nil, err
		}
		src, err := settings.Source(vals)
		if err != nil {
			return nil, err
		}
		store, err := firestore.Open(ctx, settings.Project, settings.Database)
		if err != nil {
			return nil, err
		}
		return NewHandler(Config{
			Function: g.EntryPoint,
			Secrets:  vals.List(SecretKey),
			Livemode: settings.Livemode,
			Routes:   routes(src, time.Now),
			Store:    store,
			Timeout:  settings.Timeout,
			Logger:   log,
			Project:  settings.Project,
		})
	})
	return func(w http.ResponseWriter, r *http.Request) {
		h, err := handler.Get(r.Context())
		if err != nil {
			log.Error("webhook function not ready; Stripe will retry", slog.String("error", err.Error()))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":"not ready; retry later"}` + "\n"))
			return
		}
		h.ServeHTTP(w, r)
	}
}
