package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/chaos"
	"github.com/courseplatform/billing/shared/store/firestore"
	"github.com/courseplatform/billing/shared/store/memstore"
	"github.com/courseplatform/billing/shared/stripelocal"
)

type chaosConfig struct {
	chaos.Config
	url, secret, project, stripeAddr, apiVersion string
	verbose                                      bool
}

func parseChaos(args []string, stderr io.Writer) (chaosConfig, error) {
	def := chaos.DefaultConfig()
	var cfg chaosConfig
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.Customers, "customers", 50, "customer histories to generate")
	fs.IntVar(&cfg.Rounds, "rounds", def.Rounds, "rounds of actions per customer after checkout")
	fs.Float64Var(&cfg.Dup, "dup", def.Dup, "probability that an event is delivered once more (up to 3 copies)")
	fs.IntVar(&cfg.Concurrency, "concurrency", def.Concurrency, "deliveries in flight at once")
	fs.Int64Var(&cfg.Seed, "seed", def.Seed, "seed of the histories and delivery plans")
	fs.BoolVar(&cfg.Shuffle, "shuffle", true, "deliver each round's events in random order")
	fs.StringVar(&cfg.url, "url", "", "webhook URL of a running deployment (e.g. the dev server's combined route); empty: host the functions in this process")
	fs.StringVar(&cfg.secret, "secret", "", "signing secret of --url (default $STRIPE_WEBHOOK_SECRET); a throwaway one in-process")
	fs.StringVar(&cfg.project, "project", "", "Firestore project to check (default $GOOGLE_CLOUD_PROJECT with --url, a fresh one in-process)")
	fs.StringVar(&cfg.stripeAddr, "stripe-addr", "127.0.0.1:12112", "with --url: where the Stripe stand-in listens; the deployment must read from it (STRIPE_API_BASE)")
	fs.StringVar(&cfg.apiVersion, "api-version", "", "API version events are rendered at (default 2023-10-16; e.g. "+stripelocal.BasilVersion+")")
	fs.BoolVar(&cfg.verbose, "v", false, "list every divergence and loss")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: billing chaos [flags]

Generates customer histories on the local Stripe stand-in (checkouts, renewals,
failed and recovered payments, cancellations, pauses, deletions), delivers
their events with duplicates, shuffled and concurrently, then compares every
document in Firestore with the stand-in's truth. Ends with one line
  customers=N deliveries=D diverged=X lost=Y
and exits 1 unless X and Y are 0.

Without --url the webhook functions run in this process against the Firestore
emulator (FIRESTORE_EMULATOR_HOST; without it, an in-memory store). With --url
the stand-in serves on --stripe-addr, and the deployment must read objects
from it: start the dev server with STRIPE_API_BASE=http://<stripe-addr> and a
STRIPE_SECRET_KEY=sk_test_... of your choosing (a key also turns on Checkout
and Portal, which need FIREBASE_AUTH_EMULATOR_HOST), in a fresh
GOOGLE_CLOUD_PROJECT: an earlier run's documents count as divergence.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	switch {
	case fs.NArg() > 0:
		return cfg, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	case cfg.Customers <= 0:
		return cfg, errors.New("--customers must be positive")
	case cfg.Concurrency <= 0:
		return cfg, errors.New("--concurrency must be positive")
	case cfg.Dup < 0 || cfg.Dup > 1:
		return cfg, errors.New("--dup must be between 0 and 1")
	}
	return cfg, nil
}

func runChaos(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseChaos(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "billing chaos:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := chaosRun(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "billing chaos:", err)
		return 1
	}
	if cfg.verbose || !res.OK() {
		for i, p := range res.Problems {
			if i == 50 && !cfg.verbose {
				fmt.Fprintf(stdout, "... and %d more (-v lists all)\n", len(res.Problems)-i)
				break
			}
			fmt.Fprintln(stdout, p)
		}
	}
	fmt.Fprintln(stdout, res)
	if !res.OK() {
		return 1
	}
	return 0
}

func chaosRun(ctx context.Context, cfg chaosConfig, stderr io.Writer) (chaos.Result, error) {
	s := stripelocal.New(stripelocal.Options{Seed: cfg.Seed})
	store, closeStore, err := chaosStore(ctx, cfg, stderr)
	if err != nil {
		return chaos.Result{}, err
	}
	defer closeStore()

	if cfg.url == "" {
		local, err := chaos.StartLocal(s, store, chaos.LocalConfig{Secret: "whsec_chaos_" + randomHex(8), APIVersion: cfg.apiVersion})
		if err != nil {
			return chaos.Result{}, err
		}
		defer local.Close()
		return chaos.Run(ctx, s, store, cfg.Config)
	}

	secret := cfg.secret
	if secret == "" {
		secret, _, _ = strings.Cut(os.Getenv("STRIPE_WEBHOOK_SECRET"), ",")
	}
	if secret == "" {
		return chaos.Result{}, errors.New("--url needs --secret or STRIPE_WEBHOOK_SECRET")
	}
	ln, err := net.Listen("tcp", cfg.stripeAddr)
	if err != nil {
		return chaos.Result{}, fmt.Errorf("stand-in: %w", err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	fmt.Fprintf(stderr, "Stripe stand-in on http://%s; delivering to %s\n", ln.Addr(), cfg.url)
	s.AddEndpoint(stripelocal.Endpoint{URL: cfg.url, Secret: secret, APIVersion: cfg.apiVersion})
	return chaos.Run(ctx, s, store, cfg.Config)
}

// chaosStore opens the database the run checks: the emulator's, in a
// fresh project unless one is named, else (in-process only) memory.
func chaosStore(ctx context.Context, cfg chaosConfig, stderr io.Writer) (billing.Store, func(), error) {
	host := os.Getenv("FIRESTORE_EMULATOR_HOST")
	project := cfg.project
	if project == "" && cfg.url != "" {
		project = os.Getenv("GOOGLE_CLOUD_PROJECT")
	}
	switch {
	case host == "" && cfg.url != "":
		return nil, nil, errors.New("--url needs FIRESTORE_EMULATOR_HOST (and the deployment's GOOGLE_CLOUD_PROJECT) to check what it wrote")
	case host == "":
		fmt.Fprintln(stderr, "FIRESTORE_EMULATOR_HOST is not set: checking an in-memory store")
		return memstore.New(), func() {}, nil
	case project == "":
		project = "chaos-" + randomHex(4)
	}
	fs, err := firestore.Open(ctx, project, "")
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(stderr, "Checking Firestore emulator %s, project %s\n", host, project)
	return fs, func() { _ = fs.Close() }, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
