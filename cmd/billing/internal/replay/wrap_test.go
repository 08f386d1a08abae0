package replay

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestWrapIsDeterministic(t *testing.T) {
	for _, file := range []string{
		"subscription.updated.json",       // has created
		"checkout.session.completed.json", // has no created: derived, not the clock
		"invoice.upcoming.json",           // has no id
	} {
		t.Run(file+" wraps to the same bytes twice", func(t *testing.T) {
			data := readFixture(t, file)
			eventType, err := TypeFromFileName(file)
			if err != nil {
				t.Fatal(err)
			}
			first, err := Wrap(eventType, data, testWrap)
			if err != nil {
				t.Fatal(err)
			}
			second, err := Wrap(eventType, bytes.Clone(data), testWrap)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first.Body, second.Body) || first.ID != second.ID {
				t.Errorf("two wraps differ:\n%s\n%s", first.Body, second.Body)
			}
		})
	}
}

func TestWrapIDsDiffer(t *testing.T) {
	trial := readFixture(t, "subscription.trial_will_end.json")
	tests := []struct {
		name         string
		typeA, typeB string
		dataA, dataB []byte
	}{
		{
			name:  "different files give different ids",
			typeA: "customer.subscription.updated", dataA: readFixture(t, "subscription.updated.json"),
			typeB: "customer.subscription.deleted", dataB: readFixture(t, "subscription.deleted.json"),
		},
		{
			name:  "equal bytes under different types give different ids",
			typeA: "customer.subscription.updated", dataA: trial,
			typeB: "customer.subscription.trial_will_end", dataB: trial,
		},
		{
			name:  "one changed byte gives a different id",
			typeA: "charge.succeeded", dataA: []byte(`{"object": {"id": "ch_1"}}`),
			typeB: "charge.succeeded", dataB: []byte(`{"object": {"id": "ch_2"}}`),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Wrap(tt.typeA, tt.dataA, testWrap)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Wrap(tt.typeB, tt.dataB, testWrap)
			if err != nil {
				t.Fatal(err)
			}
			if a.ID == b.ID {
				t.Errorf("both ids are %s", a.ID)
			}
		})
	}
}

func TestWrapEnvelopeFields(t *testing.T) {
	tests := []struct {
		name         string
		data         string
		opts         WrapOptions
		wantLivemode bool
		wantVersion  string // "null" for none
		wantCreated  int64  // 0: derived
	}{
		{
			name:         "livemode comes from the options, not the object",
			data:         `{"object": {"livemode": true, "created": 1700000000}}`,
			opts:         WrapOptions{APIVersion: "2023-10-16"},
			wantLivemode: false, wantVersion: `"2023-10-16"`, wantCreated: 1700000000,
		},
		{
			name:         "livemode true when asked",
			data:         `{"object": {"livemode": false, "created": 1700000000}}`,
			opts:         WrapOptions{Livemode: true, APIVersion: "2020-08-27"},
			wantLivemode: true, wantVersion: `"2020-08-27"`, wantCreated: 1700000000,
		},
		{
			name:        "no api version gives null",
			data:        `{"object": {"created": 1700000000}}`,
			wantVersion: "null", wantCreated: 1700000000,
		},
		{
			name:        "a created that is a string is not taken",
			data:        `{"object": {"created": "1700000000"}}`,
			wantVersion: "null",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := Wrap("charge.succeeded", []byte(tt.data), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var env struct {
				Livemode   bool            `json:"livemode"`
				APIVersion json.RawMessage `json:"api_version"`
				Created    int64           `json:"created"`
			}
			if err := json.Unmarshal(ev.Body, &env); err != nil {
				t.Fatal(err)
			}
			if env.Livemode != tt.wantLivemode || string(env.APIVersion) != tt.wantVersion {
				t.Errorf("livemode=%v api_version=%s, want %v %s", env.Livemode, env.APIVersion, tt.wantLivemode, tt.wantVersion)
			}
			if tt.wantCreated != 0 && env.Created != tt.wantCreated {
				t.Errorf("created = %d, want %d", env.Created, tt.wantCreated)
			}
			if tt.wantCreated == 0 && (env.Created < createdFallbackBase || env.Created >= createdFallbackBase+createdFallbackSpan) {
				t.Errorf("created = %d, want a derived time in 2020", env.Created)
			}
		})
	}
}

func TestWrapKeepsDataVerbatim(t *testing.T) {
	// json.Marshal of a RawMessage would compact this and escape the "<" and "&".
	data := []byte("{\n  \"object\": {\"description\": \"a <b> & c\", \"created\": 1}\n}\n")
	ev, err := Wrap("charge.succeeded", data, testWrap)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(ev.Body, append([]byte(`"data":`), append(data, '}')...)) {
		t.Errorf("body does not end with the data verbatim:\n%s", ev.Body)
	}
	if !json.Valid(ev.Body) {
		t.Errorf("body is not valid JSON")
	}
}
