// Package auth tells who calls a frontend-facing function: it verifies the
// Firebase ID token the web app sends as `Authorization: Bearer …`.
//
// In production the token's signature is checked against Google's public
// keys by the Firebase Admin SDK. Locally, with FIREBASE_AUTH_EMULATOR_HOST
// set, the SDK accepts the Auth emulator's unsigned tokens and asks the
// emulator whether the user still exists; a deployed function refuses to
// start in that mode, so an emulator setting can never open production.
package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	firebase "firebase.google.com/go/v4"
	fbauth "firebase.google.com/go/v4/auth"
)

// User is the verified caller.
type User struct {
	UID           string
	Email         string
	EmailVerified bool
}

// Verifier checks an ID token and names its user.
type Verifier interface {
	Verify(ctx context.Context, idToken string) (User, error)
}

// ErrInvalidToken means the token does not prove a user: malformed, signed
// by someone else, for another project, expired, revoked, or its user is
// disabled or gone. The caller answers 401.
var ErrInvalidToken = errors.New("auth: invalid ID token")

// EmulatorHostVar is the variable that puts the Admin SDK in emulator mode.
const EmulatorHostVar = "FIREBASE_AUTH_EMULATOR_HOST"

// Firebase verifies tokens with the Firebase Admin SDK.
type Firebase struct {
	client *fbauth.Client
}

// NewFirebase returns a verifier for the Firebase project (the Google Cloud
// project the functions run in). lookup is os.LookupEnv outside tests.
func NewFirebase(ctx context.Context, project string, lookup func(string) (string, bool)) (*Firebase, error) {
	if project == "" {
		return nil, errors.New("auth: no Firebase project (set GOOGLE_CLOUD_PROJECT)")
	}
	if host, ok := lookup(EmulatorHostVar); ok && host != "" {
		// K_SERVICE is set by Cloud Run on every deployed function.
		if svc, deployed := lookup("K_SERVICE"); deployed && svc != "" {
			return nil, fmt.Errorf("auth: %s is set on deployed service %s; refusing unsigned tokens", EmulatorHostVar, svc)
		}
	}
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: project})
	if err != nil {
		return nil, fmt.Errorf("auth: firebase app: %w", err)
	}
	c, err := app.Auth(ctx)
	if err != nil {
		return nil, fmt.Errorf("auth: firebase auth client: %w", err)
	}
	return &Firebase{client: c}, nil
}

// Verify implements Verifier. Errors other than ErrInvalidToken mean the
// verification itself failed (keys or emulator unreachable): retry later.
func (f *Firebase) Verify(ctx context.Context, idToken string) (User, error) {
	tok, err := f.client.VerifyIDToken(ctx, idToken)
	switch {
	case err == nil:
	case fbauth.IsIDTokenInvalid(err), fbauth.IsIDTokenExpired(err), fbauth.IsIDTokenRevoked(err),
		fbauth.IsUserDisabled(err), fbauth.IsUserNotFound(err), fbauth.IsTenantIDMismatch(err):
		return User{}, fmt.Errorf("%w: %s", ErrInvalidToken, reason(err))
	default:
		return User{}, fmt.Errorf("auth: verifying ID token: %w", err)
	}
	u := User{UID: tok.UID}
	if email, ok := tok.Claims["email"].(string); ok {
		u.Email = email
	}
	if v, ok := tok.Claims["email_verified"].(bool); ok {
		u.EmailVerified = v
	}
	if u.UID == "" {
		return User{}, fmt.Errorf("%w: no subject", ErrInvalidToken)
	}
	return u, nil
}

// reason is the SDK's message without the token, which some messages quote.
func reason(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "eyJ"); i >= 0 {
		msg = msg[:i] + "[token]"
	}
	return msg
}

// BearerToken returns the token of an `Authorization: Bearer …` header, or
// "" when there is none.
func BearerToken(header string) string {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}
