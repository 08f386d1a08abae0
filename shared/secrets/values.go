package secrets

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
)

// Values maps key names to resolved values. It redacts itself when printed
// with fmt, logged with slog or encoded as JSON, so passing it to a logger
// by mistake shows which keys are present, never what they hold.
type Values map[string]string

// Get returns the value of key name, or "" if it has none.
func (v Values) Get(name string) string { return v[name] }

// List splits the value of key name at commas, trims each entry and drops
// empty ones. It exists for values that hold several secrets at once, such
// as two Stripe webhook signing secrets during rotation
// ("whsec_old,whsec_new").
func (v Values) List(name string) []string {
	var out []string
	for _, s := range strings.Split(v[name], ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

const redacted = "[redacted]"

func (v Values) names() []string { return slices.Sorted(maps.Keys(v)) }

// String lists the key names only.
func (v Values) String() string {
	var b strings.Builder
	b.WriteString("secrets.Values{")
	for i, name := range v.names() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(name + ":" + redacted)
	}
	b.WriteString("}")
	return b.String()
}

// GoString lists the key names only, for %#v.
func (v Values) GoString() string { return v.String() }

// Format makes every fmt verb print String. Without it a verb such as %d
// would fall through to fmt's map printing and show the values.
func (v Values) Format(f fmt.State, _ rune) { _, _ = fmt.Fprint(f, v.String()) }

// LogValue gives slog a group of key names with redacted values.
func (v Values) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, len(v))
	for _, name := range v.names() {
		attrs = append(attrs, slog.String(name, redacted))
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON encodes key names with redacted values, so a config struct
// dumped as JSON does not carry secrets with it.
func (v Values) MarshalJSON() ([]byte, error) {
	m := make(map[string]string, len(v))
	for name := range v {
		m[name] = redacted
	}
	return json.Marshal(m)
}
