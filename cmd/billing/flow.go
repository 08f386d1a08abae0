package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/store/firestore"
)

// flowConfig is where the local stack runs; scripts/dev prints these.
type flowConfig struct {
	url, stripeURL, authHost, project, email, course string
	outcome                                          string
	wait                                             time.Duration
}

func parseFlow(args []string, stderr io.Writer) (flowConfig, error) {
	var cfg flowConfig
	fs := flag.NewFlagSet("flow", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.course, "course", "", "course id to buy (from `billing course create`)")
	fs.StringVar(&cfg.email, "email", "student@example.com", "the test user, signed in on the Auth emulator (made if new)")
	fs.StringVar(&cfg.url, "url", envOr("BILLING_URL", "http://localhost:8080"), "the dev server (or a deployment) serving /Checkout")
	fs.StringVar(&cfg.stripeURL, "stripe", envOr("STRIPE_API_BASE", "http://127.0.0.1:12112"), "the local Stripe stand-in, where the buyer pays")
	fs.StringVar(&cfg.authHost, "auth-emulator", os.Getenv("FIREBASE_AUTH_EMULATOR_HOST"), "the Firebase Auth emulator (host:port)")
	fs.StringVar(&cfg.project, "project", os.Getenv("GOOGLE_CLOUD_PROJECT"), "Firestore project where the entitlements appear")
	fs.StringVar(&cfg.outcome, "outcome", "paid", "how the buyer finishes: paid, async_pending, async_succeeded, async_failed")
	fs.DurationVar(&cfg.wait, "wait", 30*time.Second, "how long to wait for the webhooks to grant access")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: billing flow --course ID [flags]

The old app's end-to-end story, offline: sign in a test user (Firebase Auth
emulator), call the Checkout function for the course, pay on the local
Stripe stand-in, let its signed webhooks reach the dev server, then print
the user's entitlements from Firestore. Exit 1 if checkout is refused (409
when the user already owns the course) or access never appears.

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
	case cfg.course == "":
		return cfg, errors.New("--course is required (create one with `billing course create`)")
	case cfg.authHost == "":
		return cfg, errors.New("--auth-emulator or FIREBASE_AUTH_EMULATOR_HOST is required (scripts/dev starts one)")
	case cfg.project == "":
		return cfg, errors.New("--project or GOOGLE_CLOUD_PROJECT is required")
	case os.Getenv("FIRESTORE_EMULATOR_HOST") == "":
		return cfg, errors.New("FIRESTORE_EMULATOR_HOST is required to read the entitlements")
	}
	return cfg, nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func runFlow(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlow(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "billing flow:", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.wait+time.Minute)
	defer cancel()
	if err := flow(ctx, cfg, stdout); err != nil {
		fmt.Fprintln(stderr, "billing flow:", err)
		return 1
	}
	return 0
}

func flow(ctx context.Context, cfg flowConfig, out io.Writer) error {
	uid, token, err := signIn(ctx, cfg.authHost, cfg.email)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "1. signed in %s (uid %s) on the Auth emulator\n", cfg.email, uid)

	var session struct{ ID, URL string }
	status, code, err := postJSON(ctx, strings.TrimRight(cfg.url, "/")+"/Checkout", token, map[string]string{"courseId": cfg.course}, &session)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("checkout refused: %s (%d)", code, status)
	}
	fmt.Fprintf(out, "2. Checkout: session %s (%s)\n", session.ID, session.URL)

	status, code, err = postJSON(ctx, strings.TrimRight(cfg.stripeURL, "/")+"/_local/checkout/sessions/"+session.ID+"/complete", "", map[string]string{"outcome": cfg.outcome}, nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("completing the session on the stand-in: %s (%d)", code, status)
	}
	fmt.Fprintf(out, "3. paid on the Stripe stand-in (%s); its signed events go to the webhooks\n", cfg.outcome)

	store, err := firestore.Open(ctx, cfg.project, os.Getenv("FIRESTORE_DATABASE"))
	if err != nil {
		return err
	}
	defer store.Close()
	deadline := time.Now().Add(cfg.wait)
	for {
		var c *billing.Customer
		err := store.View(ctx, func(ctx context.Context, tx billing.Tx) error {
			var err error
			c, err = tx.Customer(ctx, uid)
			return err
		})
		if err != nil {
			return err
		}
		if c != nil {
			if _, ok := c.Entitlements[cfg.course]; ok {
				fmt.Fprintf(out, "4. customers/%s (Stripe customer %s) is entitled to:\n", uid, c.StripeCustomerID)
				keys := make([]string, 0, len(c.Entitlements))
				for k := range c.Entitlements {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					e := c.Entitlements[k]
					fmt.Fprintf(out, "   %-24s %s %s (%s)\n", k, e.Source, e.SourceID, e.Status)
				}
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no entitlement to %s for %s after %s: are the stand-in's webhooks reaching the dev server?", cfg.course, uid, cfg.wait)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// flowPassword is the test user's password on the Auth emulator, which
// holds only throwaway local users.
const flowPassword = "local-emulator-only"

// signIn signs the test user in on the Auth emulator, signing it up first
// when new, and returns its uid and ID token.
func signIn(ctx context.Context, host, email string) (uid, token string, err error) {
	base := "http://" + host + "/identitytoolkit.googleapis.com/v1/accounts:"
	creds := map[string]any{"email": email, "password": flowPassword, "returnSecureToken": true}
	var res struct{ LocalID, IDToken string }
	for _, op := range []string{"signInWithPassword", "signUp"} {
		status, _, err := postJSON(ctx, base+op+"?key=local-emulator", "", creds, &res)
		if err != nil {
			return "", "", fmt.Errorf("Auth emulator at %s: %w", host, err)
		}
		if status == http.StatusOK && res.IDToken != "" {
			return res.LocalID, res.IDToken, nil
		}
	}
	return "", "", fmt.Errorf("could not sign %s in on the Auth emulator at %s", email, host)
}

// postJSON posts v and decodes a 2xx answer into out; for other answers it
// returns the status and the error code of {"error":{"code":…}} or
// Stripe's {"error":{"type":…}}.
func postJSON(ctx context.Context, url, token string, v, out any) (int, string, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return 0, "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return res.StatusCode, "", err
	}
	if res.StatusCode/100 == 2 {
		if out != nil {
			if err := json.Unmarshal(raw, out); err != nil {
				return res.StatusCode, "", fmt.Errorf("%s answered %d with a body that is not JSON", url, res.StatusCode)
			}
		}
		return res.StatusCode, "", nil
	}
	var e struct {
		Error struct{ Code, Type, Message string }
	}
	_ = json.Unmarshal(raw, &e)
	code := e.Error.Code
	if code == "" {
		code = e.Error.Type
	}
	if e.Error.Message != "" {
		code += ": " + e.Error.Message
	}
	if code == "" {
		code = http.StatusText(res.StatusCode)
	}
	return res.StatusCode, code, nil
}
