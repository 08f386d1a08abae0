// Package authtest is a stand-in Verifier for handler tests, beside the
// real Firebase verifier that the auth package tests against the Auth
// emulator.
package authtest

import (
	"context"
	"fmt"

	"github.com/courseplatform/billing/shared/auth"
)

// Tokens maps each valid token to its user; any other token is invalid.
// Err, when set, is returned for every token, as an unreachable key server
// would make the real verifier fail.
type Tokens struct {
	Users map[string]auth.User
	Err   error
}

// Verify implements auth.Verifier.
func (t Tokens) Verify(_ context.Context, token string) (auth.User, error) {
	if t.Err != nil {
		return auth.User{}, t.Err
	}
	u, ok := t.Users[token]
	if !ok {
		return auth.User{}, fmt.Errorf("%w: unknown test token", auth.ErrInvalidToken)
	}
	return u, nil
}
