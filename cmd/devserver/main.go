// Command devserver runs every billing function on one port for local
// development, plus the combined route the old Django app had, so that
//
//	stripe listen --forward-to localhost:8080/api/billing/webhooks/stripe/
//
// keeps working with one signing secret: each event goes to the group that
// owns it.
//
// Configuration comes from the environment (and keys from an untracked .env):
// PORT (default 8080), GOOGLE_CLOUD_PROJECT, FIRESTORE_EMULATOR_HOST (without
// it, state is kept in memory and lost on exit), STRIPE_WEBHOOK_SECRET,
// STRIPE_REFETCH, STRIPE_SECRET_KEY and STRIPE_API_BASE (when refetching),
// STRIPE_LIVEMODE, WEBHOOK_TIMEOUT.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/courseplatform/billing/functions/checkout"
	"github.com/courseplatform/billing/functions/portal"
	"github.com/courseplatform/billing/functions/webhooks"
	"github.com/courseplatform/billing/shared/auth"
	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/frontend"
	"github.com/courseplatform/billing/shared/logging"
	"github.com/courseplatform/billing/shared/secrets"
	"github.com/courseplatform/billing/shared/store/firestore"
	"github.com/courseplatform/billing/shared/store/memstore"
	"github.com/courseplatform/billing/shared/stripeapi"
	"github.com/courseplatform/billing/shared/webhook"
)

// CombinedRoute is the old app's single webhook path.
const CombinedRoute = "/api/billing/webhooks/stripe/"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	// Loopback only by default: with the Auth emulator it accepts unsigned
	// ID tokens. DEV_HOST=0.0.0.0 serves other machines.
	host := os.Getenv("DEV_HOST")
	if host == "" {
		host = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err == nil {
		err = run(ctx, ln, os.LookupEnv, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "devserver:", err)
		os.Exit(1)
	}
}

// run serves on ln until ctx ends.
func run(ctx context.Context, ln net.Listener, lookup func(string) (string, bool), logOut io.Writer) error {
	defer ln.Close()
	log := logging.New(logOut, "devserver")
	settings, err := webhook.SettingsFromEnv(lookup)
	if err != nil {
		return err
	}
	vals, err := secrets.NewResolver(settings.SecretKeys(), secrets.WithLookupEnv(lookup)).Values(ctx)
	if err != nil {
		return err
	}
	src, err := settings.Source(vals)
	if err != nil {
		return err
	}
	var store billing.Store
	if host, _ := lookup("FIRESTORE_EMULATOR_HOST"); host != "" {
		fs, err := firestore.Open(ctx, settings.Project, settings.Database)
		if err != nil {
			return err
		}
		defer fs.Close()
		store = fs
		log.Info("using the Firestore emulator", "host", host, "project", settings.Project)
	} else {
		store = memstore.New()
		log.Warn("FIRESTORE_EMULATOR_HOST is not set: state is kept in memory and lost on exit")
	}

	mux := http.NewServeMux()
	all := map[string]webhook.Processor{}
	newHandler := func(function string, routes map[string]webhook.Processor) (http.Handler, error) {
		return webhook.NewHandler(webhook.Config{
			Function: function,
			Secrets:  vals.List(webhook.SecretKey),
			Livemode: settings.Livemode,
			Routes:   routes,
			Store:    store,
			Timeout:  settings.Timeout,
			Logger:   log.With("route", function),
		})
	}
	var names []string
	for _, fn := range webhooks.All() {
		name, routes := fn.Group.EntryPoint, fn.Routes(src, time.Now)
		names = append(names, name)
		h, err := newHandler(name, routes)
		if err != nil {
			return err
		}
		mux.Handle("/"+name, h)
		for t, p := range routes {
			all[t] = p
		}
	}
	combined, err := newHandler("combined", all)
	if err != nil {
		return err
	}
	mux.Handle(CombinedRoute, combined)
	// Without the trailing slash too: ServeMux would answer 307, which
	// Stripe does not follow.
	mux.Handle(strings.TrimSuffix(CombinedRoute, "/"), combined)
	frontends, err := mountFrontends(ctx, mux, lookup, vals.Get(webhook.APIKey), store, log)
	if err != nil {
		return err
	}
	names = append(names, frontends...)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})

	// A client that stalls mid-body is cut off, as Cloud Run cuts off a
	// request at its timeout.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second}
	log.Info("listening", "addr", ln.Addr().String(), "combined_route", CombinedRoute,
		slog.Any("functions", names))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// mountFrontends serves the functions the web app calls, when there is a
// Stripe key to create sessions with. Callers are verified as deployed,
// with the Firebase Admin SDK: locally against the Auth emulator
// (FIREBASE_AUTH_EMULATOR_HOST).
func mountFrontends(ctx context.Context, mux *http.ServeMux, lookup func(string) (string, bool), stripeKey string, store billing.Store, log *slog.Logger) ([]string, error) {
	if stripeKey == "" {
		log.Warn("STRIPE_SECRET_KEY is not set: Checkout and Portal are not served")
		return nil, nil
	}
	settings, err := frontend.SettingsFromEnv(lookup)
	if err != nil {
		return nil, err
	}
	if host, _ := lookup(auth.EmulatorHostVar); host == "" {
		log.Warn(auth.EmulatorHostVar + " is not set: ID tokens are checked against Google's keys, which needs network")
	}
	verifier, err := auth.NewFirebase(ctx, settings.Project, lookup)
	if err != nil {
		return nil, err
	}
	api, err := stripeapi.NewClient(stripeapi.ClientConfig{Key: stripeKey, BaseURL: settings.APIBase, MaxRetries: 3})
	if err != nil {
		return nil, err
	}
	deps := frontend.Deps{Settings: settings, Store: store, Stripe: api, Auth: verifier}
	fns := []struct {
		name string
		new  func(frontend.Deps) http.Handler
	}{{checkout.EntryPoint, checkout.New}, {portal.EntryPoint, portal.New}}
	var names []string
	for _, fn := range fns {
		d := deps
		d.Logger = log.With("route", fn.name)
		mux.Handle("/"+fn.name, fn.new(d))
		names = append(names, fn.name)
	}
	return names, nil
}
