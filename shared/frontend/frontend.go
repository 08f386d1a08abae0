// Package frontend is the HTTP contract of the functions the web app calls
// (checkout, portal): CORS for configured origins only, POST with a small
// JSON body, a verified Firebase user, redirect URLs from an allowlist, and
// every error as {"error":{"code":…,"message":…}} with its status decided
// here.
package frontend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/courseplatform/billing/shared/auth"
	"github.com/courseplatform/billing/shared/logging"
)

// MaxBodyBytes caps a request body; the requests are a few short fields.
const MaxBodyBytes = 64 << 10

// Handler serves one frontend function. Req is its JSON request body;
// fields it does not declare are refused, so a caller cannot slip in a
// price, an amount or a customer.
type Handler[Req any] struct {
	Function string
	Origins  Origins
	Auth     auth.Verifier
	Logger   *slog.Logger
	// Project is the Google Cloud project, for trace ids in logs.
	Project string
	// Timeout bounds one request's work; default 20 s.
	Timeout time.Duration
	// Serve does the function's work for a verified user.
	Serve func(ctx context.Context, user auth.User, req Req) (any, error)
}

func (h *Handler[Req]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The logger already names the function (logging.New) or the dev
	// server route.
	log := h.Logger.With(logging.Trace(r, h.Project))
	if origin := r.Header.Get("Origin"); origin != "" {
		if !h.Origins.Allows(origin) {
			h.fail(w, log, Forbidden("origin_not_allowed", "this origin may not call the billing API"))
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Add("Vary", "Origin")
	}
	if r.Method == http.MethodOptions {
		w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		w.Header().Set("Access-Control-Max-Age", "3600")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST, OPTIONS")
		h.fail(w, log, &Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: "use POST"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.fail(w, log, &Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large",
				Message: fmt.Sprintf("the body is over %d bytes", MaxBodyBytes)})
			return
		}
		h.fail(w, log, BadRequest("bad_body", "the body could not be read"))
		return
	}

	timeout := h.Timeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()

	token := auth.BearerToken(r.Header.Get("Authorization"))
	if token == "" {
		h.fail(w, log, Unauthenticated("sign in first: send the Firebase ID token as Authorization: Bearer", nil))
		return
	}
	user, err := h.Auth.Verify(ctx, token)
	if errors.Is(err, auth.ErrInvalidToken) {
		h.fail(w, log, Unauthenticated("the ID token is not valid; sign in again", err))
		return
	}
	if err != nil {
		h.fail(w, log, Unavailable(err))
		return
	}
	log = log.With(slog.String("uid", user.UID))

	var req Req
	if err := decodeStrict(body, &req); err != nil {
		h.fail(w, log, BadRequest("bad_body", err.Error()))
		return
	}
	res, err := h.Serve(ctx, user, req)
	if err != nil {
		h.fail(w, log, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// decodeStrict decodes one JSON object with only Req's fields.
func decodeStrict(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		// No body is an empty request: Portal needs nothing, and Checkout
		// then says which field is missing.
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
			return errors.New("the body is not valid JSON")
		case errors.As(err, &typ):
			return fmt.Errorf("field %q has the wrong type", typ.Field)
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return fmt.Errorf("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
		}
		return errors.New("the body must be a JSON object")
	}
	if dec.More() {
		return errors.New("the body must be one JSON object")
	}
	return nil
}

func (h *Handler[Req]) fail(w http.ResponseWriter, log *slog.Logger, err error) {
	e := asError(err)
	level := slog.LevelInfo
	if e.Status >= 500 {
		level = slog.LevelError
	}
	attrs := []any{slog.Int("status", e.Status), slog.String("code", e.Code)}
	if e.Err != nil {
		attrs = append(attrs, slog.String("error", e.Err.Error()))
	}
	log.Log(context.Background(), level, "request refused", attrs...)
	writeJSON(w, e.Status, map[string]any{"error": map[string]string{"code": e.Code, "message": e.Message}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
