package replay

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/stripe/stripe-go/v76/webhook"
)

// UserAgent identifies replayed deliveries to the receiver; Stripe's own is
// "Stripe/1.0 (+https://stripe.com/docs/webhooks)".
const UserAgent = "billing-replay/1"

// maxSnippet bounds the part of a response body shown when it has no outcome.
const maxSnippet = 120

// maxResponse bounds how much of a response is read; webhook answers are tiny.
const maxResponse = 64 << 10

// Endpoint is where events are delivered and the secret they are signed with.
type Endpoint struct {
	URL    string
	Secret string
}

// SendOptions tune a Send.
type SendOptions struct {
	// Concurrency is how many deliveries may be in flight; below 1 means 1,
	// which sends strictly in order.
	Concurrency int
	// Progress, if set, is called with each result in input order as soon
	// as it and all before it are done.
	Progress func(Result)
}

// Result is what became of one delivery.
type Result struct {
	Event   Event
	Status  int    // HTTP status; 0 if Err is set
	Outcome string // the response's "outcome" member, if any
	Snippet string // the start of the response body, on one line, if no outcome
	Err     error  // transport failure; never contains the secret or signature
}

// OK reports whether the receiver accepted the delivery.
func (r Result) OK() bool {
	return r.Err == nil && r.Status >= 200 && r.Status < 300
}

// Send signs each event as Stripe does and POSTs it to ep. Results come back
// in input order whatever the concurrency.
func Send(ctx context.Context, client *http.Client, ep Endpoint, events []Event, opts SendOptions) []Result {
	workers := max(opts.Concurrency, 1)
	results := make([]Result, len(events))
	done := make([]chan struct{}, len(events))
	for i := range done {
		done[i] = make(chan struct{})
	}

	// A queue rather than a goroutine per event, so that with one worker
	// the deliveries leave in input order.
	queue := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range queue {
				results[i] = deliver(ctx, client, ep, events[i])
				close(done[i])
			}
		})
	}
	go func() {
		for i := range events {
			queue <- i
		}
		close(queue)
	}()

	for i := range events {
		<-done[i]
		if opts.Progress != nil {
			opts.Progress(results[i])
		}
	}
	wg.Wait()
	return results
}

func deliver(ctx context.Context, client *http.Client, ep Endpoint, ev Event) Result {
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{
		Payload:   ev.Body,
		Secret:    ep.Secret,
		Timestamp: time.Now(),
	})
	// Whatever the receiver echoes back, or an error quotes, is shown to
	// the operator: keep the secret and the signature out of it.
	redact := redactor(ep.Secret, hex.EncodeToString(signed.Signature))
	res := Result{Event: ev}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(ev.Body))
	if err != nil {
		res.Err = errors.New(redact.Replace(err.Error()))
		return res
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("Stripe-Signature", signed.Header)

	resp, err := client.Do(req)
	if err != nil {
		res.Err = errors.New(redact.Replace(err.Error()))
		return res
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	res.Status = resp.StatusCode
	if err != nil {
		res.Snippet = "reading response: " + redact.Replace(err.Error())
		return res
	}
	res.Outcome, res.Snippet = describe(redact.Replace(string(body)))
	return res
}

// describe gives the outcome the webhook reported or, if it reported none,
// a short one-line snippet of the body.
func describe(body string) (outcome, snippet string) {
	var answer struct {
		Outcome *string `json:"outcome"`
	}
	if json.Unmarshal([]byte(body), &answer) == nil && answer.Outcome != nil && *answer.Outcome != "" {
		return oneLine(*answer.Outcome, maxSnippet), ""
	}
	if strings.TrimSpace(body) == "" {
		return "", "(empty body)"
	}
	return "", oneLine(body, maxSnippet)
}

// oneLine collapses whitespace, replaces unprintable runes, and cuts s to at
// most limit runes, so a hostile or binary body cannot break the output.
func oneLine(s string, limit int) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return '?'
	}, s)
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit-1]) + "…"
	}
	return s
}

// redactor hides the secret and the signature; an empty one is left out, as
// replacing "" would insert the mark between every character.
func redactor(secret, signature string) *strings.Replacer {
	var pairs []string
	if secret != "" {
		pairs = append(pairs, secret, "[secret]")
	}
	if signature != "" {
		pairs = append(pairs, signature, "[signature]")
	}
	return strings.NewReplacer(pairs...)
}
