package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
)

// The Firebase verifier runs against the real Auth emulator, which
// scripts/test starts (FIREBASE_AUTH_EMULATOR_HOST). Its project must be
// the emulator's: a demo- project accepts any.
const testProject = "demo-billing"

func emulator(t *testing.T) string {
	t.Helper()
	host := os.Getenv(EmulatorHostVar)
	if host == "" {
		if os.Getenv("BILLING_REQUIRE_AUTH_EMULATOR") == "1" {
			t.Fatal(EmulatorHostVar + " is not set and BILLING_REQUIRE_AUTH_EMULATOR=1")
		}
		t.Skip(EmulatorHostVar + " is not set; scripts/test starts the Auth emulator")
	}
	return host
}

// signUp makes a user in the emulator and returns its uid and ID token.
func signUp(t *testing.T, host, email string) (uid, token string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"email": email, "password": "not-a-real-password", "returnSecureToken": true})
	res, err := http.Post("http://"+host+"/identitytoolkit.googleapis.com/v1/accounts:signUp?key=fake-api-key", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct{ LocalID, IDToken string }
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || out.IDToken == "" {
		t.Fatalf("signUp: status %d, %v", res.StatusCode, err)
	}
	return out.LocalID, out.IDToken
}

func deleteUser(t *testing.T, host, token string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"idToken": token})
	res, err := http.Post("http://"+host+"/identitytoolkit.googleapis.com/v1/accounts:delete?key=fake-api-key", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
}

// withClaim rewrites one claim of an unsigned emulator token.
func withClaim(t *testing.T, token, claim string, value any) string {
	t.Helper()
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	claims[claim] = value
	raw, _ = json.Marshal(claims)
	parts[1] = base64.RawURLEncoding.EncodeToString(raw)
	return strings.Join(parts, ".")
}

func TestFirebaseVerifierOnTheAuthEmulator(t *testing.T) {
	host := emulator(t)
	ctx := context.Background()
	v, err := NewFirebase(ctx, testProject, os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	uid, token := signUp(t, host, "verify@example.com")

	u, err := v.Verify(ctx, token)
	if err != nil || u.UID != uid || u.Email != "verify@example.com" {
		t.Fatalf("Verify = %+v, %v; want uid %s", u, err, uid)
	}
	for name, bad := range map[string]string{
		"garbage":         "not-a-token",
		"another project": withClaim(t, token, "aud", "demo-other"),
		"expired":         withClaim(t, token, "exp", 1000000000),
		"empty":           "",
	} {
		if _, err := v.Verify(ctx, bad); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: err = %v, want ErrInvalidToken", name, err)
		} else if strings.Contains(err.Error(), "eyJ") {
			t.Errorf("%s: the error quotes the token: %v", name, err)
		}
	}

	deleteUser(t, host, token)
	if _, err := v.Verify(ctx, token); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("token of a deleted user: err = %v, want ErrInvalidToken", err)
	}
}

func TestEmulatorModeRefusedWhenDeployed(t *testing.T) {
	env := map[string]string{EmulatorHostVar: "127.0.0.1:9099", "K_SERVICE": "checkout"}
	_, err := NewFirebase(context.Background(), testProject, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("NewFirebase on a deployed service in emulator mode: err = %v, want a refusal", err)
	}
}

func TestBearerToken(t *testing.T) {
	for header, want := range map[string]string{
		"Bearer abc":  "abc",
		"bearer  abc": "abc",
		"Basic abc":   "",
		"Bearer":      "",
		"":            "",
		"abc":         "",
	} {
		if got := BearerToken(header); got != want {
			t.Errorf("BearerToken(%q) = %q, want %q", header, got, want)
		}
	}
}
