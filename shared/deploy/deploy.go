// Package deploy lists every function the billing back end deploys, so
// that one Go source decides what Terraform creates: each function's entry
// point, whether anyone may invoke it, the secrets it reads and, for a
// webhook, the Stripe events its endpoint subscribes to.
//
// The list is written to terraform/functions.json (go generate
// ./shared/deploy), which the Terraform reads; a test fails when the
// committed file and this package disagree.
//
// To add a function: register it with the Functions Framework in its own
// package under functions/, import that package from entrypoints.go, add
// it to Functions below (a webhook is added by adding its group to
// billing.Groups), then run go generate ./shared/deploy and commit
// terraform/functions.json. Terraform then gives it its own service
// account, grants it exactly the secrets listed and, for a webhook, makes
// its Stripe endpoint and signing secret.
package deploy

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/frontend"
	"github.com/courseplatform/billing/shared/secrets"
	"github.com/courseplatform/billing/shared/webhook"
)

//go:generate go run ../../cmd/manifest -gomod ../../go.mod -o ../../terraform/functions.json

// Kind says who calls a function.
type Kind string

const (
	// Webhook functions are called by Stripe, each through its own
	// endpoint with its own signing secret.
	Webhook Kind = "webhook"
	// Frontend functions are called by the course platform's web app.
	Frontend Kind = "frontend"
)

// Secret is one key a function reads from Secret Manager.
type Secret struct {
	// Key is the logical name the code asks for, such as
	// STRIPE_SECRET_KEY.
	Key string `json:"key"`
	// Env is the variable that holds the Secret Manager version name.
	Env string `json:"env"`
	// PerFunction secrets exist once per function (a webhook's signing
	// secret belongs to its endpoint); the others are shared by every
	// function that reads them.
	PerFunction bool `json:"per_function"`
}

// Function is one deployable Cloud Run function.
type Function struct {
	// Name is the short name Terraform keys the function by and builds
	// its resource names from.
	Name string `json:"-"`
	// EntryPoint is the name registered with the Functions Framework.
	EntryPoint string `json:"entry_point"`
	Kind       Kind   `json:"kind"`
	// Public functions let anyone invoke them (allUsers) and check the
	// caller themselves: a Stripe signature or a Firebase ID token.
	Public  bool     `json:"public"`
	Secrets []Secret `json:"secrets"`
	// Events are the Stripe event types a webhook's endpoint enables.
	Events []string `json:"events"`
}

// perFunction names the keys that each function holds in its own secret.
var perFunction = map[string]bool{webhook.SecretKey: true}

func secretFor(key string) Secret {
	return Secret{Key: key, Env: key + secrets.SecretNameSuffix, PerFunction: perFunction[key]}
}

// frontends are the functions the web app calls. They are public because
// each verifies the caller's Firebase ID token itself, and they read the
// Stripe API key. The entry points are the names functions/checkout and
// functions/portal register (a test checks them).
var frontends = []Function{
	{Name: "checkout", EntryPoint: "Checkout", Kind: Frontend, Public: true, Secrets: []Secret{secretFor(frontend.APIKey)}},
	{Name: "portal", EntryPoint: "Portal", Kind: Frontend, Public: true, Secrets: []Secret{secretFor(frontend.APIKey)}},
}

// Functions returns every deployable function: one per webhook group, in
// the order of billing.Groups, then the frontend functions.
func Functions() []Function {
	var out []Function
	// A deployed webhook reads objects back from Stripe by default, so it
	// needs the API key as well as its signing secret.
	var keys []Secret
	for _, k := range (webhook.Settings{Refetch: true}).SecretKeys() {
		keys = append(keys, secretFor(k.Name))
	}
	for _, g := range billing.Groups() {
		out = append(out, Function{
			Name:       g.Name,
			EntryPoint: g.EntryPoint,
			Kind:       Webhook,
			Public:     true,
			Secrets:    keys,
			Events:     append([]string(nil), g.Types...),
		})
	}
	for _, f := range frontends {
		f.Secrets = append([]Secret(nil), f.Secrets...)
		out = append(out, f)
	}
	return out
}

// Manifest is what terraform/functions.json holds.
type Manifest struct {
	// GoRuntime is the Cloud Run functions runtime for the module's Go
	// version, such as go126.
	GoRuntime string              `json:"go_runtime"`
	Functions map[string]Function `json:"functions"`
}

// NewManifest builds the manifest for a module whose go.mod has the given
// go line ("1.26.0").
func NewManifest(goVersion string) (Manifest, error) {
	rt, err := Runtime(goVersion)
	if err != nil {
		return Manifest{}, err
	}
	m := Manifest{GoRuntime: rt, Functions: map[string]Function{}}
	for _, f := range Functions() {
		if err := f.check(); err != nil {
			return Manifest{}, err
		}
		// Empty lists, not null, keep the Terraform types uniform.
		if f.Secrets == nil {
			f.Secrets = []Secret{}
		}
		if f.Events == nil {
			f.Events = []string{}
		}
		if _, dup := m.Functions[f.Name]; dup {
			return Manifest{}, fmt.Errorf("deploy: function %q listed twice", f.Name)
		}
		m.Functions[f.Name] = f
	}
	return m, nil
}

// JSON renders the manifest as committed: indented, keys sorted, with a
// final newline.
func (m Manifest) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// A name becomes part of a service account id ("billing-" + name, at most
// 30 characters) and of a function and secret name.
var validName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,19}[a-z0-9]$`)

func (f Function) check() error {
	switch {
	case !validName.MatchString(f.Name):
		return fmt.Errorf("deploy: function name %q must be 2-21 lowercase letters, digits or dashes", f.Name)
	case f.EntryPoint == "":
		return fmt.Errorf("deploy: function %q has no entry point", f.Name)
	case f.Kind != Webhook && f.Kind != Frontend:
		return fmt.Errorf("deploy: function %q has unknown kind %q", f.Name, f.Kind)
	case f.Kind == Webhook && len(f.Events) == 0:
		return fmt.Errorf("deploy: webhook %q enables no events", f.Name)
	case f.Kind != Webhook && len(f.Events) > 0:
		return fmt.Errorf("deploy: only a webhook has events, not %q", f.Name)
	}
	return nil
}

// Runtime maps a go.mod go line to the Cloud Run functions runtime id:
// "1.26.0" and "1.26" give "go126".
func Runtime(goVersion string) (string, error) {
	parts := strings.Split(strings.TrimSpace(goVersion), ".")
	if len(parts) < 2 || parts[0] != "1" || parts[1] == "" {
		return "", fmt.Errorf("deploy: unexpected go version %q", goVersion)
	}
	for _, r := range parts[1] {
		if r < '0' || r > '9' {
			return "", fmt.Errorf("deploy: unexpected go version %q", goVersion)
		}
	}
	return "go1" + parts[1], nil
}

// GoVersion returns the go line of a go.mod file's contents.
func GoVersion(gomod []byte) (string, error) {
	for _, line := range strings.Split(string(gomod), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 2 && fields[0] == "go" {
			return fields[1], nil
		}
	}
	return "", fmt.Errorf("deploy: go.mod has no go line")
}
