package stripeapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// capturedDir holds the real payloads captured from Stripe; variantDir holds
// copies of some of them with one documented change each.
const (
	capturedDir = "../../testdata/stripe-events"
	variantDir  = "testdata"
)

// payloadOf returns what a decoder is given for a stored file: data.object of
// a complete event envelope, the `object` member of a file that holds an
// event's data member, or else the file itself (a bare object).
func payloadOf(file []byte) ([]byte, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(file, &top); err != nil {
		return nil, err
	}
	if isJSONObject(top["object"]) {
		return top["object"], nil
	}
	if data, ok := top["data"]; ok {
		var d map[string]json.RawMessage
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, err
		}
		if !isJSONObject(d["object"]) {
			return nil, errors.New("event envelope without data.object")
		}
		return d["object"], nil
	}
	return file, nil
}

func isJSONObject(raw json.RawMessage) bool {
	return len(bytes.TrimSpace(raw)) > 0 && bytes.TrimSpace(raw)[0] == '{'
}

// load reads dir/name and returns its payload.
func loadPayload(t testing.TB, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	p, err := payloadOf(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p
}

// jsonFiles lists the *.json file names in dir, sorted.
func jsonFiles(t testing.TB, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no payloads in %s", dir)
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	sort.Strings(names)
	return names
}

// utc builds an expected instant; the allDecoders must return UTC times.
func unixUTC(sec int64) *time.Time {
	tm := time.Unix(sec, 0).UTC()
	return &tm
}

// checkTime compares an optional instant and requires it in UTC.
func checkInstant(t *testing.T, field string, got, want *time.Time) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		t.Errorf("%s = %v, want %v", field, got, want)
	case !got.Equal(*want):
		t.Errorf("%s = %v, want %v", field, got, want)
	case got.Location() != time.UTC:
		t.Errorf("%s = %v is in %v, want UTC", field, got, got.Location())
	}
}
