package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/courseplatform/billing/functions/webhooks/subscriptions"
	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/secrets"
	"github.com/courseplatform/billing/shared/secrets/secretmanagertest"
	"github.com/courseplatform/billing/shared/store/firestore/firestoretest"
	"github.com/courseplatform/billing/shared/webhook"
	"github.com/courseplatform/billing/shared/webhook/webhooktest"
)

// The deployed function: settings and secrets are read on the first
// request; a failure answers 503 (Stripe retries) and is not remembered, so
// the next request after the fix succeeds. The signing secret comes from
// Secret Manager by name, through the real client.
func TestDeployedFunctionBuildsOnFirstRequestAndRetriesFailures(t *testing.T) {
	host := firestoretest.Host(t)
	const secretName = "projects/p/secrets/webhook-subscriptions/versions/latest"
	sm := secretmanagertest.Start(t, map[string]string{secretName: webhooktest.Secret})
	t.Setenv("FIRESTORE_EMULATOR_HOST", host)
	t.Setenv("GOOGLE_CLOUD_PROJECT", "")
	t.Setenv("STRIPE_REFETCH", "false")
	t.Setenv(webhook.SecretKey+"_SECRET_NAME", secretName)
	t.Setenv(webhook.SecretKey, "")

	fn := webhook.NewFunction(billing.SubscriptionEvents, subscriptions.Routes, webhook.WithSecretOptions(
		secrets.WithAccessor(func(ctx context.Context) (secrets.Accessor, io.Closer, error) {
			c, err := sm.NewClient(ctx)
			return c, c, err
		})))
	body := func() []byte {
		ev, err := webhooktest.Captured("subscription.created.json")
		if err != nil {
			t.Fatal(err)
		}
		return ev.JSON()
	}()
	call := func() (int, webhook.Response) {
		w := httptest.NewRecorder()
		fn(w, webhooktest.Request("/", body, webhooktest.Secret, time.Now()))
		var res webhook.Response
		_ = json.Unmarshal(w.Body.Bytes(), &res)
		return w.Code, res
	}

	// No project: the instance cannot be built.
	if code, res := call(); code != http.StatusServiceUnavailable {
		t.Fatalf("misconfigured: %d %+v, want 503", code, res)
	}
	t.Setenv("GOOGLE_CLOUD_PROJECT", firestoretest.Project(t))
	code, res := call()
	if code != http.StatusOK || res.Outcome != billing.Applied {
		t.Fatalf("after the fix: %d %+v, want 200 applied", code, res)
	}
	if sm.Calls() != 1 {
		t.Errorf("Secret Manager called %d times, want once per instance", sm.Calls())
	}
	if code, res := call(); code != http.StatusOK || res.Outcome != billing.Duplicate {
		t.Errorf("again: %d %+v, want 200 duplicate", code, res)
	}
	if sm.Calls() != 1 {
		t.Errorf("Secret Manager called %d times after a second request, want 1", sm.Calls())
	}
}

func TestSettingsFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) (string, bool) {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	cases := []struct {
		name    string
		lookup  func(string) (string, bool)
		wantErr string
		check   func(webhook.Settings) bool
	}{
		{"defaults: refetch on, test mode", env("GOOGLE_CLOUD_PROJECT", "p"), "", func(s webhook.Settings) bool {
			return s.Refetch && !s.Livemode && s.Timeout == webhook.DefaultTimeout
		}},
		{"payload mode and live", env("GOOGLE_CLOUD_PROJECT", "p", "STRIPE_REFETCH", "false", "STRIPE_LIVEMODE", "true"), "", func(s webhook.Settings) bool {
			return !s.Refetch && s.Livemode
		}},
		{"timeout", env("GOOGLE_CLOUD_PROJECT", "p", "WEBHOOK_TIMEOUT", "5s"), "", func(s webhook.Settings) bool { return s.Timeout == 5*time.Second }},
		{"no project", env(), "GOOGLE_CLOUD_PROJECT", nil},
		{"bad boolean", env("GOOGLE_CLOUD_PROJECT", "p", "STRIPE_REFETCH", "nope"), "STRIPE_REFETCH", nil},
		{"bad timeout", env("GOOGLE_CLOUD_PROJECT", "p", "WEBHOOK_TIMEOUT", "-1s"), "WEBHOOK_TIMEOUT", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := webhook.SettingsFromEnv(c.lookup)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Errorf("err = %v, want one naming %s", err, c.wantErr)
				}
				return
			}
			if err != nil || !c.check(s) {
				t.Errorf("settings = %+v, err %v", s, err)
			}
		})
	}
}

// The API key is required exactly when objects are read back from Stripe.
func TestSecretKeysFollowRefetch(t *testing.T) {
	for _, refetch := range []bool{true, false} {
		keys := webhook.Settings{Refetch: refetch}.SecretKeys()
		for _, k := range keys {
			if k.Name == webhook.APIKey && k.Optional == refetch {
				t.Errorf("refetch=%v: API key optional=%v", refetch, k.Optional)
			}
			if k.Name == webhook.SecretKey && k.Optional {
				t.Error("the signing secret must always be required")
			}
		}
	}
}
