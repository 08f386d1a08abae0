package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/courseplatform/billing/cmd/billing/internal/replay"
	"github.com/courseplatform/billing/shared/secrets"
)

// secretEnv names the variable that holds the webhook signing secret when
// --secret is not given; Stripe's CLI and our functions use the same name.
const secretEnv = "STRIPE_WEBHOOK_SECRET"

type replayConfig struct {
	url         string
	secret      string
	wrap        replay.WrapOptions
	concurrency int
	timeout     time.Duration
	paths       []string
}

func runReplay(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseReplay(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "billing replay: %v\n", err)
		return 2
	}

	events, skips, err := replay.LoadEvents(cfg.paths, cfg.wrap)
	if err != nil {
		fmt.Fprintf(stderr, "billing replay: %v\n", err)
		return 1
	}
	for _, s := range skips {
		replay.WriteSkip(stdout, s)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	client := &http.Client{
		Timeout: cfg.timeout,
		// Stripe does not follow redirects, and a followed POST would turn
		// into a GET or carry the signed body somewhere else.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	endpoint := replay.Endpoint{URL: cfg.url, Secret: cfg.secret}
	results := replay.Send(ctx, client, endpoint, events, replay.SendOptions{
		Concurrency: cfg.concurrency,
		Progress:    func(r replay.Result) { fmt.Fprintln(stdout, r.Line()) },
	})

	summary := replay.Summarize(results, skips)
	fmt.Fprintln(stdout, summary)
	if summary.Failed > 0 {
		return 1
	}
	return 0
}

// parseReplay reads the flags; an error other than flag.ErrHelp is a usage
// error whose text is safe to print (it never holds the secret).
func parseReplay(args []string, stderr io.Writer) (replayConfig, error) {
	var cfg replayConfig
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.url, "url", "", "webhook `URL` to POST to (required)")
	secret := fs.String("secret", "", "webhook signing `secret` (whsec_…); default $"+secretEnv+"; of a comma-separated list the first is used")
	fs.BoolVar(&cfg.wrap.Livemode, "livemode", false, "livemode of the envelopes wrapped around event data")
	fs.StringVar(&cfg.wrap.APIVersion, "api-version", "2023-10-16", "api_version of the envelopes wrapped around event data")
	fs.IntVar(&cfg.concurrency, "concurrency", 1, "deliveries in flight at once; 1 sends in order")
	fs.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "time limit for each delivery")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: billing replay --url URL [--secret WHSEC] [flags] PATH...

Signs each captured Stripe event as Stripe does and POSTs it to URL.
PATH is a file or a folder (its *.json files, sorted by name). A file holding
a full event is sent as it is; one holding an event's data member
({"object": {...}}) is wrapped in an event whose type is the file name
(subscription.* meaning customer.subscription.*); anything else is skipped.
Exit status: 0 all accepted, 1 any delivery failed, 2 usage error.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err // flag has already printed the problem and usage
	}

	secretGiven := false
	fs.Visit(func(f *flag.Flag) { secretGiven = secretGiven || f.Name == "secret" })
	if secretGiven {
		cfg.secret, _, _ = strings.Cut(*secret, ",")
		cfg.secret = strings.TrimSpace(cfg.secret)
	} else {
		// As the dev server does: the environment, a Secret Manager name,
		// or the untracked .env of the old app's flow.
		vals, err := secrets.NewResolver([]secrets.Key{{Name: secretEnv, Optional: true}}).Values(context.Background())
		if err != nil {
			return cfg, err
		}
		if list := vals.List(secretEnv); len(list) > 0 {
			cfg.secret = list[0]
		}
	}
	cfg.paths = fs.Args()

	switch {
	case cfg.url == "":
		return cfg, errors.New("--url is required")
	case !isHTTPURL(cfg.url):
		return cfg, fmt.Errorf("--url %q is not an http or https URL", cfg.url)
	case cfg.secret == "":
		return cfg, fmt.Errorf("no signing secret: pass --secret or set %s", secretEnv)
	case cfg.concurrency < 1:
		return cfg, errors.New("--concurrency must be at least 1")
	case cfg.timeout <= 0:
		return cfg, errors.New("--timeout must be positive")
	case len(cfg.paths) == 0:
		return cfg, errors.New("no PATH given: name event files or folders to replay")
	}
	return cfg, nil
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
