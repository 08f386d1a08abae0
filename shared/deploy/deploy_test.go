package deploy

import (
	"bytes"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/courseplatform/billing/functions/checkout"
	"github.com/courseplatform/billing/functions/portal"
	"github.com/courseplatform/billing/functions/webhooks"
	"github.com/courseplatform/billing/shared/frontend"
	"github.com/courseplatform/billing/shared/stripeapi"
	"github.com/courseplatform/billing/shared/webhook"
)

const regenerate = "go generate ./shared/deploy"

func TestCommittedManifestMatchesCode(t *testing.T) {
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	v, err := GoVersion(gomod)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewManifest(v)
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.JSON()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../terraform/functions.json")
	if err != nil {
		t.Fatalf("reading terraform/functions.json: %v; run: %s", err, regenerate)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("terraform/functions.json differs from what shared/deploy and go.mod generate; run: %s\n--- committed\n%s\n--- generated\n%s", regenerate, got, want)
	}
}

func TestRuntimeFollowsGoMod(t *testing.T) {
	for _, c := range []struct{ goLine, want string }{
		{"1.26.0", "go126"},
		{"1.26", "go126"},
		{"1.27.3", "go127"},
	} {
		got, err := Runtime(c.goLine)
		if err != nil || got != c.want {
			t.Errorf("Runtime(%q) = %q, %v; want %q", c.goLine, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "2.0", "1.", "1.x"} {
		if got, err := Runtime(bad); err == nil {
			t.Errorf("Runtime(%q) = %q, want an error", bad, got)
		}
	}
	v, err := GoVersion([]byte("module example.com/m\n\ngo 1.26.0\n\nrequire x v1\n"))
	if err != nil || v != "1.26.0" {
		t.Errorf("GoVersion = %q, %v; want 1.26.0", v, err)
	}
}

// Every function the dev server hosts is deployed, under the same entry
// point and with exactly its group's events.
func TestEveryWebhookIsDeployedWithItsEvents(t *testing.T) {
	deployed := map[string]Function{}
	for _, f := range Functions() {
		deployed[f.EntryPoint] = f
	}
	for _, w := range webhooks.All() {
		f, ok := deployed[w.Group.EntryPoint]
		if !ok {
			t.Errorf("webhook %s is not deployed", w.Group.EntryPoint)
			continue
		}
		if f.Kind != Webhook || !f.Public || !slices.Equal(f.Events, w.Group.Types) {
			t.Errorf("%s deployed as %+v; want a public webhook with events %v", f.EntryPoint, f, w.Group.Types)
		}
		// Each route the function serves is an event its endpoint enables.
		for typ := range w.Routes(stripeapi.Payload{}, time.Now) {
			if !slices.Contains(f.Events, typ) {
				t.Errorf("%s routes %s but its endpoint does not enable it", f.EntryPoint, typ)
			}
		}
	}
}

// A webhook reads its own signing secret and the shared API key, and
// nothing else.
func TestWebhookSecrets(t *testing.T) {
	for _, f := range Functions() {
		if f.Kind != Webhook {
			continue
		}
		want := []Secret{
			{Key: webhook.SecretKey, Env: "STRIPE_WEBHOOK_SECRET_SECRET_NAME", PerFunction: true},
			{Key: webhook.APIKey, Env: "STRIPE_SECRET_KEY_SECRET_NAME", PerFunction: false},
		}
		if !slices.Equal(f.Secrets, want) {
			t.Errorf("%s reads %+v; want %+v", f.Name, f.Secrets, want)
		}
	}
}

func TestManifestRejectsBadFunctions(t *testing.T) {
	for _, c := range []struct {
		name string
		f    Function
	}{
		{"name too long for a service account", Function{Name: "a-name-that-is-far-too-long", EntryPoint: "X", Kind: Frontend}},
		{"upper case name", Function{Name: "Checkout", EntryPoint: "X", Kind: Frontend}},
		{"no entry point", Function{Name: "checkout", Kind: Frontend}},
		{"unknown kind", Function{Name: "checkout", EntryPoint: "X", Kind: "cron"}},
		{"webhook without events", Function{Name: "hooks", EntryPoint: "X", Kind: Webhook}},
		{"frontend with events", Function{Name: "checkout", EntryPoint: "X", Kind: Frontend, Events: []string{"a"}}},
	} {
		if err := c.f.check(); err == nil {
			t.Errorf("%s: check accepted %+v", c.name, c.f)
		}
	}
}

// The frontend functions are deployed under the names their packages
// register, public (they check Firebase ID tokens themselves), reading
// only the API key.
func TestFrontendFunctions(t *testing.T) {
	byEntry := map[string]Function{}
	for _, f := range Functions() {
		byEntry[f.EntryPoint] = f
	}
	want := []Secret{{Key: frontend.APIKey, Env: "STRIPE_SECRET_KEY_SECRET_NAME", PerFunction: false}}
	for _, entry := range []string{checkout.EntryPoint, portal.EntryPoint} {
		f, ok := byEntry[entry]
		if !ok {
			t.Errorf("%s is not deployed", entry)
			continue
		}
		if f.Kind != Frontend || !f.Public || len(f.Events) != 0 || !slices.Equal(f.Secrets, want) {
			t.Errorf("%s deployed as %+v; want a public frontend function reading %+v", entry, f, want)
		}
	}
	if webhook.APIKey != frontend.APIKey {
		t.Errorf("webhooks read the API key as %s, frontends as %s: they must share one secret", webhook.APIKey, frontend.APIKey)
	}
}
