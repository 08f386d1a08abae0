// Package webhook receives Stripe events over HTTP and keeps the promises of
// the webhook contract: a bounded body, a verified signature (any of several
// secrets, during rotation), a timestamp inside the tolerance, events of the
// other mode or of other functions acknowledged without effect, each event
// applied once together with its marker, and a status code that tells Stripe
// whether to retry.
package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
	stripewebhook "github.com/stripe/stripe-go/v76/webhook"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/logging"
	"github.com/courseplatform/billing/shared/stripeapi"
)

// Defaults of the contract.
const (
	// DefaultMaxBody is the largest body read. Stripe's event payloads are
	// far smaller; anything bigger is not from Stripe.
	DefaultMaxBody = 1 << 20
	// DefaultTolerance is how far a signature's timestamp may be from now,
	// either way.
	DefaultTolerance = 300 * time.Second
	// DefaultTimeout bounds the work on one event, so that a hung
	// dependency ends in a 5xx that Stripe retries rather than in Stripe's
	// own timeout. Stripe does not document that window; 10 s stays well
	// inside the shortest figure reported for it, and an event's work (one
	// Stripe read, one Firestore transaction) normally takes well under 1 s.
	DefaultTimeout = 10 * time.Second
)

// Processor turns one event into a store transaction. Prepare runs outside
// the transaction (it may call Stripe) and returns the transaction's body.
// An error wrapping stripeapi.ErrUnprocessable means the event can never be
// applied; any other error is taken as temporary.
type Processor interface {
	Prepare(ctx context.Context, ev *stripe.Event) (billing.ApplyFunc, error)
}

// Config is what a webhook handler needs. Secrets, Store and Routes are
// required.
type Config struct {
	// Function names the deployment in logs and event markers.
	Function string
	// Secrets are the endpoint's signing secrets; an event signed with any
	// of them is accepted.
	Secrets []string
	// Livemode is the deployment's mode; events of the other mode are
	// acknowledged and ignored.
	Livemode bool
	// Routes maps each owned event type to its processor.
	Routes map[string]Processor
	Store  billing.Store

	MaxBody   int64
	Tolerance time.Duration
	Timeout   time.Duration
	Logger    *slog.Logger
	// Project is the Google Cloud project, for trace ids in logs.
	Project string
	// Now returns the current time; tests set it.
	Now func() time.Time
}

// Handler serves one webhook endpoint.
type Handler struct {
	cfg Config
}

// NewHandler checks cfg and fills in defaults.
func NewHandler(cfg Config) (*Handler, error) {
	var secrets []string
	for _, s := range cfg.Secrets {
		if s = strings.TrimSpace(s); s != "" {
			secrets = append(secrets, s)
		}
	}
	switch {
	case len(secrets) == 0:
		return nil, errors.New("webhook: no signing secret configured")
	case cfg.Store == nil:
		return nil, errors.New("webhook: no store configured")
	case len(cfg.Routes) == 0:
		return nil, errors.New("webhook: no event types routed")
	}
	cfg.Secrets = secrets
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Tolerance <= 0 {
		cfg.Tolerance = DefaultTolerance
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Handler{cfg: cfg}, nil
}

// Response is the small JSON body of every answer.
type Response struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type,omitempty"`
	Outcome billing.Outcome `json:"outcome,omitempty"`
	Error   string          `json:"error,omitempty"`
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.cfg.Now()
	log := h.cfg.Logger.With(logging.Trace(r, h.cfg.Project))
	res, err := h.handle(r)
	code := statusOf(err)
	if err != nil {
		res.Error = publicMessage(err)
	}
	attrs := []any{"status", code, "event_id", res.ID, "event_type", res.Type, "outcome", res.Outcome,
		"duration_ms", h.cfg.Now().Sub(start).Milliseconds()}
	switch {
	case code >= 500:
		log.Error("webhook failed; Stripe will retry", append(attrs, "error", err.Error())...)
	case code >= 400:
		log.Warn("webhook rejected", append(attrs, "error", err.Error())...)
	case res.Outcome == billing.Unprocessable:
		log.Error("webhook event can never be applied; recorded and acknowledged", attrs...)
	default:
		log.Info("webhook handled", attrs...)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(res)
}

func (h *Handler) handle(r *http.Request) (Response, error) {
	if r.Method != http.MethodPost {
		return Response{}, errMethod
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, h.cfg.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return Response{}, errTooLarge
		}
		return Response{}, requestError("reading body", err)
	}
	ev, err := h.verify(body, r.Header.Get("Stripe-Signature"))
	if err != nil {
		return Response{}, err
	}
	res := Response{ID: ev.ID, Type: string(ev.Type)}
	if ev.Livemode != h.cfg.Livemode {
		res.Outcome = billing.Ignored
		return res, nil
	}
	p, ok := h.cfg.Routes[string(ev.Type)]
	if !ok {
		res.Outcome = billing.Ignored
		return res, nil
	}

	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.Timeout)
	defer cancel()
	// A redelivery is answered before Prepare, which may call Stripe; the
	// transaction below still decides, should two deliveries race.
	if seen, err := h.seen(ctx, ev.ID); err != nil {
		return res, fmt.Errorf("looking up %s: %w", ev.ID, err)
	} else if seen {
		res.Outcome = billing.Duplicate
		return res, nil
	}
	apply, err := p.Prepare(ctx, ev)
	if errors.Is(err, stripeapi.ErrUnprocessable) {
		detail := err.Error()
		apply = func(context.Context, billing.Tx) (billing.Outcome, string, error) {
			return billing.Unprocessable, detail, nil
		}
	} else if err != nil {
		return res, fmt.Errorf("preparing %s: %w", ev.ID, err)
	}
	stored, dup, err := h.cfg.Store.ApplyEvent(ctx, h.record(ev), apply)
	if errors.Is(err, billing.ErrUnstorable) {
		// Nothing of the first attempt was written; what can never be
		// stored is recorded as such, so Stripe stops retrying it.
		stored, dup, err = h.cfg.Store.ApplyEvent(ctx, h.record(ev), func(context.Context, billing.Tx) (billing.Outcome, string, error) {
			return billing.Unprocessable, "the store refused the event's documents as invalid", nil
		})
	}
	if err != nil {
		return res, fmt.Errorf("applying %s: %w", ev.ID, err)
	}
	res.Outcome = stored.Outcome
	if dup {
		res.Outcome = billing.Duplicate
	}
	return res, nil
}

// verify checks the signature against every secret and the timestamp
// against the tolerance both ways, then decodes the event.
func (h *Handler) verify(body []byte, header string) (*stripe.Event, error) {
	if header == "" {
		return nil, requestError("no Stripe-Signature header", nil)
	}
	ts, err := signedAt(header)
	if err != nil {
		return nil, err
	}
	// stripe-go rejects only timestamps in the past; one from the future
	// is as much a replay risk. Compared in whole seconds, so that no
	// timestamp, however extreme, overflows the comparison.
	now, tol := h.cfg.Now().Unix(), int64(h.cfg.Tolerance/time.Second)
	if ts < now-tol || ts > now+tol {
		return nil, requestError("signature timestamp outside tolerance", nil)
	}
	verified := false
	for _, secret := range h.cfg.Secrets {
		// The window was checked above against h.cfg.Now, the one clock.
		if stripewebhook.ValidatePayloadIgnoringTolerance(body, header, secret) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, requestError("no valid signature", nil)
	}
	var ev stripe.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, requestError("event is not JSON", err)
	}
	if ev.ID == "" || ev.Type == "" || ev.Data == nil || len(ev.Data.Raw) == 0 {
		return nil, requestError("event lacks id, type or data", nil)
	}
	// Stripe stamps events with the current time; one outside the years a
	// marker can hold (1970 to 9999) is not Stripe's.
	if ev.Created < 0 || ev.Created > maxCreated {
		return nil, requestError("event created time out of range", nil)
	}
	// Stripe's ids are short and plain; one that cannot name its marker
	// document could never be recorded, so it is refused up front rather
	// than failing in Firestore on every delivery.
	if !billing.UsableID(ev.ID) {
		return nil, requestError("event id cannot be recorded", nil)
	}
	return &ev, nil
}

// maxCreated is 9999-12-31T23:59:59Z, the last second Firestore stores.
const maxCreated = 253402300799

// signedAt reads the t= element of a Stripe-Signature header, split
// exactly as stripe-go's webhook package splits it, since that package
// checks the signature over the timestamp it reads. A header with more
// than one t= is refused: stripe-go would sign-check the last one, and an
// old signature could then ride behind a fresh first timestamp.
func signedAt(header string) (int64, error) {
	var (
		sec   int64
		found bool
	)
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(part, "=")
		if !ok || k != "t" {
			continue
		}
		if found {
			return 0, requestError("more than one signature timestamp", nil)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, requestError("malformed signature timestamp", nil)
		}
		sec, found = n, true
	}
	if !found {
		return 0, requestError("signature without timestamp", nil)
	}
	return sec, nil
}

func (h *Handler) seen(ctx context.Context, id string) (bool, error) {
	seen := false
	err := h.cfg.Store.View(ctx, func(ctx context.Context, tx billing.Tx) error {
		rec, err := tx.Event(ctx, id)
		seen = rec != nil
		return err
	})
	return seen, err
}

func (h *Handler) record(ev *stripe.Event) billing.EventRecord {
	now := h.cfg.Now().UTC().Truncate(time.Microsecond)
	return billing.EventRecord{
		ID:         ev.ID,
		Type:       string(ev.Type),
		Created:    time.Unix(ev.Created, 0).UTC(),
		APIVersion: ev.APIVersion,
		Livemode:   ev.Livemode,
		Function:   h.cfg.Function,
		ReceivedAt: now,
		ExpireAt:   now.Add(billing.EventRetention),
	}
}
