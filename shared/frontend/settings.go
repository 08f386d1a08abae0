package frontend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/stripe/stripe-go/v76/client"

	"github.com/courseplatform/billing/shared/auth"
	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/instance"
	"github.com/courseplatform/billing/shared/logging"
	"github.com/courseplatform/billing/shared/secrets"
	"github.com/courseplatform/billing/shared/store/firestore"
	"github.com/courseplatform/billing/shared/stripeapi"
)

// APIKey is the secret that holds the Stripe API key.
const APIKey = "STRIPE_SECRET_KEY"

// Settings are a frontend function's non-secret configuration.
type Settings struct {
	Project  string // GOOGLE_CLOUD_PROJECT: Firestore and Firebase Auth
	Database string // FIRESTORE_DATABASE
	APIBase  string // STRIPE_API_BASE, for the local stand-in or stripe-mock
	Livemode bool   // STRIPE_LIVEMODE
	// Origins may call from a browser (ALLOWED_ORIGINS, comma-separated).
	Origins Origins
	// Redirects are the URL prefixes Stripe may send the buyer back to
	// (ALLOWED_REDIRECT_URLS, comma-separated).
	Redirects Redirects
	// SuccessURL, CancelURL and ReturnURL are used when the request names
	// none (CHECKOUT_SUCCESS_URL, CHECKOUT_CANCEL_URL, PORTAL_RETURN_URL);
	// each must itself be on the allowlist.
	SuccessURL, CancelURL, ReturnURL string
	Timeout                          time.Duration // FRONTEND_TIMEOUT
}

// SettingsFromEnv reads Settings; lookup is os.LookupEnv outside tests.
func SettingsFromEnv(lookup func(string) (string, bool)) (Settings, error) {
	get := func(k string) string { v, _ := lookup(k); return v }
	s := Settings{
		Project: get("GOOGLE_CLOUD_PROJECT"), Database: get("FIRESTORE_DATABASE"), APIBase: get("STRIPE_API_BASE"),
		SuccessURL: get("CHECKOUT_SUCCESS_URL"), CancelURL: get("CHECKOUT_CANCEL_URL"), ReturnURL: get("PORTAL_RETURN_URL"),
		Timeout: 20 * time.Second,
	}
	var errs []error
	if s.Project == "" {
		errs = append(errs, errors.New("GOOGLE_CLOUD_PROJECT is not set"))
	}
	if v := get("STRIPE_LIVEMODE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("STRIPE_LIVEMODE=%q is not true or false", v))
		}
		s.Livemode = b
	}
	if v := get("FRONTEND_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("FRONTEND_TIMEOUT=%q is not a positive duration", v))
		} else {
			s.Timeout = d
		}
	}
	var err error
	if s.Origins, err = ParseOrigins(get("ALLOWED_ORIGINS")); err != nil {
		errs = append(errs, fmt.Errorf("ALLOWED_ORIGINS: %w", err))
	}
	if s.Redirects, err = ParseRedirects(get("ALLOWED_REDIRECT_URLS")); err != nil {
		errs = append(errs, fmt.Errorf("ALLOWED_REDIRECT_URLS: %w", err))
	}
	for name, u := range map[string]string{"CHECKOUT_SUCCESS_URL": s.SuccessURL, "CHECKOUT_CANCEL_URL": s.CancelURL, "PORTAL_RETURN_URL": s.ReturnURL} {
		if u != "" && s.Redirects.Check(u) != nil {
			errs = append(errs, fmt.Errorf("%s is not under ALLOWED_REDIRECT_URLS", name))
		}
	}
	return s, errors.Join(errs...)
}

// Deps are what a frontend function is built from.
type Deps struct {
	Settings Settings
	Store    billing.Store
	Stripe   *client.API
	Auth     auth.Verifier
	Logger   *slog.Logger
}

// NewFunction returns a frontend function as deployed: on its first request
// it reads settings, resolves the Stripe key (Secret Manager in
// production), opens Firestore and Firebase Auth, then builds the handler.
// Until that succeeds every request is a 503; a failure is not cached.
func NewFunction(name string, build func(Deps) http.Handler, opts ...secrets.Option) http.HandlerFunc {
	log := logging.New(os.Stdout, name)
	handler := instance.NewLazy(func(ctx context.Context) (http.Handler, error) {
		settings, err := SettingsFromEnv(os.LookupEnv)
		if err != nil {
			return nil, err
		}
		vals, err := secrets.NewResolver([]secrets.Key{{Name: APIKey}}, opts...).Values(ctx)
		if err != nil {
			return nil, err
		}
		deps, err := Open(ctx, settings, vals.Get(APIKey), os.LookupEnv)
		if err != nil {
			return nil, err
		}
		deps.Logger = log
		return build(deps), nil
	})
	return func(w http.ResponseWriter, r *http.Request) {
		h, err := handler.Get(r.Context())
		if err != nil {
			log.Error("frontend function not ready", slog.String("error", err.Error()))
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": map[string]string{
				"code": "unavailable", "message": "temporarily unavailable; try again"}})
			return
		}
		h.ServeHTTP(w, r)
	}
}

// Open builds the clients the settings name.
func Open(ctx context.Context, s Settings, stripeKey string, lookup func(string) (string, bool)) (Deps, error) {
	api, err := stripeapi.NewClient(stripeapi.ClientConfig{Key: stripeKey, BaseURL: s.APIBase, MaxRetries: 3})
	if err != nil {
		return Deps{}, err
	}
	verifier, err := auth.NewFirebase(ctx, s.Project, lookup)
	if err != nil {
		return Deps{}, err
	}
	store, err := firestore.Open(ctx, s.Project, s.Database)
	if err != nil {
		return Deps{}, err
	}
	return Deps{Settings: s, Store: store, Stripe: api, Auth: verifier}, nil
}
