package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/courseplatform/billing/functions/webhooks/catalog"
	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/store/firestore/firestoretest"
	"github.com/courseplatform/billing/shared/store/memstore"
	"github.com/courseplatform/billing/shared/stripeapi"
	"github.com/courseplatform/billing/shared/stripelocal"
	"github.com/courseplatform/billing/shared/webhook"
	"github.com/courseplatform/billing/shared/webhook/webhooktest"
)

const fakeKey = "sk_test_fake_course_cmd_key"

// memCourses is memstore with the list the command needs.
type memCourses struct{ *memstore.Store }

func (m memCourses) Courses(ctx context.Context) ([]billing.Course, error) {
	var out []billing.Course
	ids := m.IDs(billing.CoursesCollection) // outside View, which holds the store's lock
	err := m.View(ctx, func(ctx context.Context, tx billing.Tx) error {
		for _, id := range ids {
			c, err := tx.Course(ctx, id)
			if err != nil {
				return err
			}
			out = append(out, *c)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

func (memCourses) Close() error { return nil }

func envOf(vars map[string]string, open func(ctx context.Context, project, database string) (courseStore, error)) courseEnv {
	return courseEnv{
		lookup: func(k string) (string, bool) {
			if k == "BILLING_DOTENV" {
				return "/nonexistent/.env", true // never the developer's own .env
			}
			v, ok := vars[k]
			return v, ok
		},
		openStore: open,
	}
}

func TestSlug(t *testing.T) {
	tests := []struct{ title, want string }{
		{"Go Basics", "go-basics"},
		{"  Rust: the deep dive!  ", "rust-the-deep-dive"},
		{"SQL 101 — for analysts", "sql-101-for-analysts"},
		{"Éléments", "l-ments"},
		{"!!!", ""},
		{strings.Repeat("ab-", 40), strings.TrimRight(strings.Repeat("ab-", 22)[:64], "-")},
	}
	for _, tt := range tests {
		if got := slug(tt.title); got != tt.want {
			t.Errorf("slug(%q) = %q, want %q", tt.title, got, tt.want)
		}
	}
}

func TestCourseUsageErrors(t *testing.T) {
	opened := false
	env := envOf(map[string]string{}, func(context.Context, string, string) (courseStore, error) {
		opened = true
		return nil, nil
	})
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", []string{}, "Usage"},
		{"unknown subcommand", []string{"delete"}, `unknown subcommand "delete"`},
		{"no title", []string{"create", "--amount", "4900", "--currency", "usd"}, "--title is required"},
		{"no amount", []string{"create", "--title", "Go", "--currency", "usd"}, "--amount is required"},
		{"amount not a number", []string{"create", "--title", "Go", "--amount", "49.00", "--currency", "usd"}, "not a positive whole number"},
		{"amount zero", []string{"create", "--title", "Go", "--amount", "0", "--currency", "usd"}, "not a positive whole number"},
		{"bad currency", []string{"create", "--title", "Go", "--amount", "4900", "--currency", "dollars"}, "not a three-letter currency code"},
		{"bad interval", []string{"create", "--title", "Go", "--amount", "4900", "--currency", "usd", "--interval", "fortnight"}, "not day, week, month or year"},
		{"bad id", []string{"create", "--title", "Go", "--amount", "4900", "--currency", "usd", "--id", "Go_Basics"}, "must be lowercase letters"},
		{"id too long", []string{"create", "--title", "Go", "--amount", "4900", "--currency", "usd", "--id", strings.Repeat("a", 65)}, "at most 64"},
		{"title makes no id", []string{"create", "--title", "!!!", "--amount", "4900", "--currency", "usd"}, "pass --id"},
		{"extra argument", []string{"create", "--title", "Go", "--amount", "4900", "--currency", "usd", "more"}, `unexpected argument "more"`},
		{"list with arguments", []string{"list", "all"}, `unexpected argument "all"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := runCourseWith(env, tt.args, &stdout, &stderr); code != 2 {
				t.Errorf("exit %d, want 2 (stderr %q)", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr %q, want it to say %q", stderr.String(), tt.want)
			}
		})
	}
	if opened {
		t.Error("a usage error opened the store")
	}
}

func TestCourseFailuresAreOneLiners(t *testing.T) {
	memOpen := func(context.Context, string, string) (courseStore, error) { return memCourses{memstore.New()}, nil }
	args := []string{"create", "--title", "Go", "--amount", "4900", "--currency", "usd"}
	tests := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"no key", map[string]string{"GOOGLE_CLOUD_PROJECT": "demo"}, "STRIPE_SECRET_KEY"},
		{"no project", map[string]string{"STRIPE_SECRET_KEY": fakeKey}, "GOOGLE_CLOUD_PROJECT is not set"},
		{"Stripe unreachable", map[string]string{"STRIPE_SECRET_KEY": fakeKey, "STRIPE_API_BASE": "http://127.0.0.1:1", "GOOGLE_CLOUD_PROJECT": "demo"}, "creating product"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := runCourseWith(envOf(tt.vars, memOpen), args, &stdout, &stderr); code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			msg := stderr.String()
			if !strings.Contains(msg, tt.want) || strings.Count(strings.TrimSpace(msg), "\n") > 0 || strings.Contains(msg, fakeKey) {
				t.Errorf("stderr %q, want one line saying %q and no key", msg, tt.want)
			}
		})
	}
}

// The whole catalog flow against the stand-in: create, rerun, change the
// price; then the stand-in's events, delivered shuffled and twice to the
// catalog function, keep the course; archiving its price stops sales.
func TestCourseCreateAgainstStandIn(t *testing.T) {
	t.Run("memstore", func(t *testing.T) {
		st := memCourses{memstore.New()}
		courseFlow(t, st, "demo-course", func(context.Context, string, string) (courseStore, error) { return st, nil })
	})
	t.Run("firestore", func(t *testing.T) {
		st, project := firestoretest.Open(t)
		courseFlow(t, st, project, openFirestoreCourses)
	})
}

func courseFlow(t *testing.T, store billing.Store, project string, open func(context.Context, string, string) (courseStore, error)) {
	s := stripelocal.New(stripelocal.Options{Seed: 11})
	api := httptest.NewServer(s)
	t.Cleanup(api.Close)
	env := envOf(map[string]string{"STRIPE_SECRET_KEY": fakeKey, "STRIPE_API_BASE": api.URL, "GOOGLE_CLOUD_PROJECT": project}, open)
	create := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := runCourseWith(env, append([]string{"create"}, args...), &stdout, &stderr); code != 0 {
			t.Fatalf("course create %v: exit %d: %s", args, code, stderr.String())
		}
		if out := stdout.String() + stderr.String(); strings.Contains(out, fakeKey) {
			t.Fatalf("the key was printed: %q", out)
		}
		return stdout.String()
	}
	course := func() *billing.Course {
		t.Helper()
		var c *billing.Course
		if err := store.View(context.Background(), func(ctx context.Context, tx billing.Tx) (err error) {
			c, err = tx.Course(ctx, "go-basics")
			return err
		}); err != nil || c == nil {
			t.Fatalf("course: %v, %v", c, err)
		}
		return c
	}

	// The catalog function, reading objects back from the stand-in; its
	// events queue until delivered below.
	sc, err := stripeapi.NewClient(stripeapi.ClientConfig{Key: fakeKey, BaseURL: api.URL})
	if err != nil {
		t.Fatal(err)
	}
	h, err := webhook.NewHandler(webhook.Config{
		Function: billing.CatalogEvents.EntryPoint,
		Secrets:  []string{webhooktest.Secret},
		Routes:   catalog.Routes(stripeapi.Refetch{API: sc, Now: s.Now}, time.Now),
		Store:    store,
		Logger:   slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	fn := httptest.NewServer(h)
	t.Cleanup(fn.Close)
	s.AddEndpoint(stripelocal.Endpoint{URL: fn.URL, Secret: webhooktest.Secret, EnabledEvents: billing.CatalogEvents.Types})
	deliver := func() {
		t.Helper()
		rep := s.Deliver(context.Background(), stripelocal.DeliveryOptions{Duplicates: 0.5, Shuffle: true, Concurrency: 2, Seed: 3})
		if len(rep.Failures) > 0 {
			t.Fatalf("%d deliveries failed, e.g. %+v", len(rep.Failures), rep.Failures[0])
		}
	}
	out := create("--title", "Go Basics", "--amount", "4900", "--currency", "USD", "--interval", "month")
	if len(s.Products()) != 1 || len(s.Prices()) != 1 {
		t.Fatalf("%d products, %d prices after create, want 1 and 1", len(s.Products()), len(s.Prices()))
	}
	first := s.Prices()[0]
	if !strings.Contains(out, "course go-basics product "+s.Products()[0].ID+" price "+first.ID) {
		t.Errorf("output %q does not name the course, product and price", out)
	}
	c := course()
	if c.StripePriceID != first.ID || c.Amount != 4900 || c.Currency != "usd" || c.Mode != billing.ModeSubscription || c.Interval != "month" || !c.Sellable() {
		t.Errorf("course after create: %+v", c)
	}
	if p := s.Products()[0]; p.DefaultPrice == nil || p.DefaultPrice.ID != first.ID || p.Metadata[stripeapi.CourseIDKey] != "go-basics" {
		t.Errorf("product %+v: want default price %s and course metadata", p, first.ID)
	}
	if first.Metadata[stripeapi.CourseIDKey] != "go-basics" || first.Recurring == nil || first.Recurring.Interval != "month" {
		t.Errorf("price %+v: want course metadata, monthly", first)
	}

	create("--title", "Go Basics", "--amount", "4900", "--currency", "usd", "--interval", "month")
	if len(s.Products()) != 1 || len(s.Prices()) != 1 {
		t.Fatalf("rerun: %d products, %d prices, want 1 and 1", len(s.Products()), len(s.Prices()))
	}

	s.Advance(time.Minute)
	out = create("--title", "Go Basics", "--amount", "5900", "--currency", "usd", "--interval", "month")
	if len(s.Products()) != 1 || len(s.Prices()) != 2 {
		t.Fatalf("new amount: %d products, %d prices, want 1 and 2", len(s.Products()), len(s.Prices()))
	}
	var second *stripe.Price
	for _, p := range s.Prices() {
		switch {
		case p.ID == first.ID && p.Active:
			t.Errorf("old price %s still active", p.ID)
		case p.ID != first.ID:
			second = p
		}
	}
	if !strings.Contains(out, "price "+first.ID+" archived") {
		t.Errorf("output %q does not say the old price was archived", out)
	}
	if p := s.Products()[0]; p.DefaultPrice == nil || p.DefaultPrice.ID != second.ID {
		t.Errorf("default price %v, want %s", p.DefaultPrice, second.ID)
	}
	if c := course(); c.StripePriceID != second.ID || c.Amount != 5900 || !c.Sellable() {
		t.Errorf("course after the new amount: %+v", c)
	}

	deliver()
	if c := course(); c.StripePriceID != second.ID || !c.Sellable() {
		t.Errorf("course after the catalog's events: %+v", c)
	}

	s.Advance(time.Minute)
	if _, err := sc.Prices.Update(second.ID, &stripe.PriceParams{Active: stripe.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	deliver()
	if c := course(); c.PriceActive || c.Sellable() {
		t.Errorf("course after its price was archived: %+v, want not sellable", c)
	}

	var stdout, stderr bytes.Buffer
	if code := runCourseWith(env, []string{"list"}, &stdout, &stderr); code != 0 {
		t.Fatalf("list: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "go-basics") || !strings.Contains(stdout.String(), "false") || !strings.Contains(stdout.String(), "1 courses") {
		t.Errorf("list:\n%s", stdout.String())
	}
}

// failingUpdates is a store whose writes fail, as when Firestore goes away
// between the Stripe calls and the course's document.
type failingUpdates struct{ memCourses }

func (failingUpdates) Update(context.Context, func(context.Context, billing.Tx) error) error {
	return errors.New("firestore unavailable")
}

// A run that made the Stripe objects but not the document: the rerun finds
// no document, and the idempotency keys give back the same product and
// price instead of second ones.
func TestCourseCreateRerunAfterFailedWrite(t *testing.T) {
	s := stripelocal.New(stripelocal.Options{Seed: 5})
	api := httptest.NewServer(s)
	t.Cleanup(api.Close)
	mem := memCourses{memstore.New()}
	var st courseStore = failingUpdates{mem}
	env := envOf(map[string]string{"STRIPE_SECRET_KEY": fakeKey, "STRIPE_API_BASE": api.URL, "GOOGLE_CLOUD_PROJECT": "demo"},
		func(context.Context, string, string) (courseStore, error) { return st, nil })
	args := []string{"create", "--title", "SQL for analysts", "--amount", "9900", "--currency", "eur"}
	var stdout, stderr bytes.Buffer
	if code := runCourseWith(env, args, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "firestore unavailable") {
		t.Fatalf("failed write: exit %d, stderr %q", code, stderr.String())
	}
	st = mem
	if code := runCourseWith(env, args, &stdout, &stderr); code != 0 {
		t.Fatalf("rerun: exit %d: %s", code, stderr.String())
	}
	if len(s.Products()) != 1 || len(s.Prices()) != 1 {
		t.Fatalf("%d products, %d prices, want 1 and 1", len(s.Products()), len(s.Prices()))
	}
	var c *billing.Course
	_ = mem.View(context.Background(), func(ctx context.Context, tx billing.Tx) (err error) {
		c, err = tx.Course(ctx, "sql-for-analysts")
		return err
	})
	if c == nil || c.StripePriceID != s.Prices()[0].ID || c.Mode != billing.ModePayment || c.Interval != "" || !c.Sellable() {
		t.Errorf("course %+v", c)
	}
}
