package frontend

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/courseplatform/billing/shared/auth"
	"github.com/courseplatform/billing/shared/auth/authtest"
)

type echoReq struct {
	Name string `json:"name"`
}

func testHandler(verifier auth.Verifier, serve func(context.Context, auth.User, echoReq) (any, error)) *Handler[echoReq] {
	if serve == nil {
		serve = func(_ context.Context, u auth.User, r echoReq) (any, error) {
			return map[string]string{"uid": u.UID, "name": r.Name}, nil
		}
	}
	return &Handler[echoReq]{
		Function: "Test", Origins: Origins{"https://app.example.com"}, Auth: verifier,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Serve: serve,
	}
}

var users = authtest.Tokens{Users: map[string]auth.User{"tok-alice": {UID: "alice", Email: "alice@example.com"}}}

func TestHandlerContract(t *testing.T) {
	internal := errors.New("firestore: rpc error: secret internals at 10.0.0.1")
	cases := []struct {
		name     string
		method   string
		origin   string
		token    string
		body     string
		verifier auth.Verifier
		serve    func(context.Context, auth.User, echoReq) (any, error)
		status   int
		code     string
	}{
		{name: "applied", method: "POST", origin: "https://app.example.com", token: "tok-alice", body: `{"name":"x"}`, status: 200},
		{name: "no origin header (server to server)", method: "POST", token: "tok-alice", body: `{"name":"x"}`, status: 200},
		{name: "foreign origin", method: "POST", origin: "https://evil.example", token: "tok-alice", body: `{}`, status: 403, code: "origin_not_allowed"},
		{name: "preflight from foreign origin", method: "OPTIONS", origin: "https://evil.example", status: 403, code: "origin_not_allowed"},
		{name: "GET", method: "GET", token: "tok-alice", status: 405, code: "method_not_allowed"},
		{name: "no token", method: "POST", body: `{}`, status: 401, code: "unauthenticated"},
		{name: "invalid token", method: "POST", token: "forged", body: `{}`, status: 401, code: "unauthenticated"},
		{name: "token check unavailable", method: "POST", token: "tok-alice", body: `{}`, verifier: authtest.Tokens{Err: errors.New("keys unreachable")}, status: 503, code: "unavailable"},
		{name: "body too large", method: "POST", token: "tok-alice", body: `{"name":"` + strings.Repeat("a", MaxBodyBytes) + `"}`, status: 413, code: "body_too_large"},
		{name: "not JSON", method: "POST", token: "tok-alice", body: `name=x`, status: 400, code: "bad_body"},
		{name: "empty body is an empty request", method: "POST", token: "tok-alice", body: ``, status: 200},
		{name: "unknown field", method: "POST", token: "tok-alice", body: `{"name":"x","price":"price_cheap"}`, status: 400, code: "bad_body"},
		{name: "two objects", method: "POST", token: "tok-alice", body: `{"name":"x"}{"name":"y"}`, status: 400, code: "bad_body"},
		{name: "wrong type", method: "POST", token: "tok-alice", body: `{"name":5}`, status: 400, code: "bad_body"},
		{name: "service conflict", method: "POST", token: "tok-alice", body: `{}`, status: 409, code: "already_owned",
			serve: func(context.Context, auth.User, echoReq) (any, error) { return nil, Conflict("already_owned", "owned") }},
		{name: "internal failure", method: "POST", token: "tok-alice", body: `{}`, status: 503, code: "unavailable",
			serve: func(context.Context, auth.User, echoReq) (any, error) { return nil, internal }},
		{name: "stripe failure", method: "POST", token: "tok-alice", body: `{}`, status: 502, code: "payment_provider_error",
			serve: func(context.Context, auth.User, echoReq) (any, error) { return nil, StripeFailed(internal) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := c.verifier
			if v == nil {
				v = users
			}
			req := httptest.NewRequest(c.method, "/", strings.NewReader(c.body))
			if c.origin != "" {
				req.Header.Set("Origin", c.origin)
			}
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			rec := httptest.NewRecorder()
			testHandler(v, c.serve).ServeHTTP(rec, req)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, c.status, rec.Body)
			}
			if strings.Contains(rec.Body.String(), "internals") || strings.Contains(rec.Body.String(), "tok-alice") {
				t.Errorf("the answer leaks internals: %s", rec.Body)
			}
			if c.code == "" {
				return
			}
			var got struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got.Error.Code != c.code || got.Error.Message == "" {
				t.Errorf("body %s, want {error:{code:%q,message:…}}", rec.Body, c.code)
			}
		})
	}
}

func TestPreflightAndCORSHeaders(t *testing.T) {
	h := testHandler(users, nil)
	req := httptest.NewRequest("OPTIONS", "/", nil)
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("preflight status %d", rec.Code)
	}
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
		t.Errorf("Allow-Origin %q", got)
	}
	if got := rec.Header().Get("Access-Control-Allow-Headers"); !strings.Contains(got, "Authorization") {
		t.Errorf("Allow-Headers %q lacks Authorization", got)
	}

	req = httptest.NewRequest("POST", "/", strings.NewReader(`{"name":"n"}`))
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Authorization", "Bearer tok-alice")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Fatalf("status %d, Allow-Origin %q", rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
	}
	if !strings.Contains(rec.Body.String(), `"uid":"alice"`) {
		t.Errorf("body %s does not carry the verified uid", rec.Body)
	}
}

func TestSettingsFromEnv(t *testing.T) {
	env := map[string]string{
		"GOOGLE_CLOUD_PROJECT":  "demo-billing",
		"ALLOWED_ORIGINS":       "https://app.example.com",
		"ALLOWED_REDIRECT_URLS": "https://app.example.com/billing/",
		"CHECKOUT_SUCCESS_URL":  "https://app.example.com/billing/done",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	s, err := SettingsFromEnv(lookup)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Origins) != 1 || len(s.Redirects) != 1 || s.SuccessURL == "" {
		t.Errorf("settings %+v", s)
	}
	env["CHECKOUT_SUCCESS_URL"] = "https://elsewhere.example/done"
	if _, err := SettingsFromEnv(lookup); err == nil || !strings.Contains(err.Error(), "CHECKOUT_SUCCESS_URL") {
		t.Errorf("a default success URL off the allowlist: err = %v", err)
	}
	delete(env, "GOOGLE_CLOUD_PROJECT")
	if _, err := SettingsFromEnv(lookup); err == nil {
		t.Error("no project accepted")
	}
}
