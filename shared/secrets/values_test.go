package secrets_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/courseplatform/billing/shared/secrets"
)

func TestValuesList(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  []string
	}{
		{"two rotating webhook secrets", "whsec_a,whsec_b", []string{"whsec_a", "whsec_b"}},
		{"entries are trimmed", " whsec_a ,\twhsec_b ", []string{"whsec_a", "whsec_b"}},
		{"empty entries are dropped", ",whsec_a,, ,whsec_b,", []string{"whsec_a", "whsec_b"}},
		{"single value", "whsec_a", []string{"whsec_a"}},
		{"empty value is no entries", "", nil},
		{"only separators is no entries", " , ,", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := secrets.Values{"K": tt.value}
			if got := v.List("K"); !slices.Equal(got, tt.want) {
				t.Errorf("List(%q) = %q; want %q", tt.value, got, tt.want)
			}
		})
	}
	if got := (secrets.Values{}).List("ABSENT"); got != nil {
		t.Errorf("List of an absent key = %q; want nil", got)
	}
}

func TestValuesRedaction(t *testing.T) {
	const value = "sk_test_fake_MUST_NOT_PRINT"
	v := secrets.Values{"STRIPE_SECRET_KEY": value, "STRIPE_WEBHOOK_SECRET": "whsec_MUST_NOT_PRINT"}

	logJSON := func() string {
		var b bytes.Buffer
		slog.New(slog.NewJSONHandler(&b, nil)).Info("config", "values", v)
		return b.String()
	}
	logText := func() string {
		var b bytes.Buffer
		slog.New(slog.NewTextHandler(&b, nil)).Info("config", "values", v)
		return b.String()
	}
	marshal := func() string {
		b, err := json.Marshal(struct{ Values secrets.Values }{v})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	type config struct{ Values secrets.Values }

	tests := []struct {
		name string
		out  string
	}{
		{"String", v.String()},
		{"%v", fmt.Sprintf("%v", v)},
		{"%+v", fmt.Sprintf("%+v", v)},
		{"%#v", fmt.Sprintf("%#v", v)},
		{"%s", fmt.Sprintf("%s", v)},
		{"%q", fmt.Sprintf("%q", v)},
		{"%x", fmt.Sprintf("%x", v)},
		{"%d", fmt.Sprintf("%d", v)},
		{"Sprint", fmt.Sprint(v)},
		{"struct field with %+v", fmt.Sprintf("%+v", config{v})},
		{"slog JSON handler", logJSON()},
		{"slog text handler", logText()},
		{"json.Marshal", marshal()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.Contains(tt.out, "MUST_NOT_PRINT") {
				t.Errorf("output %q contains a secret value", tt.out)
			}
			for _, name := range []string{"STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"} {
				if !strings.Contains(tt.out, name) {
					t.Errorf("output %q lacks key name %s; want names kept for debugging", tt.out, name)
				}
			}
		})
	}
	if got, want := v.String(), "secrets.Values{STRIPE_SECRET_KEY:[redacted], STRIPE_WEBHOOK_SECRET:[redacted]}"; got != want {
		t.Errorf("String() = %q; want %q", got, want)
	}
}
