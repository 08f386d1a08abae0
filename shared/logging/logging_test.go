package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"testing"
)

func TestLinesAreCloudLoggingJSON(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, "WebhookInvoices")
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("X-Cloud-Trace-Context", "105445aa7843bc8bf206b12000100000/1;o=1")
	log.Warn("slow", Trace(r, "proj"), "event_id", "evt_1")

	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not JSON: %v: %s", err, buf.String())
	}
	want := map[string]any{
		"severity": "WARNING",
		"message":  "slow",
		"function": "WebhookInvoices",
		"event_id": "evt_1",
		TraceKey:   "projects/proj/traces/105445aa7843bc8bf206b12000100000",
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s = %v, want %v", k, line[k], v)
		}
	}
}

func TestTrace(t *testing.T) {
	cases := []struct {
		name, header, value, project, want string
	}{
		{"cloud trace header", "X-Cloud-Trace-Context", "abc/123;o=1", "p", "projects/p/traces/abc"},
		{"w3c traceparent", "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "p", "projects/p/traces/4bf92f3577b34da6a3ce929d0e0e4736"},
		{"no header gives nothing", "", "", "p", ""},
		{"no project gives nothing", "X-Cloud-Trace-Context", "abc/1", "", ""},
		{"malformed traceparent gives nothing", "traceparent", "garbage", "p", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if c.header != "" {
				r.Header.Set(c.header, c.value)
			}
			got := Trace(r, c.project)
			if c.want == "" {
				if !got.Equal(slog.Attr{}) {
					t.Errorf("Trace = %v, want no attribute", got)
				}
				return
			}
			if got.Value.String() != c.want {
				t.Errorf("Trace = %q, want %q", got.Value.String(), c.want)
			}
		})
	}
}
