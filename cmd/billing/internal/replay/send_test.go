package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"
)

const testSecret = "whsec_test_replay_secret_0123456789"

// delivery is what a test receiver saw.
type delivery struct {
	body        []byte
	signature   string
	contentType string
	userAgent   string
}

// recorder is a receiver that keeps what it is sent and answers with answer.
func recorder(t *testing.T, answer http.HandlerFunc) (*httptest.Server, func() []delivery) {
	t.Helper()
	var mu sync.Mutex
	var got []delivery
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, delivery{body, r.Header.Get("Stripe-Signature"), r.Header.Get("Content-Type"), r.Header.Get("User-Agent")})
		mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []delivery {
		mu.Lock()
		defer mu.Unlock()
		return append([]delivery(nil), got...)
	}
}

func applied(w http.ResponseWriter, _ *http.Request) {
	fmt.Fprint(w, `{"outcome":"applied"}`)
}

func loadFixtures(t *testing.T) []Event {
	t.Helper()
	events, _, err := LoadEvents([]string{fixtures}, testWrap)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func TestSendSignsLikeStripe(t *testing.T) {
	srv, received := recorder(t, applied)
	events := loadFixtures(t)
	results := Send(context.Background(), srv.Client(), Endpoint{URL: srv.URL, Secret: testSecret}, events, SendOptions{})

	got := received()
	if len(got) != len(events) {
		t.Fatalf("receiver got %d deliveries, want %d", len(got), len(events))
	}
	for i, d := range got {
		ev := events[i]
		t.Run(ev.Type+" verifies with the secret and not without", func(t *testing.T) {
			if !results[i].OK() || results[i].Outcome != "applied" {
				t.Errorf("result = %s, want 200 applied", results[i].Line())
			}
			opts := webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true}
			parsed, err := webhook.ConstructEventWithOptions(d.body, d.signature, testSecret, opts)
			if err != nil {
				t.Fatalf("ConstructEventWithOptions with the secret: %v", err)
			}
			if string(parsed.Type) != ev.Type || parsed.ID != ev.ID {
				t.Errorf("receiver parsed %s %s, want %s %s", parsed.Type, parsed.ID, ev.Type, ev.ID)
			}
			if _, err := webhook.ConstructEventWithOptions(d.body, d.signature, "whsec_another", opts); err == nil {
				t.Errorf("signature verified with another secret")
			}
			if d.contentType != "application/json; charset=utf-8" || d.userAgent != UserAgent {
				t.Errorf("Content-Type %q, User-Agent %q", d.contentType, d.userAgent)
			}
		})
	}
}

func TestSendResults(t *testing.T) {
	events := []Event{{Type: "invoice.paid", ID: "evt_1", Body: []byte(`{}`)}}
	long := strings.Repeat("x", 500)
	tests := []struct {
		name        string
		answer      http.HandlerFunc
		wantOK      bool
		wantStatus  int
		wantOutcome string
		wantSnippet string
	}{
		{
			name:   "2xx with outcome is ok and shows the outcome",
			answer: func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `{"id":"evt_1","outcome":"duplicate"}`) },
			wantOK: true, wantStatus: 200, wantOutcome: "duplicate",
		},
		{
			name: "500 fails and shows the body on one line",
			answer: func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "firestore:\n  unavailable", http.StatusInternalServerError)
			},
			wantStatus: 500, wantSnippet: "firestore: unavailable",
		},
		{
			name: "a 400 with an outcome fails and shows the outcome",
			answer: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, `{"outcome":"rejected"}`)
			},
			wantStatus: 400, wantOutcome: "rejected",
		},
		{
			name:       "a redirect is not followed and fails",
			answer:     func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) },
			wantStatus: 302, wantSnippet: "(empty body)",
		},
		{
			name:   "an empty 204 is ok",
			answer: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) },
			wantOK: true, wantStatus: 204, wantSnippet: "(empty body)",
		},
		{
			name:   "a long body is cut to 120 characters",
			answer: func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, long) },
			wantOK: true, wantStatus: 200, wantSnippet: long[:119] + "…",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := recorder(t, tt.answer)
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			r := Send(context.Background(), client, Endpoint{URL: srv.URL, Secret: testSecret}, events, SendOptions{})[0]
			if r.OK() != tt.wantOK || r.Status != tt.wantStatus || r.Outcome != tt.wantOutcome || r.Snippet != tt.wantSnippet {
				t.Errorf("got ok=%v %d outcome=%q snippet=%q\nwant ok=%v %d outcome=%q snippet=%q",
					r.OK(), r.Status, r.Outcome, r.Snippet, tt.wantOK, tt.wantStatus, tt.wantOutcome, tt.wantSnippet)
			}
			if want := fmt.Sprintf("invoice.paid evt_1 %d ", tt.wantStatus); !strings.HasPrefix(r.Line(), want) {
				t.Errorf("line %q, want it to start %q", r.Line(), want)
			}
		})
	}
}

func TestSendTransportErrorIsERR(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now

	events := []Event{{Type: "invoice.paid", ID: "evt_1", Body: []byte(`{}`)}}
	r := Send(context.Background(), http.DefaultClient, Endpoint{URL: url, Secret: testSecret}, events, SendOptions{})[0]
	if r.Err == nil || r.OK() {
		t.Fatalf("result %s, want a transport error", r.Line())
	}
	if !strings.HasPrefix(r.Line(), "invoice.paid evt_1 ERR ") {
		t.Errorf("line %q, want an ERR line", r.Line())
	}
}

func TestSendKeepsInputOrder(t *testing.T) {
	const n = 8
	var events []Event
	for i := range n {
		events = append(events, Event{Type: "invoice.paid", ID: fmt.Sprintf("evt_%d", i), Body: fmt.Appendf(nil, `{"n":%d}`, i)})
	}
	for _, concurrency := range []int{1, 4} {
		t.Run(fmt.Sprintf("concurrency %d reports in input order", concurrency), func(t *testing.T) {
			var mu sync.Mutex
			inFlight, maxInFlight := 0, 0
			srv, received := recorder(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				inFlight++
				maxInFlight = max(maxInFlight, inFlight)
				mu.Unlock()
				// Earlier events answer later, so they finish in reverse.
				var ev struct{ N int }
				if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
					t.Errorf("receiver: %v", err)
				}
				time.Sleep(time.Duration(n-ev.N) * 5 * time.Millisecond)
				mu.Lock()
				inFlight--
				mu.Unlock()
				applied(w, r)
			})
			var progress []string
			results := Send(context.Background(), srv.Client(), Endpoint{URL: srv.URL, Secret: testSecret}, events,
				SendOptions{Concurrency: concurrency, Progress: func(r Result) { progress = append(progress, r.Event.ID) }})
			for i, r := range results {
				if r.Event.ID != events[i].ID || progress[i] != events[i].ID {
					t.Fatalf("result %d is %s, progress %s, want %s", i, r.Event.ID, progress[i], events[i].ID)
				}
			}
			if concurrency == 1 {
				if maxInFlight != 1 {
					t.Errorf("%d deliveries in flight at once, want 1", maxInFlight)
				}
				for i, d := range received() {
					if string(d.body) != string(events[i].Body) {
						t.Errorf("delivery %d was %s, want %s: concurrency 1 must send in order", i, d.body, events[i].Body)
					}
				}
			}
			if concurrency > 1 && maxInFlight < 2 {
				t.Errorf("at most %d delivery in flight, want concurrency", maxInFlight)
			}
		})
	}
}

func TestSendNeverShowsSecretOrSignature(t *testing.T) {
	// A debugging receiver that echoes what it was given.
	srv, received := recorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, "bad signature %s for secret %s", r.Header.Get("Stripe-Signature"), testSecret)
	})
	events := []Event{{Type: "invoice.paid", ID: "evt_1", Body: []byte(`{}`)}}
	r := Send(context.Background(), srv.Client(), Endpoint{URL: srv.URL, Secret: testSecret}, events, SendOptions{})[0]

	signature := received()[0].signature
	_, v1, _ := strings.Cut(signature, "v1=")
	line := r.Line()
	if strings.Contains(line, testSecret) || strings.Contains(line, v1) {
		t.Errorf("line shows the secret or signature: %s", line)
	}
	if !strings.Contains(line, "[secret]") || !strings.Contains(line, "[signature]") {
		t.Errorf("line %q, want the echoed values replaced by marks", line)
	}
}

func TestSummary(t *testing.T) {
	results := []Result{
		{Status: 200, Outcome: "applied"},
		{Status: 200, Outcome: "applied"},
		{Status: 200, Outcome: "duplicate"},
		{Status: 500, Outcome: "failed"},
		{Status: 502, Snippet: "bad gateway"},
		{Err: fmt.Errorf("connection refused")},
	}
	got := Summarize(results, []Skip{{File: "invoice.json"}}).String()
	want := "sent=6 ok=3 failed=3 skipped=1 outcome.applied=2 outcome.duplicate=1 outcome.failed=1"
	if got != want {
		t.Errorf("summary\n got %s\nwant %s", got, want)
	}
}
