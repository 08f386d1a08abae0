package replay

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fixtures are the captured real Stripe payloads; see their README.
const fixtures = "../../../../testdata/stripe-events"

var testWrap = WrapOptions{APIVersion: "2023-10-16"}

// wrappedEnvelope is what a receiver decodes from a wrapped event.
type wrappedEnvelope struct {
	ID              string          `json:"id"`
	Object          string          `json:"object"`
	APIVersion      *string         `json:"api_version"`
	Created         int64           `json:"created"`
	Livemode        bool            `json:"livemode"`
	PendingWebhooks int             `json:"pending_webhooks"`
	Request         json.RawMessage `json:"request"`
	Type            string          `json:"type"`
	Data            json.RawMessage `json:"data"`
}

func TestClassifyCapturedFixtures(t *testing.T) {
	const (
		asIs = "sent as is"
		wrap = "wrapped"
		skip = "skipped"
	)
	tests := []struct {
		file     string
		want     string
		wantType string
		wantID   string
	}{
		{"account.updated.json", asIs, "account.updated", "evt_00000000000000"},
		{"charge.refunded.json", wrap, "charge.refunded", ""},
		{"charge.succeeded.json", wrap, "charge.succeeded", ""},
		{"charge.updated.json", wrap, "charge.updated", ""},
		{"checkout.session.completed.json", wrap, "checkout.session.completed", ""},
		{"customer.deleted.json", wrap, "customer.deleted", ""},
		{"customer.updated.json", wrap, "customer.updated", ""},
		{"invoice.json", skip, "", ""},
		{"invoice.payment_action_required.json", wrap, "invoice.payment_action_required", ""},
		{"invoice.payment_failed.json", wrap, "invoice.payment_failed", ""},
		{"invoice.upcoming.json", wrap, "invoice.upcoming", ""},
		{"invoice.updated.json", wrap, "invoice.updated", ""},
		{"payment_method.attached.json", wrap, "payment_method.attached", ""},
		{"payment_method.detached.json", wrap, "payment_method.detached", ""},
		{"payment_method.updated.json", wrap, "payment_method.updated", ""},
		{"subscription.created.json", wrap, "customer.subscription.created", ""},
		{"subscription.deleted.json", wrap, "customer.subscription.deleted", ""},
		{"subscription.trial_ended.json", wrap, "customer.subscription.trial_ended", ""},
		{"subscription.trial_will_end.json", wrap, "customer.subscription.trial_will_end", ""},
		{"subscription.updated.json", wrap, "customer.subscription.updated", ""},
	}

	// A fixture added later must be classified here too.
	onDisk, err := filepath.Glob(filepath.Join(fixtures, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, tt := range tests {
		listed = append(listed, filepath.Join(fixtures, tt.file))
	}
	if !slices.Equal(onDisk, listed) {
		t.Fatalf("fixtures on disk %v, table lists %v", onDisk, listed)
	}

	for _, tt := range tests {
		t.Run(tt.file+" is "+tt.want, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(fixtures, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			ev, err := Classify(tt.file, data, testWrap)
			if tt.want == skip {
				if err == nil {
					t.Fatalf("Classify = %s event, want a skip", ev.Type)
				}
				return
			}
			if err != nil {
				t.Fatalf("Classify: %v, want %s", err, tt.want)
			}
			if ev.Type != tt.wantType {
				t.Errorf("type = %q, want %q", ev.Type, tt.wantType)
			}
			if tt.want == asIs {
				if !bytes.Equal(ev.Body, data) || ev.Wrapped {
					t.Errorf("body changed or marked wrapped; a full event must go out byte for byte")
				}
				if ev.ID != tt.wantID {
					t.Errorf("id = %q, want %q", ev.ID, tt.wantID)
				}
				return
			}

			var env wrappedEnvelope
			if err := json.Unmarshal(ev.Body, &env); err != nil {
				t.Fatalf("wrapped body is not JSON: %v", err)
			}
			if !ev.Wrapped || env.Object != "event" || env.Type != tt.wantType || env.ID != ev.ID {
				t.Errorf("envelope object=%q type=%q id=%q (event id %q), want event/%s", env.Object, env.Type, env.ID, ev.ID, tt.wantType)
			}
			if !strings.HasPrefix(env.ID, IDPrefix) || len(env.ID) != len(IDPrefix)+24 {
				t.Errorf("id = %q, want %s + 24 hex", env.ID, IDPrefix)
			}
			if !bytes.HasSuffix(ev.Body, append([]byte(`,"data":`), append(data, '}')...)) {
				t.Errorf("data is not the file verbatim")
			}
			if env.Livemode {
				t.Errorf("livemode = true; the object's livemode must not leak into our test-mode envelope")
			}
			if env.APIVersion == nil || *env.APIVersion != "2023-10-16" || env.PendingWebhooks != 1 {
				t.Errorf("api_version=%v pending_webhooks=%d, want 2023-10-16 and 1", env.APIVersion, env.PendingWebhooks)
			}
			if string(env.Request) != `{"id":null,"idempotency_key":null}` {
				t.Errorf("request = %s", env.Request)
			}
			var member struct {
				Object struct {
					Created *int64 `json:"created"`
				} `json:"object"`
			}
			if err := json.Unmarshal(data, &member); err != nil {
				t.Fatal(err)
			}
			if member.Object.Created != nil && env.Created != *member.Object.Created {
				t.Errorf("created = %d, want the object's %d", env.Created, *member.Object.Created)
			}
			if member.Object.Created == nil && (env.Created < createdFallbackBase || env.Created >= createdFallbackBase+createdFallbackSpan) {
				t.Errorf("created = %d, want a derived time in 2020 when the object has none", env.Created)
			}
		})
	}
}

func TestClassifySkipsWhatIsNotAnEvent(t *testing.T) {
	tests := []struct {
		name, file, data, wantReason string
	}{
		{"invalid JSON is skipped", "charge.succeeded.json", `{"object": {`, "not a JSON object"},
		{"an array is skipped", "charge.succeeded.json", `[{"object": {}}]`, "not a JSON object"},
		{"a bare API object is skipped", "customer.json", `{"id": "cus_1", "object": "customer"}`, `bare "customer" object`},
		{"an event without a type is skipped", "x.json", `{"id": "evt_1", "object": "event"}`, `without a "type"`},
		{"no object member is skipped", "charge.succeeded.json", `{"id": "ch_1"}`, `no top-level "object"`},
		{"an object member that is a number is skipped", "charge.succeeded.json", `{"object": 1}`, "neither a string nor an object"},
		{"data with other members is skipped", "charge.succeeded.json", `{"object": {}, "type": "x"}`, `unexpected top-level member "type"`},
		{"data in a file not named for a type is skipped", "Charge Succeeded.json", `{"object": {}}`, "is not an event type"},
		{"data in a file without .json is skipped", "charge.succeeded.txt", `{"object": {}}`, "NAME.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := Classify(tt.file, []byte(tt.data), testWrap)
			if err == nil {
				t.Fatalf("Classify = %s event, want skip %q", ev.Type, tt.wantReason)
			}
			if !strings.Contains(err.Error(), tt.wantReason) {
				t.Errorf("reason = %q, want it to mention %q", err, tt.wantReason)
			}
		})
	}
}

func TestClassifySendsAnyFullEventAsIs(t *testing.T) {
	data := []byte(`{"object":"event","type":"invoice.paid","data":{"object":{}}}`)
	ev, err := Classify("whatever.txt", data, testWrap)
	if err != nil {
		t.Fatalf("Classify: %v, want a full event whatever the file name", err)
	}
	if ev.Type != "invoice.paid" || ev.ID != "" || !bytes.Equal(ev.Body, data) {
		t.Errorf("got type=%q id=%q body=%s, want invoice.paid, no id, body unchanged", ev.Type, ev.ID, ev.Body)
	}
}

func TestLoadEvents(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("b.invoice.paid.json", `{"object": {"id": "in_1", "object": "invoice"}}`)
	write("a.charge.succeeded.json", `{"object": {"id": "ch_1", "object": "charge"}}`)
	write("invoice.json", `{"id": "in_1", "object": "invoice"}`)
	write("README.md", "# not an event")
	write("notes.txt", "{}")
	if err := os.Mkdir(filepath.Join(dir, "nested.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "nested.json", "charge.failed.json"), []byte(`{"object": {}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	single := filepath.Join(fixtures, "account.updated.json")

	tests := []struct {
		name      string
		paths     []string
		wantTypes []string
		wantSkips []string
		wantErr   bool
	}{
		{
			name:      "a folder gives its *.json files sorted by name, not recursively",
			paths:     []string{dir},
			wantTypes: []string{"a.charge.succeeded", "b.invoice.paid"},
			wantSkips: []string{filepath.Join(dir, "invoice.json")},
		},
		{
			name:      "files and folders keep argument order",
			paths:     []string{single, dir},
			wantTypes: []string{"account.updated", "a.charge.succeeded", "b.invoice.paid"},
			wantSkips: []string{filepath.Join(dir, "invoice.json")},
		},
		{
			name:    "a missing path is an error",
			paths:   []string{filepath.Join(dir, "missing.json")},
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, skips, err := LoadEvents(tt.paths, testWrap)
			if tt.wantErr {
				if err == nil {
					t.Fatal("LoadEvents succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var types, skipped []string
			for _, e := range events {
				types = append(types, e.Type)
			}
			for _, s := range skips {
				skipped = append(skipped, s.File)
			}
			if !slices.Equal(types, tt.wantTypes) {
				t.Errorf("types = %v, want %v", types, tt.wantTypes)
			}
			if !slices.Equal(skipped, tt.wantSkips) {
				t.Errorf("skipped = %v, want %v", skipped, tt.wantSkips)
			}
		})
	}
}

func TestTypeFromFileName(t *testing.T) {
	tests := []struct{ name, want string }{
		{"invoice.paid.json", "invoice.paid"},
		{"subscription.updated.json", "customer.subscription.updated"},
		{"customer.subscription.updated.json", "customer.subscription.updated"},
		{"some/dir/checkout.session.completed.json", "checkout.session.completed"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is "+tt.want, func(t *testing.T) {
			got, err := TypeFromFileName(tt.name)
			if err != nil || got != tt.want {
				t.Errorf("TypeFromFileName = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
