package stripeapi

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
)

// ClientConfig configures the Stripe API client.
type ClientConfig struct {
	// Key is the secret API key (sk_test_… or sk_live_…, or a restricted
	// rk_ key).
	Key string
	// BaseURL replaces https://api.stripe.com, for stripe-mock or the
	// local stand-in (STRIPE_API_BASE).
	BaseURL string
	// Timeout bounds one HTTP request; default 10 s.
	Timeout time.Duration
	// MaxRetries is how often stripe-go retries a request that Stripe
	// marks retryable (connection errors, 409, 429, 5xx): 0 means the
	// default, 1; negative means never. More retries happen anyway: a
	// failed webhook is redelivered by Stripe.
	MaxRetries int64
}

// NewClient returns a stripe-go v76 client (API version 2023-10-16) that
// logs nothing itself: errors reach the caller, which logs them without
// keys or payloads.
func NewClient(cfg ClientConfig) (*client.API, error) {
	key := strings.TrimSpace(cfg.Key)
	if key == "" {
		return nil, errors.New("stripeapi: no API key (STRIPE_SECRET_KEY)")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 1
	}
	bc := &stripe.BackendConfig{
		HTTPClient:        &http.Client{Timeout: cfg.Timeout},
		MaxNetworkRetries: stripe.Int64(cfg.MaxRetries),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
		EnableTelemetry:   stripe.Bool(false),
	}
	if cfg.BaseURL != "" {
		bc.URL = stripe.String(strings.TrimSuffix(cfg.BaseURL, "/"))
	}
	b := stripe.GetBackendWithConfig(stripe.APIBackend, bc)
	uploads := stripe.GetBackendWithConfig(stripe.UploadsBackend, bc)
	return client.New(key, &stripe.Backends{API: b, Connect: b, Uploads: uploads}), nil
}

// IsNotFound reports whether err is Stripe's answer for an object that does
// not exist (any more).
func IsNotFound(err error) bool {
	var se *stripe.Error
	return errors.As(err, &se) && (se.HTTPStatusCode == http.StatusNotFound || se.Code == stripe.ErrorCodeResourceMissing)
}

// keyPattern matches Stripe API keys and webhook secrets, which Stripe or a
// stand-in may echo in an error message.
var keyPattern = regexp.MustCompile(`\b(sk|rk|pk|whsec)_[A-Za-z0-9_]+`)

// Redact masks anything that looks like a Stripe key in s.
func Redact(s string) string {
	return keyPattern.ReplaceAllString(s, "${1}_[redacted]")
}

// apiError is a Stripe API failure described without keys: status, type,
// code, request id and the message with keys masked.
type apiError struct{ err error }

func (e apiError) Error() string {
	var se *stripe.Error
	if errors.As(e.err, &se) {
		return fmt.Sprintf("stripe status %d %s %s (request %s): %s", se.HTTPStatusCode, se.Type, se.Code, se.RequestID, Redact(se.Msg))
	}
	return Redact(e.err.Error())
}

func (e apiError) Unwrap() error { return e.err }

// Describe wraps a Stripe API failure so that its message carries status,
// type, code, request id and Stripe's message with keys masked, and never
// the key itself; errors.Is and errors.As still see err.
func Describe(err error) error {
	if err == nil {
		return nil
	}
	return apiError{err}
}
