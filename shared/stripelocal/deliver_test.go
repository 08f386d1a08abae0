package stripelocal

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	stripewebhook "github.com/stripe/stripe-go/v76/webhook"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/stripeapi"
)

const testSecret = "whsec_stripelocal_test"

// received is one verified delivery.
type received struct {
	id, typ, version string
	body             []byte
}

// receiver verifies signatures the way the webhook functions do and
// records what arrives. answer decides the status of each request.
type receiver struct {
	mu     sync.Mutex
	got    []received
	bad    int
	secret string
	answer func(r received, n int) int // n: copies of this id so far, this one included
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ev, err := stripewebhook.ConstructEventWithOptions(body, r.Header.Get("Stripe-Signature"), rc.secret,
		stripewebhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
	rc.mu.Lock()
	if err != nil {
		rc.bad++
		rc.mu.Unlock()
		http.Error(w, "bad signature", http.StatusBadRequest)
		return
	}
	got := received{id: ev.ID, typ: string(ev.Type), version: ev.APIVersion, body: body}
	rc.got = append(rc.got, got)
	n := 0
	for _, g := range rc.got {
		if g.id == got.id {
			n++
		}
	}
	answer := rc.answer
	rc.mu.Unlock()
	status := http.StatusOK
	if answer != nil {
		status = answer(got, n)
	}
	w.WriteHeader(status)
}

func (rc *receiver) ids() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := make([]string, len(rc.got))
	for i, g := range rc.got {
		out[i] = g.id
	}
	return out
}

// history builds a small account with some of everything and returns it
// with its events queued for ep.
func history(t *testing.T, seed int64, eps ...Endpoint) *Stripe {
	t.Helper()
	s := New(Options{Seed: seed})
	for _, ep := range eps {
		s.AddEndpoint(ep)
	}
	h := harnessOn(t, s, sessionSpec{})
	if _, err := s.CompleteCheckout(h.cs, OutcomePaid); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPaymentFails(h.cus, true); err != nil {
		t.Fatal(err)
	}
	s.Advance(month + 4*day)
	if _, err := s.Recover(h.latestInvoice()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CancelAtPeriodEnd(h.sub().ID); err != nil {
		t.Fatal(err)
	}
	s.Advance(month)
	return s
}

func TestDeliverSigned(t *testing.T) {
	good := &receiver{secret: testSecret}
	wrong := &receiver{secret: "whsec_someone_else"}
	gs, ws := httptest.NewServer(good), httptest.NewServer(wrong)
	defer gs.Close()
	defer ws.Close()
	s := history(t, 1, Endpoint{URL: gs.URL, Secret: testSecret}, Endpoint{URL: ws.URL, Secret: testSecret})

	rep := s.Deliver(context.Background(), DeliveryOptions{MaxAttempts: 2})

	var want []string
	for _, e := range s.Events() {
		want = append(want, e.ID)
	}
	if got := good.ids(); !slices.Equal(got, want) {
		t.Errorf("verified deliveries %v, want every event once in order %v", got, want)
	}
	if wrong.bad != 2*len(want) || len(rep.Failures) != len(want) || rep.ByStatus[400] != 2*len(want) {
		t.Errorf("receiver with another secret: %d rejected, %d failures, statuses %v; want each event rejected twice",
			wrong.bad, len(rep.Failures), rep.ByStatus)
	}
	if s.Pending() != 0 {
		t.Errorf("%d deliveries still queued", s.Pending())
	}
	for _, g := range good.got {
		if g.version != APIVersion {
			t.Errorf("%s rendered at %s", g.id, g.version)
		}
	}
}

func TestDeliverChaos(t *testing.T) {
	tests := []struct {
		name       string
		opts       DeliveryOptions
		wantCopies func(events, copies int) bool
		wantOrder  string // "emitted" or "shuffled"
	}{
		{name: "no chaos: each event once, in order", opts: DeliveryOptions{Seed: 5},
			wantCopies: func(e, c int) bool { return c == e }, wantOrder: "emitted"},
		{name: "duplicates always: three copies each", opts: DeliveryOptions{Seed: 5, Duplicates: 1},
			wantCopies: func(e, c int) bool { return c == 3*e }, wantOrder: "emitted"},
		{name: "some duplicates, shuffled", opts: DeliveryOptions{Seed: 5, Duplicates: 0.5, Shuffle: true},
			wantCopies: func(e, c int) bool { return c > e && c <= 3*e }, wantOrder: "shuffled"},
		{name: "shuffled with delays", opts: DeliveryOptions{Seed: 6, Shuffle: true, MaxDelay: time.Millisecond},
			wantCopies: func(e, c int) bool { return c == e }, wantOrder: "shuffled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var runs [2][]string
			var plans [2][]Planned
			var emitted []string
			for i := range runs {
				rc := &receiver{secret: testSecret}
				srv := httptest.NewServer(rc)
				s := history(t, 11, Endpoint{URL: srv.URL, Secret: testSecret})
				rep := s.Deliver(context.Background(), tt.opts)
				srv.Close()
				runs[i], plans[i] = rc.ids(), rep.Plan
				emitted = EventTypes(s.Events())
				for j := range plans[i] {
					plans[i][j].Endpoint = "" // the test server's port differs between runs
				}
				if !tt.wantCopies(len(s.Events()), len(runs[i])) {
					t.Errorf("%d deliveries of %d events", len(runs[i]), len(s.Events()))
				}
				counts := map[string]int{}
				for _, id := range runs[i] {
					counts[id]++
				}
				if len(counts) != len(s.Events()) {
					t.Errorf("%d distinct events delivered, want %d", len(counts), len(s.Events()))
				}
			}
			if !reflect.DeepEqual(plans[0], plans[1]) || !slices.Equal(runs[0], runs[1]) {
				t.Errorf("same seed, different deliveries:\n%v\n%v", runs[0], runs[1])
			}
			var planned []string
			for _, p := range plans[0] {
				if p.Copy == 1 {
					planned = append(planned, p.EventType)
				}
			}
			if inOrder := slices.Equal(planned, emitted); inOrder != (tt.wantOrder == "emitted") {
				t.Errorf("planned order %v, emitted %v: want %s", planned, emitted, tt.wantOrder)
			}
		})
	}
}

func TestDeliverConcurrently(t *testing.T) {
	const concurrency = 4
	release := make(chan struct{})
	var mu sync.Mutex
	inFlight, most := 0, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		if inFlight == concurrency {
			close(release)
		}
		mu.Unlock()
		// Each request waits until `concurrency` are in flight together;
		// the timer only keeps a broken sender from hanging the test.
		select {
		case <-release:
		case <-time.After(20 * time.Second):
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
	}))
	defer srv.Close()
	s := history(t, 2, Endpoint{URL: srv.URL, Secret: testSecret})
	rep := s.Deliver(context.Background(), DeliveryOptions{Concurrency: concurrency})
	if most != concurrency {
		t.Errorf("at most %d deliveries in flight, want %d", most, concurrency)
	}
	if len(rep.Failures) != 0 {
		t.Errorf("failures: %v", rep.Failures)
	}
}

func TestDeliverRetries(t *testing.T) {
	tests := []struct {
		name         string
		answer       func(r received, n int) int
		attempts     int
		wantPerEvent int
		wantFailures bool
	}{
		{name: "503 then 200: retried once, delivered", answer: func(_ received, n int) int {
			if n == 1 {
				return http.StatusServiceUnavailable
			}
			return http.StatusOK
		}, attempts: 3, wantPerEvent: 2},
		{name: "always 500: tried MaxAttempts times, reported", answer: func(received, int) int { return 500 },
			attempts: 3, wantPerEvent: 3, wantFailures: true},
		{name: "a 2xx other than 200 is success", answer: func(received, int) int { return http.StatusAccepted },
			attempts: 3, wantPerEvent: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &receiver{secret: testSecret, answer: tt.answer}
			srv := httptest.NewServer(rc)
			defer srv.Close()
			s := history(t, 3, Endpoint{URL: srv.URL, Secret: testSecret})
			n := len(s.Events())
			rep := s.Deliver(context.Background(), DeliveryOptions{MaxAttempts: tt.attempts, Concurrency: 2})
			if got := len(rc.ids()); got != n*tt.wantPerEvent || len(rep.Attempts) != got {
				t.Errorf("%d requests (%d attempts reported), want %d", got, len(rep.Attempts), n*tt.wantPerEvent)
			}
			if (len(rep.Failures) == n) != tt.wantFailures || (!tt.wantFailures && len(rep.Failures) != 0) {
				t.Errorf("%d failures of %d events", len(rep.Failures), n)
			}
			for _, f := range rep.Failures {
				if f.Attempt != tt.attempts || f.OK() {
					t.Errorf("failure %+v", f)
				}
			}
		})
	}
}

// TestDeliverAtEndpointVersion sends the invoice group's events to an
// endpoint at 2025-03-31.basil: only those types arrive, in the new shape,
// and the project's decoders read the same documents from them as from the
// 2023-10-16 rendering.
func TestDeliverAtEndpointVersion(t *testing.T) {
	rc := &receiver{secret: testSecret}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	s := history(t, 4, Endpoint{URL: srv.URL, Secret: testSecret, APIVersion: BasilVersion,
		EnabledEvents: billing.InvoiceEvents.Types})
	s.Deliver(context.Background(), DeliveryOptions{})

	byID := map[string]Event{}
	want := 0
	for _, e := range s.Events() {
		byID[e.ID] = e
		if billing.InvoiceEvents.Owns(e.Type) {
			want++
		}
	}
	if len(rc.got) != want || want == 0 {
		t.Fatalf("%d deliveries, want the %d invoice events", len(rc.got), want)
	}
	for _, g := range rc.got {
		if !billing.InvoiceEvents.Owns(g.typ) || g.version != BasilVersion {
			t.Errorf("%s %s at %s", g.id, g.typ, g.version)
		}
		newer, err := stripewebhook.ConstructEventWithOptions(g.body, stripewebhook.GenerateTestSignedPayload(
			&stripewebhook.UnsignedPayload{Payload: g.body, Secret: testSecret, Timestamp: time.Now()}).Header, testSecret,
			stripewebhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := newer.Data.Object["paid"]; ok || newer.Data.Object["parent"] == nil {
			t.Errorf("%s is not in the basil shape", g.id)
		}
		fromNew, err1 := stripeapi.DecodeInvoice(newer.Data.Raw)
		fromOld, err2 := stripeapi.DecodeInvoice(byID[g.id].Object)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(fromNew, fromOld) {
			t.Errorf("%s %s decodes differently by version:\n%+v\n%+v (%v %v)", g.id, g.typ, fromNew, fromOld, err1, err2)
		}
	}
}

func TestStream(t *testing.T) {
	rc := &receiver{secret: testSecret}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	s := New(Options{})
	s.AddEndpoint(Endpoint{URL: srv.URL, Secret: testSecret})
	ctx, cancel := context.WithCancel(context.Background())
	attempts := make(chan Attempt, 100)
	done := make(chan error)
	go func() { done <- s.Stream(ctx, DeliveryOptions{OnAttempt: func(a Attempt) { attempts <- a }}) }()

	h := harnessOn(t, s, sessionSpec{})
	if _, err := s.CompleteCheckout(h.cs, OutcomePaid); err != nil {
		t.Fatal(err)
	}
	want := len(s.Events())
	for i := 0; i < want; i++ {
		select {
		case a := <-attempts:
			if !a.OK() {
				t.Errorf("attempt %v", a)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("only %d of %d events streamed", i, want)
		}
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Stream returned %v", err)
	}
}
