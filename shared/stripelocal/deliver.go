package stripelocal

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	stripewebhook "github.com/stripe/stripe-go/v76/webhook"
)

// Endpoint is a webhook endpoint: where events go and how they are signed.
type Endpoint struct {
	URL    string
	Secret string
	// EnabledEvents lists the event types sent; empty or "*" means all,
	// and "invoice.*" all of a kind.
	EnabledEvents []string
	// APIVersion is the version events are rendered at; empty means
	// APIVersion. BasilVersion or later gets the 2025 shapes.
	APIVersion string
}

func (ep Endpoint) wants(typ string) bool {
	if len(ep.EnabledEvents) == 0 {
		return true
	}
	for _, p := range ep.EnabledEvents {
		if typeMatches(p, typ) {
			return true
		}
	}
	return false
}

type queuedDelivery struct{ event, endpoint int }

// AddEndpoint registers a webhook endpoint. Like Stripe, it receives the
// events emitted from then on.
func (s *Stripe) AddEndpoint(ep Endpoint) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endpoints = append(s.endpoints, ep)
}

// Pending returns how many deliveries are queued.
func (s *Stripe) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// DeliveryOptions shape one Deliver call: the chaos Stripe is allowed to
// cause (duplicates, any order, concurrency, delay) and how hard to retry.
type DeliveryOptions struct {
	// Duplicates is the probability that an event is sent once more; it
	// is drawn again for each copy, up to 3 copies in all.
	Duplicates float64
	// Shuffle sends the queued events in a random order instead of the
	// order they happened in.
	Shuffle bool
	// Concurrency is how many deliveries are in flight at once; default 1.
	Concurrency int
	// MaxDelay delays each delivery by a random duration below it.
	MaxDelay time.Duration
	// Seed makes the plan (copies, order, delays) reproducible.
	Seed int64
	// MaxAttempts bounds the attempts of one copy that gets no 2xx
	// answer; default 3. Stripe retries for days; a Deliver call retries
	// at once, with RetryDelay between attempts.
	MaxAttempts int
	RetryDelay  time.Duration
	// Client sends the requests; default a client with a 30 s timeout.
	Client *http.Client
	// OnAttempt, if set, is called after every attempt, one call at a
	// time.
	OnAttempt func(Attempt)
}

// Planned is one copy of one event for one endpoint, in the order the plan
// hands them to the senders.
type Planned struct {
	EventID   string
	EventType string
	Endpoint  string
	// Copy is 1 for the first copy of an event, 2 or 3 for duplicates.
	Copy  int
	Delay time.Duration
}

// Attempt is one POST of a planned copy.
type Attempt struct {
	Planned
	// Attempt counts from 1.
	Attempt int
	// Status is the HTTP status, 0 when no answer came.
	Status int
	// Body is the start of the answer (at most 512 bytes).
	Body string
	Err  string
	At   time.Time
}

// OK reports a 2xx answer.
func (a Attempt) OK() bool { return a.Status >= 200 && a.Status < 300 }

// DeliveryReport is what one Deliver call did.
type DeliveryReport struct {
	// Plan is the deliveries in the order they were started; the same for
	// the same seed, events and options.
	Plan []Planned
	// Attempts is every POST, in the order the answers came.
	Attempts []Attempt
	// ByStatus counts attempts by HTTP status (0: no answer).
	ByStatus map[int]int
	// Failures is the last attempt of every copy that never got a 2xx.
	Failures []Attempt
}

type job struct {
	Planned
	body    []byte
	secret  string
	attempt int
}

// Deliver sends every queued event to its endpoints and returns when all
// copies got a 2xx answer or ran out of attempts, or ctx ended. Events
// emitted while it runs (for instance by a receiver calling the API) stay
// queued for the next call.
func (s *Stripe) Deliver(ctx context.Context, opts DeliveryOptions) DeliveryReport {
	jobs := s.plan(opts)
	rep := DeliveryReport{ByStatus: map[int]int{}}
	for _, j := range jobs {
		rep.Plan = append(rep.Plan, j.Planned)
	}
	if len(jobs) == 0 {
		return rep
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 1
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 3
	}
	client := opts.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}

	// Retries go back on the same queue, so that other events overtake a
	// failing one, as with Stripe. The buffer holds every possible attempt,
	// so a send never blocks.
	work := make(chan *job, len(jobs)*opts.MaxAttempts)
	var pending sync.WaitGroup
	pending.Add(len(jobs))
	for i := range jobs {
		work <- &jobs[i]
	}
	go func() {
		pending.Wait()
		close(work)
	}()

	var mu sync.Mutex
	record := func(a Attempt, final bool) {
		mu.Lock()
		defer mu.Unlock()
		rep.Attempts = append(rep.Attempts, a)
		rep.ByStatus[a.Status]++
		if final && !a.OK() {
			rep.Failures = append(rep.Failures, a)
		}
		if opts.OnAttempt != nil {
			opts.OnAttempt(a)
		}
	}

	var workers sync.WaitGroup
	for w := 0; w < opts.Concurrency; w++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for j := range work {
				delay := j.Delay
				if j.attempt > 0 {
					delay = opts.RetryDelay
				}
				j.attempt++
				a := Attempt{Planned: j.Planned, Attempt: j.attempt}
				if err := sleep(ctx, delay); err != nil {
					a.Err = err.Error()
				} else {
					a.Status, a.Body, a.Err = post(ctx, client, j.Endpoint, j.body, j.secret)
				}
				a.At = time.Now()
				retry := !a.OK() && j.attempt < opts.MaxAttempts && ctx.Err() == nil
				record(a, !retry)
				if retry {
					pending.Add(1)
					work <- j
				}
				pending.Done()
			}
		}()
	}
	workers.Wait()
	return rep
}

// plan takes the queue and decides copies, order and delays.
func (s *Stripe) plan(opts DeliveryOptions) []job {
	s.mu.Lock()
	queue := s.queue
	s.queue = nil
	type item struct {
		ev Event
		ep Endpoint
	}
	items := make([]item, len(queue))
	for i, q := range queue {
		items[i] = item{s.events[q.event], s.endpoints[q.endpoint]}
	}
	s.mu.Unlock()

	rng := rand.New(rand.NewPCG(uint64(opts.Seed), 0xde11))
	var jobs []job
	for _, it := range items {
		body := it.ev.JSON(it.ep.APIVersion)
		copies := 1
		for copies < 3 && opts.Duplicates > 0 && rng.Float64() < opts.Duplicates {
			copies++
		}
		for c := 1; c <= copies; c++ {
			jobs = append(jobs, job{
				Planned: Planned{EventID: it.ev.ID, EventType: it.ev.Type, Endpoint: it.ep.URL, Copy: c},
				body:    body, secret: it.ep.Secret,
			})
		}
	}
	if opts.Shuffle {
		rng.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
	}
	if opts.MaxDelay > 0 {
		for i := range jobs {
			jobs[i].Delay = time.Duration(rng.Int64N(int64(opts.MaxDelay)))
		}
	}
	return jobs
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// post sends one signed event. The signature's timestamp is the wall clock,
// not the stand-in's: receivers check it against their own clock.
func post(ctx context.Context, client *http.Client, url string, body []byte, secret string) (int, string, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err.Error()
	}
	signed := stripewebhook.GenerateTestSignedPayload(&stripewebhook.UnsignedPayload{
		Payload: body, Secret: secret, Timestamp: time.Now(),
	})
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks) stripelocal")
	req.Header.Set("Stripe-Signature", signed.Header)
	res, err := client.Do(req)
	if err != nil {
		return 0, "", err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, string(b), ""
}

// Stream delivers events as they are emitted until ctx ends: each batch
// queued since the last one is delivered with opts (so Shuffle mixes the
// events of one action). It is what the stripe-local command runs.
func (s *Stripe) Stream(ctx context.Context, opts DeliveryOptions) error {
	batch := opts.Seed
	for {
		if s.Pending() > 0 {
			o := opts
			o.Seed = batch
			batch++
			s.Deliver(ctx, o)
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.notify:
		}
	}
}

// String is a one-line summary of an attempt, as the command prints it.
func (a Attempt) String() string {
	res := fmt.Sprint(a.Status)
	if a.Err != "" {
		res = "error: " + a.Err
	}
	copyNote := ""
	if a.Copy > 1 {
		copyNote = fmt.Sprintf(" copy %d", a.Copy)
	}
	return fmt.Sprintf("%s %-40s → %s %s (attempt %d%s)", a.EventID, a.EventType, a.Endpoint, res, a.Attempt, copyNote)
}
