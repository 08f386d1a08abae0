package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/courseplatform/billing/shared/stripelocal"
)

// Each trigger's flow, run on the stand-in, makes it emit the named event.
func TestTriggerEmitsTheEvent(t *testing.T) {
	for name := range triggers {
		t.Run(name, func(t *testing.T) {
			s := stripelocal.New(stripelocal.Options{Seed: 5})
			api := httptest.NewServer(s)
			defer api.Close()
			var mu sync.Mutex
			got := map[string]bool{}
			recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var ev struct{ Type string }
				body, _ := io.ReadAll(r.Body)
				_ = json.Unmarshal(body, &ev)
				mu.Lock()
				got[ev.Type] = true
				mu.Unlock()
			}))
			defer recv.Close()
			s.AddEndpoint(stripelocal.Endpoint{URL: recv.URL, Secret: "whsec_test_trigger"})

			var out, errOut bytes.Buffer
			if code := runTrigger([]string{"--stripe", api.URL, name}, &out, &errOut); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			s.Deliver(context.Background(), stripelocal.DeliveryOptions{})
			if !got[name] {
				t.Errorf("the flow for %s emitted %v", name, got)
			}
		})
	}
}

func TestTriggerRefusesUnknownEvents(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := runTrigger([]string{"charge.dispute.created"}, &out, &errOut); code != 2 {
		t.Errorf("exit %d for an event with no flow, want 2", code)
	}
}
