// Command stripe-local serves the stateful local Stripe stand-in
// (shared/stripelocal) on one port and delivers its webhook events to the
// given endpoints as they happen, one printed line per delivery:
//
//	go run ./cmd/stripe-local --port 12112 \
//	    --endpoint http://localhost:8080/api/billing/webhooks/stripe/ --secret whsec_...
//
// Point a stripe-go client's API backend at http://localhost:12112 (any
// sk_test_ key), open a Checkout session's url to pay it, and drive time and
// failures with the control endpoints under /_local/ (see the package doc).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/courseplatform/billing/shared/stripelocal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv))
}

// run returns the exit status: 0 after a clean stop, 1 on failure, 2 on a
// usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, lookup func(string) (string, bool)) int {
	cfg, err := parseFlags(args, stderr, lookup)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "stripe-local:", err)
		return 2
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.host, strconv.Itoa(cfg.port)))
	if err == nil {
		err = serve(ctx, ln, cfg, stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "stripe-local:", err)
		return 1
	}
	return 0
}

type config struct {
	host      string
	port      int
	options   stripelocal.Options
	endpoints []stripelocal.Endpoint
	delivery  stripelocal.DeliveryOptions
}

// list is a repeatable string flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func parseFlags(args []string, stderr io.Writer, lookup func(string) (string, bool)) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("stripe-local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var endpoints, secrets, versions list
	var start, events, afterRetries string
	fs.StringVar(&cfg.host, "host", "127.0.0.1", "address to listen on")
	fs.IntVar(&cfg.port, "port", 12112, "port to listen on")
	fs.Int64Var(&cfg.options.Seed, "seed", 1, "seed for ids and random choices")
	fs.StringVar(&start, "start", "", "clock start, RFC 3339 (default 2026-01-01T00:00:00Z)")
	fs.BoolVar(&cfg.options.Livemode, "livemode", false, "live mode: objects and events are live, sk_live_ keys")
	fs.StringVar(&afterRetries, "after-retries", "canceled", "subscription status once payment retries run out: canceled, unpaid or past_due")
	fs.Var(&endpoints, "endpoint", "webhook endpoint URL (repeatable)")
	fs.Var(&secrets, "secret", "signing secret: one for every endpoint, or one per --endpoint in order (default $STRIPE_WEBHOOK_SECRET)")
	fs.Var(&versions, "api-version", "API version events are rendered at: one for all, or one per --endpoint (default "+stripelocal.APIVersion+")")
	fs.StringVar(&events, "events", "", "comma-separated event types to send (default all; \"invoice.*\" works)")
	fs.Float64Var(&cfg.delivery.Duplicates, "dup", 0, "probability that an event is sent again (up to 3 copies)")
	fs.BoolVar(&cfg.delivery.Shuffle, "shuffle", false, "send the events of one action in random order")
	fs.DurationVar(&cfg.delivery.MaxDelay, "delay", 0, "delay each delivery by a random duration below this")
	fs.IntVar(&cfg.delivery.Concurrency, "concurrency", 1, "deliveries in flight at once")
	fs.IntVar(&cfg.delivery.MaxAttempts, "attempts", 3, "attempts per delivery that gets no 2xx")
	fs.DurationVar(&cfg.delivery.RetryDelay, "retry-delay", time.Second, "wait between attempts")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if start != "" {
		t, err := time.Parse(time.RFC3339, start)
		if err != nil {
			return cfg, fmt.Errorf("--start: %w", err)
		}
		cfg.options.Start = t
	}
	cfg.options.AfterRetries = stripe.SubscriptionStatus(afterRetries)
	switch afterRetries {
	case "canceled", "unpaid", "past_due":
	default:
		return cfg, fmt.Errorf("--after-retries: want canceled, unpaid or past_due, not %q", afterRetries)
	}
	cfg.delivery.Seed = cfg.options.Seed
	if len(secrets) == 0 {
		if v, ok := lookup("STRIPE_WEBHOOK_SECRET"); ok && v != "" {
			secrets = list{strings.Split(v, ",")[0]}
		}
	}
	var enabled []string
	if events != "" {
		enabled = strings.Split(events, ",")
	}
	for i, u := range endpoints {
		secret, err := pick(secrets, i, len(endpoints), "--secret")
		if err != nil {
			return cfg, err
		}
		if secret == "" {
			return cfg, errors.New("--endpoint needs a signing secret: --secret whsec_... or STRIPE_WEBHOOK_SECRET")
		}
		version, err := pick(versions, i, len(endpoints), "--api-version")
		if err != nil {
			return cfg, err
		}
		cfg.endpoints = append(cfg.endpoints, stripelocal.Endpoint{URL: u, Secret: secret, APIVersion: version, EnabledEvents: enabled})
	}
	return cfg, nil
}

// pick is the value of a per-endpoint flag for endpoint i: the only value,
// or the i-th of one per endpoint.
func pick(values list, i, n int, name string) (string, error) {
	switch len(values) {
	case 0:
		return "", nil
	case 1:
		return values[0], nil
	case n:
		return values[i], nil
	}
	return "", fmt.Errorf("%s: give one value or one per --endpoint (%d), not %d", name, n, len(values))
}

// serve runs the stand-in on ln until ctx ends.
func serve(ctx context.Context, ln net.Listener, cfg config, out io.Writer) error {
	base := "http://" + ln.Addr().String()
	cfg.options.BaseURL = base
	s := stripelocal.New(cfg.options)
	for _, ep := range cfg.endpoints {
		s.AddEndpoint(ep)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(out, "stripe-local: Stripe API (version %s) on %s; control endpoints under %s/_local/\n", stripelocal.APIVersion, base, base)
	for _, ep := range cfg.endpoints {
		fmt.Fprintf(out, "stripe-local: events → %s\n", ep.URL)
	}
	lines := make(chan string, 64)
	done := make(chan struct{})
	go func() { // one writer, so lines never interleave
		defer close(done)
		for l := range lines {
			fmt.Fprintln(out, l)
		}
	}()
	delivery := cfg.delivery
	delivery.OnAttempt = func(a stripelocal.Attempt) { lines <- a.String() }
	streamCtx, stopStream := context.WithCancel(ctx)
	streamDone := make(chan struct{})
	go func() {
		defer close(streamDone)
		_ = s.Stream(streamCtx, delivery)
	}()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	stopStream()
	<-streamDone
	close(lines)
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
