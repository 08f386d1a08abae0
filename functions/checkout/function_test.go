package checkout

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/courseplatform/billing/shared/auth"
	"github.com/courseplatform/billing/shared/frontend"
	"github.com/courseplatform/billing/shared/secrets"
	"github.com/courseplatform/billing/shared/secrets/secretmanagertest"
	"github.com/courseplatform/billing/shared/store/firestore/firestoretest"
	"github.com/courseplatform/billing/shared/stripelocal"
)

// The deployed function: settings, the Stripe key from Secret Manager (by
// name, through the real client), Firestore and Firebase Auth are set up on
// the first request; until that works every answer is a 503, and the
// failure is not remembered.
func TestDeployedFunctionBuildsOnFirstRequest(t *testing.T) {
	fsHost := firestoretest.Host(t)
	authHost := os.Getenv(auth.EmulatorHostVar)
	if authHost == "" {
		if os.Getenv("BILLING_REQUIRE_AUTH_EMULATOR") == "1" {
			t.Fatal(auth.EmulatorHostVar + " is not set and BILLING_REQUIRE_AUTH_EMULATOR=1")
		}
		t.Skip(auth.EmulatorHostVar + " is not set")
	}
	s := stripelocal.New(stripelocal.Options{Seed: 21})
	api := httptest.NewServer(s)
	defer api.Close()

	const secretName = "projects/p/secrets/stripe-secret-key/versions/latest"
	sm := secretmanagertest.Start(t, map[string]string{secretName: "sk_test_deployed_fake"})
	t.Setenv("FIRESTORE_EMULATOR_HOST", fsHost)
	t.Setenv("GOOGLE_CLOUD_PROJECT", "")
	t.Setenv("K_SERVICE", "")
	t.Setenv("STRIPE_API_BASE", api.URL)
	t.Setenv(frontend.APIKey+secrets.SecretNameSuffix, secretName)
	t.Setenv(frontend.APIKey, "")
	t.Setenv("ALLOWED_REDIRECT_URLS", app+"/billing/")
	t.Setenv("CHECKOUT_SUCCESS_URL", successURL)
	t.Setenv("CHECKOUT_CANCEL_URL", cancelURL)
	t.Setenv("ALLOWED_ORIGINS", app)

	fn := frontend.NewFunction(EntryPoint, New, secrets.WithAccessor(func(ctx context.Context) (secrets.Accessor, io.Closer, error) {
		c, err := sm.NewClient(ctx)
		return c, c, err
	}))
	// The Auth emulator's project is demo-billing (scripts/test starts it
	// so); its tokens are for that project.
	token := signUp(t, authHost)
	call := func(body string) (int, string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		fn(w, req)
		return w.Code, w.Body.String()
	}

	if code, body := call(`{"courseId":"go-101"}`); code != http.StatusServiceUnavailable || strings.Contains(body, "GOOGLE_CLOUD_PROJECT") {
		t.Fatalf("misconfigured: %d %s, want a 503 that names nothing internal", code, body)
	}
	t.Setenv("GOOGLE_CLOUD_PROJECT", "demo-billing")
	if code, body := call(`{"courseId":"no-such-course"}`); code != http.StatusBadRequest || !strings.Contains(body, "unknown_course") {
		t.Fatalf("after the fix: %d %s, want 400 unknown_course from a built function", code, body)
	}
	if code, _ := call(`{"courseId":"again"}`); code != http.StatusBadRequest {
		t.Fatalf("second request: %d", code)
	}
	if sm.Calls() != 1 {
		t.Errorf("Secret Manager called %d times, want once per instance", sm.Calls())
	}
}

func signUp(t *testing.T, host string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"email": "deployed-" + firestoretest.Project(t) + "@example.com", "password": "not-a-real-password", "returnSecureToken": true})
	res, err := http.Post("http://"+host+"/identitytoolkit.googleapis.com/v1/accounts:signUp?key=fake-api-key", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct{ IDToken string }
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || out.IDToken == "" {
		t.Fatalf("signUp: status %d, %v", res.StatusCode, err)
	}
	return out.IDToken
}
