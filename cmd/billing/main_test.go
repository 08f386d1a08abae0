package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"
)

const (
	fixtures   = "../../testdata/stripe-events"
	testSecret = "whsec_main_test_secret_abcdef"
)

// receiver verifies each delivery as the webhook does and answers like it:
// applied the first time, duplicate after, or what fail says for a type.
func receiver(t *testing.T, fail map[string]int) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ev, err := webhook.ConstructEventWithOptions(body, r.Header.Get("Stripe-Signature"), testSecret,
			webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if status, ok := fail[string(ev.Type)]; ok {
			http.Error(w, "boom", status)
			return
		}
		mu.Lock()
		outcome := "applied"
		if seen[ev.ID] {
			outcome = "duplicate"
		}
		seen[ev.ID] = true
		mu.Unlock()
		if err := json.NewEncoder(w).Encode(map[string]string{"id": ev.ID, "type": string(ev.Type), "outcome": outcome}); err != nil {
			t.Errorf("receiver: %v", err)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func runCapture(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestRunDispatch(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"no args prints usage on stderr, exit 2", nil, 2, "", "Usage: billing COMMAND"},
		{"help prints usage on stdout, exit 0", []string{"help"}, 0, "replay", ""},
		{"help replay prints replay's flags on stdout", []string{"help", "replay"}, 0, "-concurrency", ""},
		{"replay -h is help, exit 0", []string{"replay", "-h"}, 0, "", "-api-version"},
		{"unknown command is a usage error", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"help for an unknown command is a usage error", []string{"help", "frobnicate"}, 2, "", "Usage: billing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCapture(tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d", code, tt.wantCode)
			}
			if !strings.Contains(stdout, tt.wantStdout) || (tt.wantStdout == "" && stdout != "") {
				t.Errorf("stdout %q, want %q", stdout, tt.wantStdout)
			}
			if !strings.Contains(stderr, tt.wantStderr) || (tt.wantStderr == "" && stderr != "") {
				t.Errorf("stderr %q, want %q", stderr, tt.wantStderr)
			}
		})
	}
}

func TestReplayUsageErrors(t *testing.T) {
	t.Setenv(secretEnv, "")
	file := filepath.Join(fixtures, "charge.succeeded.json")
	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{"no url", []string{"--secret", testSecret, file}, "--url is required"},
		{"url without scheme", []string{"--url", "localhost:8080", "--secret", testSecret, file}, "not an http or https URL"},
		{"no secret and no env", []string{"--url", "http://127.0.0.1:1", file}, "no signing secret"},
		{"empty secret flag", []string{"--url", "http://127.0.0.1:1", "--secret", "", file}, "no signing secret"},
		{"no path", []string{"--url", "http://127.0.0.1:1", "--secret", testSecret}, "no PATH"},
		{"zero concurrency", []string{"--url", "http://127.0.0.1:1", "--secret", testSecret, "--concurrency", "0", file}, "--concurrency"},
		{"unknown flag", []string{"--nope", file}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" exits 2", func(t *testing.T) {
			code, stdout, stderr := runCapture(append([]string{"replay"}, tt.args...)...)
			if code != 2 || !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("exit %d stderr %q, want 2 and %q", code, stderr, tt.wantStderr)
			}
			if strings.Contains(stdout+stderr, testSecret) {
				t.Errorf("output shows the secret")
			}
		})
	}
}

func TestReplayFixtures(t *testing.T) {
	t.Setenv(secretEnv, "")
	tests := []struct {
		name      string
		fail      map[string]int
		wantCode  int
		wantLines []string
	}{
		{
			name:     "all accepted exits 0",
			wantCode: 0,
			wantLines: []string{
				"skip " + filepath.Join(fixtures, "invoice.json") + `: a bare "invoice" object, not an event or its data`,
				"account.updated evt_00000000000000 200 applied",
				"customer.subscription.updated evt_replay_",
				"sent=19 ok=19 failed=0 skipped=1 outcome.applied=19",
			},
		},
		{
			name:     "one 500 exits 1 and its line shows 500",
			fail:     map[string]int{"charge.refunded": http.StatusInternalServerError},
			wantCode: 1,
			wantLines: []string{
				"charge.refunded evt_replay_",
				" 500 boom",
				"sent=19 ok=18 failed=1 skipped=1 outcome.applied=18",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := receiver(t, tt.fail)
			code, stdout, stderr := runCapture("replay", "--url", srv.URL, "--secret", testSecret, fixtures)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr %s", code, tt.wantCode, stderr)
			}
			for _, want := range tt.wantLines {
				if !strings.Contains(stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, stdout)
				}
			}
			if strings.Contains(stdout+stderr, testSecret) || strings.Contains(stdout+stderr, "v1=") {
				t.Errorf("output shows the secret or a signature:\n%s", stdout)
			}
		})
	}
}

func TestReplayTwiceIsDuplicate(t *testing.T) {
	srv := receiver(t, nil)
	file := filepath.Join(fixtures, "subscription.updated.json")
	args := []string{"replay", "--url", srv.URL, "--secret", testSecret, file}
	_, first, _ := runCapture(args...)
	_, second, _ := runCapture(args...)
	if !strings.Contains(first, " 200 applied") || !strings.Contains(second, " 200 duplicate") {
		t.Errorf("first run:\n%s\nsecond run:\n%s\nwant applied then duplicate", first, second)
	}
}

func TestReplaySecretFromEnv(t *testing.T) {
	tests := []struct {
		name, env string
		wantCode  int
	}{
		{"env secret is used when the flag is absent", testSecret, 0},
		{"of a comma-separated list the first is used", testSecret + ",whsec_old", 0},
		{"a wrong env secret is rejected by the receiver", "whsec_wrong," + testSecret, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(secretEnv, tt.env)
			srv := receiver(t, nil)
			code, stdout, stderr := runCapture("replay", "--url", srv.URL, filepath.Join(fixtures, "charge.succeeded.json"))
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.wantCode, stdout, stderr)
			}
			if strings.Contains(stdout+stderr, "whsec_") {
				t.Errorf("output shows a secret:\n%s", stdout)
			}
		})
	}
}

func TestReplayTransportErrorIsERR(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()

	code, stdout, _ := runCapture("replay", "--url", url, "--secret", testSecret, "--timeout", "2s",
		filepath.Join(fixtures, "customer.updated.json"))
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(stdout, "customer.updated evt_replay_") || !strings.Contains(stdout, " ERR ") {
		t.Errorf("output lacks an ERR line:\n%s", stdout)
	}
	if !strings.Contains(stdout, "sent=1 ok=0 failed=1 skipped=0") {
		t.Errorf("summary wrong:\n%s", stdout)
	}
}

func TestReplayConcurrencyKeepsOrder(t *testing.T) {
	// Each answer is slower the earlier its file sorts, so with several in
	// flight the answers come back in reverse.
	dir := t.TempDir()
	const n = 6
	var want []string
	for i := range n {
		name := fmt.Sprintf("invoice.paid_%d.json", i)
		data := fmt.Sprintf(`{"object": {"id": "in_%d", "object": "invoice", "created": %d}}`, i, i)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprintf("invoice.paid_%d", i))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct{ Created int }
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		time.Sleep(time.Duration(n-ev.Created) * 10 * time.Millisecond)
		fmt.Fprint(w, `{"outcome":"applied"}`)
	}))
	t.Cleanup(srv.Close)

	code, stdout, stderr := runCapture("replay", "--url", srv.URL, "--secret", testSecret, "--concurrency", "4", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != n+1 {
		t.Fatalf("%d lines, want %d events and a summary:\n%s", len(lines), n, stdout)
	}
	for i, w := range want {
		if got, _, _ := strings.Cut(lines[i], " "); got != w {
			t.Errorf("line %d is %q, want %s first", i, lines[i], w)
		}
	}
}
