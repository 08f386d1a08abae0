// Package webhooktest builds Stripe events and signs them the way Stripe
// does, for tests of the webhook functions.
package webhooktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	stripewebhook "github.com/stripe/stripe-go/v76/webhook"
)

// Secret is an obviously fake signing secret for tests.
const Secret = "whsec_test_fake_0000000000000000"

// Event is an event envelope around a data member.
type Event struct {
	ID         string
	Type       string
	Created    int64
	Livemode   bool
	APIVersion string
	// Data is the event's data member: {"object": {...}} and maybe
	// previous_attributes.
	Data json.RawMessage
}

// JSON renders the envelope as Stripe sends it.
func (e Event) JSON() []byte {
	if e.APIVersion == "" {
		e.APIVersion = "2023-10-16"
	}
	if e.Created == 0 {
		e.Created = 1700000000
	}
	b, err := json.Marshal(map[string]any{
		"id":               e.ID,
		"object":           "event",
		"api_version":      e.APIVersion,
		"created":          e.Created,
		"livemode":         e.Livemode,
		"pending_webhooks": 1,
		"type":             e.Type,
		"data":             e.Data,
	})
	if err != nil {
		panic(err) // Data is raw JSON the caller made; a failure is a bug in the test
	}
	return b
}

// Object wraps a Stripe object as an event's data member.
func Object(obj string) json.RawMessage {
	return json.RawMessage(`{"object":` + obj + `}`)
}

// Header returns the Stripe-Signature header for body signed with secret at t.
func Header(body []byte, secret string, t time.Time) string {
	return stripewebhook.GenerateTestSignedPayload(&stripewebhook.UnsignedPayload{
		Payload:   body,
		Secret:    secret,
		Timestamp: t,
	}).Header
}

// Request returns a POST of body signed with secret at t.
func Request(target string, body []byte, secret string, t time.Time) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	r.Header.Set("Stripe-Signature", Header(body, secret, t))
	return r
}

// CapturedDir returns the folder of captured Stripe payloads in the
// repository's testdata.
func CapturedDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "stripe-events")
}

// Captured reads a captured payload file and returns it as an event of the
// type its name says (subscription.* files are customer.subscription.*). It
// fails for files that are not a data member.
func Captured(name string) (Event, error) {
	b, err := os.ReadFile(filepath.Join(CapturedDir(), name))
	if err != nil {
		return Event{}, err
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return Event{}, fmt.Errorf("%s: %w", name, err)
	}
	if o := probe["object"]; len(o) == 0 || o[0] != '{' {
		return Event{}, fmt.Errorf("%s is not an event's data member", name)
	}
	typ := strings.TrimSuffix(name, ".json")
	if strings.HasPrefix(typ, "subscription.") {
		typ = "customer." + typ
	}
	return Event{ID: "evt_" + strings.NewReplacer(".", "_").Replace(typ), Type: typ, Data: b}, nil
}
