// Package secrets resolves the keys a billing function needs, once, at cold
// start.
//
// Configuration names secrets; it does not hold them. In production a key K
// such as STRIPE_SECRET_KEY is deployed as K_SECRET_NAME, the name of a
// Secret Manager version, so the value never appears in the Cloud Run
// service definition, in Terraform state or in `gcloud run services
// describe`, and access is granted per secret to each function's service
// account. Locally the same key can be a plain variable or a line in a .env
// file, as in the old Django set-up, so a developer needs no Google
// credentials to run a function.
//
// For each key K the first of these that is set and not blank wins:
//
//  1. env K_SECRET_NAME: fetched from Secret Manager, surrounding whitespace
//     trimmed;
//  2. env K;
//  3. K in the .env file named by env BILLING_DOTENV (default ".env" in the
//     working directory; a missing file is fine).
//
// A required key found nowhere is an error; an optional one is "".
//
// Values are resolved once per instance and cached; a failed resolution is
// not cached, so the next request tries again. Errors name keys and secret
// names, never values, and Values redacts itself when printed or logged.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"os"
	"strings"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"github.com/googleapis/gax-go/v2"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/status"

	"github.com/courseplatform/billing/shared/instance"
)

// SecretNameSuffix is appended to a key's name to form the variable that
// holds its Secret Manager version name.
const SecretNameSuffix = "_SECRET_NAME"

// DotenvPathVar names the variable that overrides where the .env file is.
const DotenvPathVar = "BILLING_DOTENV"

// Key is one value a function needs, by its logical name, such as
// "STRIPE_WEBHOOK_SECRET".
type Key struct {
	Name string
	// Optional keys resolve to "" when set nowhere instead of failing.
	Optional bool
}

// Accessor is the part of the Secret Manager client that Resolver uses.
// *secretmanager.Client implements it.
type Accessor interface {
	AccessSecretVersion(ctx context.Context, req *secretmanagerpb.AccessSecretVersionRequest, opts ...gax.CallOption) (*secretmanagerpb.AccessSecretVersionResponse, error)
}

// OpenAccessorFunc creates a Secret Manager client. The io.Closer, which may
// be nil, is closed once resolution is done with the client.
type OpenAccessorFunc func(ctx context.Context) (Accessor, io.Closer, error)

// Option configures a Resolver.
type Option func(*Resolver)

// WithAccessor replaces how the Secret Manager client is created. The
// default is secretmanager.NewClient with Application Default Credentials.
func WithAccessor(open OpenAccessorFunc) Option {
	return func(r *Resolver) { r.open = open }
}

// WithLookupEnv replaces os.LookupEnv, so tests need not touch the process
// environment.
func WithLookupEnv(lookup func(string) (string, bool)) Option {
	return func(r *Resolver) { r.lookupEnv = lookup }
}

// WithDotenvPath sets the .env file to read, overriding BILLING_DOTENV.
func WithDotenvPath(path string) Option {
	return func(r *Resolver) { r.dotenvPath = path }
}

// Resolver resolves a fixed set of keys once per instance. It is safe for
// concurrent use.
type Resolver struct {
	keys       []Key
	open       OpenAccessorFunc
	lookupEnv  func(string) (string, bool)
	dotenvPath string
	values     *instance.Lazy[Values]
}

// NewResolver returns a Resolver for keys. Nothing is read until Values is
// called.
func NewResolver(keys []Key, opts ...Option) *Resolver {
	r := &Resolver{
		keys:      append([]Key(nil), keys...),
		open:      openSecretManager,
		lookupEnv: os.LookupEnv,
	}
	for _, opt := range opts {
		opt(r)
	}
	r.values = instance.NewLazy(r.resolve)
	return r
}

func openSecretManager(ctx context.Context) (Accessor, io.Closer, error) {
	c, err := secretmanager.NewClient(ctx)
	if err != nil {
		return nil, nil, err
	}
	return c, c, nil
}

// Values returns every key's value. The first call resolves them, fetching
// Secret Manager versions in parallel; later calls return the same values
// without fetching again. If resolution fails, the next call starts over.
// Concurrent callers share one resolution. The returned map is the caller's
// own copy.
func (r *Resolver) Values(ctx context.Context) (Values, error) {
	v, err := r.values.Get(ctx)
	if err != nil {
		return nil, err
	}
	return maps.Clone(v), nil
}

// fetch is a key whose value is in Secret Manager.
type fetch struct {
	key    Key
	secret string // version name, e.g. projects/p/secrets/s/versions/latest
}

func (r *Resolver) resolve(ctx context.Context) (Values, error) {
	vals := make(Values, len(r.keys))
	var (
		fetches []fetch
		missing []error
		dotenv  *dotenvFile
	)
	for _, k := range r.keys {
		if k.Name == "" {
			return nil, errors.New("secrets: a key has an empty name")
		}
		if name, ok := r.env(k.Name + SecretNameSuffix); ok {
			fetches = append(fetches, fetch{key: k, secret: name})
			continue
		}
		if v, ok := r.env(k.Name); ok {
			vals[k.Name] = v
			continue
		}
		if dotenv == nil {
			// Read only when a key needs it: in production every key is
			// set in the environment and there is no file to look for.
			var err error
			if dotenv, err = readDotenv(r.dotenvFile()); err != nil {
				return nil, err
			}
		}
		if v := dotenv.vars[k.Name]; v != "" {
			vals[k.Name] = v
			continue
		}
		if !k.Optional {
			missing = append(missing, fmt.Errorf(
				"secrets: required key %s is not set: looked at env %s%s, env %s, and %s in %s",
				k.Name, k.Name, SecretNameSuffix, k.Name, k.Name, dotenv.describe()))
			continue
		}
		vals[k.Name] = ""
	}
	// Report configuration mistakes before paying for a client.
	if len(missing) > 0 {
		return nil, errors.Join(missing...)
	}
	if len(fetches) == 0 {
		return vals, nil
	}

	accessor, closer, err := r.open(ctx)
	if err != nil {
		return nil, fmt.Errorf("secrets: create Secret Manager client: %w", err)
	}
	if closer != nil {
		// The values are what matter; a client that fails to close is one
		// we never use again, and failing the cold start over it would turn
		// a leaked connection into an outage.
		defer func() { _ = closer.Close() }()
	}

	fetched := make([]string, len(fetches))
	g, gctx := errgroup.WithContext(ctx)
	for i, f := range fetches {
		g.Go(func() error {
			v, err := access(gctx, accessor, f)
			fetched[i] = v
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i, f := range fetches {
		vals[f.key.Name] = fetched[i]
	}
	return vals, nil
}

// env reports a variable as set only if it is not blank: an empty
// K_SECRET_NAME left in a deploy config should fall through, not be fetched.
func (r *Resolver) env(name string) (string, bool) {
	v, ok := r.lookupEnv(name)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

func (r *Resolver) dotenvFile() string {
	if r.dotenvPath != "" {
		return r.dotenvPath
	}
	if p, ok := r.env(DotenvPathVar); ok {
		return p
	}
	return ".env"
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// access fetches one secret version. Its errors carry the key and the
// secret's name, never the payload.
func access(ctx context.Context, a Accessor, f fetch) (string, error) {
	resp, err := a.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: f.secret})
	if err != nil {
		return "", &AccessError{Key: f.key.Name, Secret: f.secret, Err: err}
	}
	payload := resp.GetPayload()
	if payload.DataCrc32C != nil && int64(crc32.Checksum(payload.GetData(), castagnoli)) != payload.GetDataCrc32C() {
		return "", fmt.Errorf("secrets: access %s for %s: payload checksum mismatch", f.secret, f.key.Name)
	}
	v := strings.TrimSpace(string(payload.GetData()))
	if v == "" && !f.key.Optional {
		return "", fmt.Errorf("secrets: access %s for %s: payload is empty", f.secret, f.key.Name)
	}
	return v, nil
}

// AccessError is a failed Secret Manager read. It unwraps to the client's
// error, so status.Code(err) gives the gRPC code.
type AccessError struct {
	Key    string // logical key, e.g. STRIPE_SECRET_KEY
	Secret string // version name that was read
	Err    error
}

func (e *AccessError) Error() string {
	st, ok := status.FromError(e.Err)
	if !ok {
		// The client can give up on its own context before any RPC
		// answers; name that as the code it is, not as Unknown.
		st = status.FromContextError(e.Err)
	}
	msg := fmt.Sprintf("secrets: access %s for %s: %s", e.Secret, e.Key, st.Code())
	if d := st.Message(); d != "" {
		msg += ": " + d
	}
	return msg
}

func (e *AccessError) Unwrap() error { return e.Err }
