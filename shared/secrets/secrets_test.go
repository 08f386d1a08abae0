package secrets_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/courseplatform/billing/shared/secrets"
	"github.com/courseplatform/billing/shared/secrets/secretmanagertest"
)

const (
	webhookName = "projects/p/secrets/stripe-webhook/versions/latest"
	apiKeyName  = "projects/p/secrets/stripe-api/versions/latest"
)

// testCtx bounds every resolution so that a bug blocks a test for a while
// and then fails it, instead of hanging the run. No assertion depends on
// how long anything takes.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func envMap(m map[string]string) secrets.Option {
	return secrets.WithLookupEnv(func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	})
}

func writeDotenv(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// noDotenv is a path that does not exist, so tests never read a developer's
// own .env by accident.
func noDotenv(t *testing.T) secrets.Option {
	return secrets.WithDotenvPath(filepath.Join(t.TempDir(), "absent.env"))
}

// clients counts Secret Manager clients opened and closed through it.
type clients struct {
	srv            *secretmanagertest.Server
	opens, closes  atomic.Int32
	failOpens      atomic.Int32 // how many opens still to fail
	openFailureErr error
}

func newClients(srv *secretmanagertest.Server) *clients { return &clients{srv: srv} }

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

func (c *clients) option() secrets.Option {
	return secrets.WithAccessor(func(ctx context.Context) (secrets.Accessor, io.Closer, error) {
		if c.failOpens.Add(-1) >= 0 {
			return nil, nil, c.openFailureErr
		}
		client, err := c.srv.NewClient(ctx)
		if err != nil {
			return nil, nil, err
		}
		c.opens.Add(1)
		return client, closerFunc(func() error {
			c.closes.Add(1)
			return client.Close()
		}), nil
	})
}

func TestValuesSourcePrecedence(t *testing.T) {
	const key = "STRIPE_SECRET_KEY"
	tests := []struct {
		name      string
		env       map[string]string
		dotenv    string // written to a file when not empty
		optional  bool
		want      string
		wantOpens int32
	}{
		{
			name:      "secret name beats plain env and .env",
			env:       map[string]string{key + "_SECRET_NAME": apiKeyName, key: "sk_from_env"},
			dotenv:    key + "=sk_from_dotenv\n",
			want:      "sk_from_secret_manager",
			wantOpens: 1,
		},
		{
			name:   "plain env beats .env",
			env:    map[string]string{key: "sk_from_env"},
			dotenv: key + "=sk_from_dotenv\n",
			want:   "sk_from_env",
		},
		{
			name:   ".env is used when env is unset",
			dotenv: key + "=sk_from_dotenv\n",
			want:   "sk_from_dotenv",
		},
		{
			name:   "blank env falls through to .env",
			env:    map[string]string{key: "  "},
			dotenv: key + "=sk_from_dotenv\n",
			want:   "sk_from_dotenv",
		},
		{
			name: "blank secret name falls through to plain env without a client",
			env:  map[string]string{key + "_SECRET_NAME": "", key: "sk_from_env"},
			want: "sk_from_env",
		},
		{
			name:      "secret payload has surrounding whitespace trimmed",
			env:       map[string]string{key + "_SECRET_NAME": webhookName},
			want:      "whsec_padded",
			wantOpens: 1,
		},
		{
			name:     "optional key set nowhere is empty",
			optional: true,
			want:     "",
		},
		{
			name:      "optional key with an empty secret payload is empty",
			env:       map[string]string{key + "_SECRET_NAME": "projects/p/secrets/empty/versions/1"},
			optional:  true,
			want:      "",
			wantOpens: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := secretmanagertest.Start(t, map[string]string{
				apiKeyName:                            "sk_from_secret_manager",
				webhookName:                           "\n  whsec_padded \r\n",
				"projects/p/secrets/empty/versions/1": " \n",
			})
			c := newClients(srv)
			dotenvOpt := noDotenv(t)
			if tt.dotenv != "" {
				dotenvOpt = secrets.WithDotenvPath(writeDotenv(t, tt.dotenv))
			}
			r := secrets.NewResolver([]secrets.Key{{Name: key, Optional: tt.optional}},
				envMap(tt.env), dotenvOpt, c.option())

			vals, err := r.Values(testCtx(t))
			if err != nil {
				t.Fatalf("Values: %v", err)
			}
			if got := vals.Get(key); got != tt.want {
				t.Errorf("Get(%s) = %q; want %q", key, got, tt.want)
			}
			if got := c.opens.Load(); got != tt.wantOpens {
				t.Errorf("clients opened = %d; want %d (only when a key has a secret name)", got, tt.wantOpens)
			}
			if opens, closes := c.opens.Load(), c.closes.Load(); opens != closes {
				t.Errorf("clients opened %d, closed %d; want every client closed after resolving", opens, closes)
			}
		})
	}
}

func TestValuesBillingDotenvNamesTheFile(t *testing.T) {
	path := writeDotenv(t, "STRIPE_SECRET_KEY=sk_from_named_file\n")
	r := secrets.NewResolver([]secrets.Key{{Name: "STRIPE_SECRET_KEY"}},
		envMap(map[string]string{"BILLING_DOTENV": path}))
	vals, err := r.Values(testCtx(t))
	if err != nil {
		t.Fatalf("Values: %v", err)
	}
	if got := vals.Get("STRIPE_SECRET_KEY"); got != "sk_from_named_file" {
		t.Errorf("Get = %q; want the value from the file BILLING_DOTENV names", got)
	}
}

func TestValuesMissingRequiredKey(t *testing.T) {
	srv := secretmanagertest.Start(t, nil)
	c := newClients(srv)
	dotenv := writeDotenv(t, "OTHER=x\n")
	r := secrets.NewResolver([]secrets.Key{
		{Name: "STRIPE_SECRET_KEY"},
		{Name: "STRIPE_WEBHOOK_SECRET"},
		{Name: "PRESENT"},
		{Name: "FROM_SECRET_MANAGER"},
	}, envMap(map[string]string{
		"PRESENT":                         "value_present",
		"FROM_SECRET_MANAGER_SECRET_NAME": apiKeyName,
	}), secrets.WithDotenvPath(dotenv), c.option())

	_, err := r.Values(testCtx(t))
	if err == nil {
		t.Fatal("Values with required keys unset = nil error; want an error naming them")
	}
	for _, want := range []string{
		"required key STRIPE_SECRET_KEY is not set",
		"env STRIPE_SECRET_KEY_SECRET_NAME, env STRIPE_SECRET_KEY, and STRIPE_SECRET_KEY in .env file " + dotenv,
		"required key STRIPE_WEBHOOK_SECRET is not set",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "PRESENT") {
		t.Errorf("error %q names a key that was set", err)
	}
	if n := c.opens.Load(); n != 0 {
		t.Errorf("clients opened = %d; want 0 (configuration errors come before any fetch)", n)
	}
}

func TestValuesMissingRequiredKeySaysDotenvWasNotFound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.env")
	r := secrets.NewResolver([]secrets.Key{{Name: "K"}}, envMap(nil), secrets.WithDotenvPath(path))
	_, err := r.Values(testCtx(t))
	if want := "K in .env file " + path + " (not found)"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Values = %v; want an error containing %q", err, want)
	}
}

func TestValuesResolvesOnceAndCaches(t *testing.T) {
	names := map[string]string{
		"A": "projects/p/secrets/a/versions/latest",
		"B": "projects/p/secrets/b/versions/latest",
		"C": "projects/p/secrets/c/versions/3",
	}
	payloads := map[string]string{}
	env := map[string]string{"PLAIN": "plain_value"}
	keys := []secrets.Key{{Name: "PLAIN"}}
	for k, name := range names {
		payloads[name] = "value_" + k
		env[k+"_SECRET_NAME"] = name
		keys = append(keys, secrets.Key{Name: k})
	}
	srv := secretmanagertest.Start(t, payloads)
	c := newClients(srv)
	r := secrets.NewResolver(keys, envMap(env), noDotenv(t), c.option())

	// Concurrent first callers, then later ones.
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 20 {
		wg.Go(func() {
			_, err := r.Values(testCtx(t))
			errs <- err
		})
	}
	wg.Wait()
	for range 30 {
		_, err := r.Values(testCtx(t))
		errs <- err
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Values: %v", err)
		}
	}

	vals, err := r.Values(testCtx(t))
	if err != nil {
		t.Fatalf("Values: %v", err)
	}
	for k, name := range names {
		if got := srv.CallsFor(name); got != 1 {
			t.Errorf("AccessSecretVersion(%s) called %d times; want 1", name, got)
		}
		if got := vals.Get(k); got != "value_"+k {
			t.Errorf("Get(%s) = %q; want %q", k, got, "value_"+k)
		}
	}
	if got := vals.Get("PLAIN"); got != "plain_value" {
		t.Errorf("Get(PLAIN) = %q; want plain_value", got)
	}
	if opens, closes := c.opens.Load(), c.closes.Load(); opens != 1 || closes != 1 {
		t.Errorf("clients opened %d, closed %d; want 1 and 1", opens, closes)
	}
}

func TestValuesReturnsACopy(t *testing.T) {
	r := secrets.NewResolver([]secrets.Key{{Name: "K"}}, envMap(map[string]string{"K": "v"}), noDotenv(t))
	vals, err := r.Values(testCtx(t))
	if err != nil {
		t.Fatalf("Values: %v", err)
	}
	vals["K"] = "changed"
	again, err := r.Values(testCtx(t))
	if err != nil {
		t.Fatalf("Values: %v", err)
	}
	if got := again.Get("K"); got != "v" {
		t.Errorf("Get after caller mutated its copy = %q; want v", got)
	}
}

func TestValuesFailureIsNotCached(t *testing.T) {
	tests := []struct {
		name     string
		code     codes.Code
		setup    func(srv *secretmanagertest.Server) // makes the first call fail
		wantText string
	}{
		{
			name:     "PermissionDenied while IAM propagates, then success",
			code:     codes.PermissionDenied,
			setup:    func(srv *secretmanagertest.Server) { srv.FailNext(1, codes.PermissionDenied) },
			wantText: "secrets: access " + webhookName + " for STRIPE_WEBHOOK_SECRET: PermissionDenied",
		},
		{
			name:     "NotFound before the version exists, then success",
			code:     codes.NotFound,
			setup:    func(srv *secretmanagertest.Server) { srv.FailNext(1, codes.NotFound) },
			wantText: "secrets: access " + webhookName + " for STRIPE_WEBHOOK_SECRET: NotFound",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := secretmanagertest.Start(t, map[string]string{webhookName: "whsec_ok"})
			tt.setup(srv)
			c := newClients(srv)
			r := secrets.NewResolver([]secrets.Key{{Name: "STRIPE_WEBHOOK_SECRET"}},
				envMap(map[string]string{"STRIPE_WEBHOOK_SECRET_SECRET_NAME": webhookName}),
				noDotenv(t), c.option())

			_, err := r.Values(testCtx(t))
			if err == nil {
				t.Fatal("first Values = nil error; want the injected failure")
			}
			if got := status.Code(err); got != tt.code {
				t.Errorf("status.Code(err) = %s; want %s (the error must unwrap to the gRPC status)", got, tt.code)
			}
			var ae *secrets.AccessError
			if !errors.As(err, &ae) || ae.Secret != webhookName || ae.Key != "STRIPE_WEBHOOK_SECRET" {
				t.Errorf("errors.As(err, *AccessError) = %+v; want Secret %s, Key STRIPE_WEBHOOK_SECRET", ae, webhookName)
			}
			if !strings.HasPrefix(err.Error(), tt.wantText) {
				t.Errorf("error = %q; want prefix %q", err, tt.wantText)
			}

			vals, err := r.Values(testCtx(t))
			if err != nil {
				t.Fatalf("second Values = %v; want a fresh attempt that succeeds", err)
			}
			if got := vals.Get("STRIPE_WEBHOOK_SECRET"); got != "whsec_ok" {
				t.Errorf("Get = %q; want whsec_ok", got)
			}
			if got := srv.CallsFor(webhookName); got != 2 {
				t.Errorf("AccessSecretVersion called %d times; want 2 (one failure, one retry)", got)
			}
			if opens, closes := c.opens.Load(), c.closes.Load(); opens != 2 || closes != 2 {
				t.Errorf("clients opened %d, closed %d; want 2 and 2 (closed after a failure too)", opens, closes)
			}
		})
	}
}

// The real client retries Unavailable itself (with backoff of up to two
// seconds), so one Unavailable never reaches the resolver.
func TestValuesUnavailableIsRetriedByTheClient(t *testing.T) {
	srv := secretmanagertest.Start(t, map[string]string{webhookName: "whsec_ok"})
	srv.FailNext(1, codes.Unavailable)
	r := secrets.NewResolver([]secrets.Key{{Name: "W"}},
		envMap(map[string]string{"W_SECRET_NAME": webhookName}), noDotenv(t), newClients(srv).option())

	vals, err := r.Values(testCtx(t))
	if err != nil {
		t.Fatalf("Values after one Unavailable = %v; want the client's retry to succeed", err)
	}
	if got := vals.Get("W"); got != "whsec_ok" {
		t.Errorf("Get = %q; want whsec_ok", got)
	}
	if got := srv.CallsFor(webhookName); got != 2 {
		t.Errorf("AccessSecretVersion called %d times; want 2 (failure, client retry)", got)
	}
}

func TestValuesClientCreationFailureIsNotCached(t *testing.T) {
	srv := secretmanagertest.Start(t, map[string]string{webhookName: "whsec_ok"})
	c := newClients(srv)
	c.openFailureErr = errors.New("no credentials")
	c.failOpens.Store(1)
	r := secrets.NewResolver([]secrets.Key{{Name: "W"}},
		envMap(map[string]string{"W_SECRET_NAME": webhookName}), noDotenv(t), c.option())

	_, err := r.Values(testCtx(t))
	if err == nil || !strings.Contains(err.Error(), "secrets: create Secret Manager client: no credentials") {
		t.Fatalf("first Values = %v; want the client creation error with context", err)
	}
	if _, err := r.Values(testCtx(t)); err != nil {
		t.Fatalf("second Values = %v; want a fresh attempt that succeeds", err)
	}
}

func TestValuesFetchesSecretsInParallel(t *testing.T) {
	const n = 4
	payloads := map[string]string{}
	env := map[string]string{}
	var keys []secrets.Key
	for i := range n {
		k := fmt.Sprintf("KEY_%d", i)
		name := fmt.Sprintf("projects/p/secrets/s%d/versions/latest", i)
		payloads[name] = "value_" + k
		env[k+"_SECRET_NAME"] = name
		keys = append(keys, secrets.Key{Name: k})
	}
	srv := secretmanagertest.Start(t, payloads)
	// Every call waits until all n are in flight; fetching one at a time
	// would leave the first call waiting until testCtx ends, and fail.
	srv.BlockUntilInFlight(n)
	r := secrets.NewResolver(keys, envMap(env), noDotenv(t), newClients(srv).option())

	vals, err := r.Values(testCtx(t))
	if err != nil {
		t.Fatalf("Values = %v; want all %d fetches in flight at once", err, n)
	}
	for _, k := range keys {
		if got := vals.Get(k.Name); got != "value_"+k.Name {
			t.Errorf("Get(%s) = %q; want %q", k.Name, got, "value_"+k.Name)
		}
	}
}

func TestErrorsNeverContainSecretValues(t *testing.T) {
	// Every value in play is distinctive so any leak is found by substring.
	const (
		okSecret   = "projects/p/secrets/ok/versions/latest"
		badSecret  = "projects/p/secrets/bad/versions/latest"
		okValue    = "sk_test_fake_LEAK_FROM_SECRET_MANAGER"
		badValue   = "whsec_LEAK_FROM_CORRUPT_PAYLOAD"
		envValue   = "sk_test_fake_LEAK_FROM_ENV"
		dotenvLeak = "sk_test_fake_LEAK_FROM_DOTENV"
	)
	leaks := []string{okValue, badValue, envValue, dotenvLeak, "LEAK"}

	tests := []struct {
		name   string
		env    map[string]string
		dotenv string
		keys   []secrets.Key
		setup  func(*secretmanagertest.Server)
	}{
		{
			name: "one secret denied while another resolved",
			env:  map[string]string{"OK_SECRET_NAME": okSecret, "BAD_SECRET_NAME": badSecret, "PLAIN": envValue},
			keys: []secrets.Key{{Name: "OK"}, {Name: "BAD"}, {Name: "PLAIN"}},
			setup: func(srv *secretmanagertest.Server) {
				srv.FailNext(1, codes.PermissionDenied)
				srv.FailNext(1, codes.PermissionDenied) // whichever of the two goes first
			},
		},
		{
			name:  "payload checksum mismatch",
			env:   map[string]string{"BAD_SECRET_NAME": badSecret},
			keys:  []secrets.Key{{Name: "BAD"}},
			setup: func(srv *secretmanagertest.Server) { srv.CorruptChecksum(badSecret) },
		},
		{
			name:   ".env line without = holding a bare secret",
			dotenv: "OK=fine\n" + dotenvLeak + "\n",
			keys:   []secrets.Key{{Name: "MISSING"}},
		},
		{
			name:   ".env value with an unterminated quote",
			dotenv: "K=\"" + dotenvLeak + "\n",
			keys:   []secrets.Key{{Name: "K"}},
		},
		{
			name:   ".env value with text after the closing quote",
			dotenv: "K='" + dotenvLeak + "'" + dotenvLeak + "\n",
			keys:   []secrets.Key{{Name: "K"}},
		},
		{
			name:   "required key missing while others hold values",
			env:    map[string]string{"PLAIN": envValue},
			dotenv: "FROM_FILE=" + dotenvLeak + "\n",
			keys:   []secrets.Key{{Name: "PLAIN"}, {Name: "FROM_FILE"}, {Name: "MISSING"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := secretmanagertest.Start(t, map[string]string{okSecret: okValue, badSecret: badValue})
			if tt.setup != nil {
				tt.setup(srv)
			}
			dotenvOpt := noDotenv(t)
			if tt.dotenv != "" {
				dotenvOpt = secrets.WithDotenvPath(writeDotenv(t, tt.dotenv))
			}
			r := secrets.NewResolver(tt.keys, envMap(tt.env), dotenvOpt, newClients(srv).option())

			_, err := r.Values(testCtx(t))
			if err == nil {
				t.Fatal("Values = nil error; want a failure")
			}
			for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				for _, leak := range leaks {
					if strings.Contains(text, leak) {
						t.Fatalf("error text %q contains secret material %q", text, leak)
					}
				}
			}
		})
	}
}
