package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/secrets"
	"github.com/courseplatform/billing/shared/store/firestore"
	"github.com/courseplatform/billing/shared/stripeapi"
)

// courseStore is where the course command keeps courses/{id}.
type courseStore interface {
	billing.Store
	// Courses returns every course, by id.
	Courses(ctx context.Context) ([]billing.Course, error)
	Close() error
}

// courseEnv is what the course command takes from its surroundings;
// tests replace it.
type courseEnv struct {
	lookup    func(string) (string, bool)
	openStore func(ctx context.Context, project, database string) (courseStore, error)
}

func defaultCourseEnv() courseEnv {
	return courseEnv{lookup: os.LookupEnv, openStore: openFirestoreCourses}
}

// firestoreCourses lists courses with a plain query; the Store interface
// needs no list, since the functions read courses by id.
type firestoreCourses struct{ *firestore.Store }

func openFirestoreCourses(ctx context.Context, project, database string) (courseStore, error) {
	s, err := firestore.Open(ctx, project, database)
	if err != nil {
		return nil, err
	}
	return firestoreCourses{s}, nil
}

func (f firestoreCourses) Courses(ctx context.Context) ([]billing.Course, error) {
	docs, err := f.Client().Collection(billing.CoursesCollection).Documents(ctx).GetAll()
	if err != nil {
		return nil, fmt.Errorf("firestore: listing %s: %w", billing.CoursesCollection, err)
	}
	out := make([]billing.Course, 0, len(docs))
	for _, d := range docs {
		var c billing.Course
		if err := d.DataTo(&c); err != nil {
			return nil, fmt.Errorf("firestore: %s/%s: %w", billing.CoursesCollection, d.Ref.ID, err)
		}
		c.ID = d.Ref.ID
		out = append(out, c)
	}
	return out, nil
}

func runCourse(args []string, stdout, stderr io.Writer) int {
	return runCourseWith(defaultCourseEnv(), args, stdout, stderr)
}

const courseUsage = `Usage:
  billing course create --title TITLE --amount CENTS --currency CUR [--interval month|year|week|day] [--id COURSE_ID]
  billing course list

create makes (or brings up to date) the Stripe product and price that sell a
course and writes courses/{COURSE_ID}. It is safe to run again: the same
arguments create nothing new; another amount, currency or interval makes a
new price, sets it as the product's default and archives the old one.
COURSE_ID defaults to a slug of the title. Without --interval the course is
a one-time purchase.

list prints every course in Firestore.

Environment: STRIPE_SECRET_KEY (or STRIPE_SECRET_KEY_SECRET_NAME, or .env),
STRIPE_API_BASE (e.g. the local stand-in), GOOGLE_CLOUD_PROJECT,
FIRESTORE_DATABASE, FIRESTORE_EMULATOR_HOST.
Exit status: 0 done, 1 failure, 2 usage error.
`

func runCourseWith(env courseEnv, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, courseUsage)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, courseUsage)
		return 0
	case "create":
		return runCourseCreate(env, args[1:], stdout, stderr)
	case "list":
		return runCourseList(env, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "billing course: unknown subcommand %q\n\n%s", args[0], courseUsage)
	return 2
}

// courseSpec is what `course create` is asked to make.
type courseSpec struct {
	id, title, currency, interval string
	amount                        int64
}

var (
	courseIDPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	currencyPattern = regexp.MustCompile(`^[a-z]{3}$`)
)

const maxCourseID = 64

// slug makes a course id of a title: lowercase ASCII letters and digits,
// every other run of characters one dash.
func slug(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
	}
	s := b.String()
	if len(s) > maxCourseID {
		s = strings.TrimRight(s[:maxCourseID], "-")
	}
	return s
}

func parseCourseCreate(args []string, stderr io.Writer) (courseSpec, error) {
	var spec courseSpec
	var amount string
	fs := flag.NewFlagSet("course create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&spec.title, "title", "", "course `title`, the Stripe product's name (required)")
	fs.StringVar(&amount, "amount", "", "price in the currency's smallest unit, e.g. 4900 for $49.00 (required)")
	fs.StringVar(&spec.currency, "currency", "", "three-letter ISO `currency` code, e.g. usd (required)")
	fs.StringVar(&spec.interval, "interval", "", "bill every day, week, month or year; empty for a one-time purchase")
	fs.StringVar(&spec.id, "id", "", "course `id` (lowercase letters, digits, dashes; at most 64); default a slug of the title")
	fs.Usage = func() { fmt.Fprint(fs.Output(), courseUsage+"\nFlags of create:\n"); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return spec, err
	}
	spec.title = strings.TrimSpace(spec.title)
	spec.currency = strings.ToLower(strings.TrimSpace(spec.currency))
	if spec.id == "" {
		spec.id = slug(spec.title)
	}
	n, err := strconv.ParseInt(amount, 10, 64)
	switch {
	case fs.NArg() > 0:
		return spec, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case spec.title == "":
		return spec, errors.New("--title is required")
	case amount == "":
		return spec, errors.New("--amount is required")
	case err != nil || n <= 0:
		return spec, fmt.Errorf("--amount %q is not a positive whole number of the currency's smallest unit", amount)
	case !currencyPattern.MatchString(spec.currency):
		return spec, fmt.Errorf("--currency %q is not a three-letter currency code", spec.currency)
	case spec.interval != "" && spec.interval != "day" && spec.interval != "week" && spec.interval != "month" && spec.interval != "year":
		return spec, fmt.Errorf("--interval %q is not day, week, month or year", spec.interval)
	case spec.id == "":
		return spec, errors.New("the title makes no course id; pass --id")
	case len(spec.id) > maxCourseID || !courseIDPattern.MatchString(spec.id):
		return spec, fmt.Errorf("course id %q must be lowercase letters, digits and single dashes, at most %d characters", spec.id, maxCourseID)
	}
	spec.amount = n
	return spec, nil
}

func runCourseCreate(env courseEnv, args []string, stdout, stderr io.Writer) int {
	spec, err := parseCourseCreate(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "billing course create: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	api, err := env.stripe(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "billing course create: %v\n", err)
		return 1
	}
	store, err := env.store(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "billing course create: %v\n", err)
		return 1
	}
	defer store.Close()
	c, notes, err := createCourse(ctx, api, store, spec)
	for _, n := range notes {
		fmt.Fprintln(stdout, n)
	}
	if err != nil {
		fmt.Fprintf(stderr, "billing course create: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "course %s product %s price %s (%s)\n", c.ID, c.StripeProductID, c.StripePriceID, describePrice(c))
	return 0
}

func runCourseList(env courseEnv, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "billing course list: unexpected argument %q\n", args[0])
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store, err := env.store(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "billing course list: %v\n", err)
		return 1
	}
	defer store.Close()
	courses, err := store.Courses(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "billing course list: %v\n", err)
		return 1
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTITLE\tPRODUCT\tPRICE\tTERMS\tSELLABLE")
	for _, c := range courses {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%t\n", c.ID, c.Title, c.StripeProductID, c.StripePriceID, describePrice(c), c.Sellable())
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%d courses\n", len(courses))
	return 0
}

func describePrice(c billing.Course) string {
	if c.Mode == billing.ModeSubscription {
		return fmt.Sprintf("%d %s every %s", c.Amount, c.Currency, c.Interval)
	}
	return fmt.Sprintf("%d %s once", c.Amount, c.Currency)
}

func (env courseEnv) stripe(ctx context.Context) (*client.API, error) {
	vals, err := secrets.NewResolver([]secrets.Key{{Name: "STRIPE_SECRET_KEY"}}, secrets.WithLookupEnv(env.lookup)).Values(ctx)
	if err != nil {
		return nil, err
	}
	base, _ := env.lookup("STRIPE_API_BASE")
	return stripeapi.NewClient(stripeapi.ClientConfig{Key: vals.Get("STRIPE_SECRET_KEY"), BaseURL: base})
}

func (env courseEnv) store(ctx context.Context) (courseStore, error) {
	project, _ := env.lookup("GOOGLE_CLOUD_PROJECT")
	if project == "" {
		return nil, errors.New("GOOGLE_CLOUD_PROJECT is not set (and FIRESTORE_EMULATOR_HOST, to use the emulator)")
	}
	database, _ := env.lookup("FIRESTORE_DATABASE")
	return env.openStore(ctx, project, database)
}

// idempotencyKey names one create request by the course and everything the
// request sends, so that a rerun with the same arguments replays Stripe's
// first answer rather than creating a second object, and any other
// arguments make a new one.
func idempotencyKey(kind, courseID string, params ...string) *string {
	h := sha256.Sum256([]byte(strings.Join(params, "\x00")))
	return stripe.String("billing-course-" + courseID + "-" + kind + "-" + hex.EncodeToString(h[:8]))
}

// createCourse makes Stripe sell spec and writes courses/{id}; notes say
// what it changed in Stripe. The course's stored document finds the
// product and price of an earlier run; the idempotency keys cover a run
// that stopped between Stripe and Firestore. Updates set values, so a
// repeated one changes nothing.
func createCourse(ctx context.Context, api *client.API, store billing.Store, spec courseSpec) (billing.Course, []string, error) {
	var notes []string
	var cur *billing.Course
	if err := store.View(ctx, func(ctx context.Context, tx billing.Tx) (err error) {
		cur, err = tx.Course(ctx, spec.id)
		return err
	}); err != nil {
		return billing.Course{}, nil, fmt.Errorf("reading course %s: %w", spec.id, err)
	}
	params := func() stripe.Params { return stripe.Params{Context: ctx} }
	fail := func(action string, err error) (billing.Course, []string, error) {
		return billing.Course{}, notes, fmt.Errorf("%s: %w", action, stripeapi.Describe(err))
	}

	// The product.
	var prod *stripe.Product
	if cur != nil && cur.StripeProductID != "" {
		p, err := api.Products.Get(cur.StripeProductID, &stripe.ProductParams{Params: params()})
		switch {
		case stripeapi.IsNotFound(err):
			notes = append(notes, fmt.Sprintf("product %s is gone from Stripe; making a new one", cur.StripeProductID))
		case err != nil:
			return fail("reading product "+cur.StripeProductID, err)
		default:
			prod = p
		}
	}
	if prod == nil {
		pp := &stripe.ProductParams{Params: params(), Name: stripe.String(spec.title)}
		pp.AddMetadata(stripeapi.CourseIDKey, spec.id)
		pp.IdempotencyKey = idempotencyKey("product", spec.id, spec.title)
		p, err := api.Products.New(pp)
		if err != nil {
			return fail("creating product", err)
		}
		prod = p
		notes = append(notes, "product "+prod.ID+" created")
	} else if prod.Name != spec.title || !prod.Active || prod.Metadata[stripeapi.CourseIDKey] != spec.id {
		pp := &stripe.ProductParams{Params: params(), Name: stripe.String(spec.title), Active: stripe.Bool(true)}
		pp.AddMetadata(stripeapi.CourseIDKey, spec.id)
		p, err := api.Products.Update(prod.ID, pp)
		if err != nil {
			return fail("updating product "+prod.ID, err)
		}
		prod = p
		notes = append(notes, "product "+prod.ID+" updated")
	}

	// The price: the product's default (or the stored one) when it sells
	// on these terms, else a new one.
	var old []*stripe.Price
	var price *stripe.Price
	candidates := []string{}
	if prod.DefaultPrice != nil && prod.DefaultPrice.ID != "" {
		candidates = append(candidates, prod.DefaultPrice.ID)
	}
	if cur != nil && cur.StripePriceID != "" && (len(candidates) == 0 || candidates[0] != cur.StripePriceID) {
		candidates = append(candidates, cur.StripePriceID)
	}
	for _, id := range candidates {
		p, err := api.Prices.Get(id, &stripe.PriceParams{Params: params()})
		if stripeapi.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fail("reading price "+id, err)
		}
		if price == nil && p.Active && sellsOn(p, prod.ID, spec) {
			price = p
			continue
		}
		old = append(old, p)
	}
	if price == nil {
		pp := &stripe.PriceParams{Params: params(), Product: stripe.String(prod.ID), Currency: stripe.String(spec.currency),
			UnitAmount: stripe.Int64(spec.amount)}
		if spec.interval != "" {
			pp.Recurring = &stripe.PriceRecurringParams{Interval: stripe.String(spec.interval)}
		}
		pp.AddMetadata(stripeapi.CourseIDKey, spec.id)
		pp.IdempotencyKey = idempotencyKey("price", spec.id, prod.ID, strconv.FormatInt(spec.amount, 10), spec.currency, spec.interval)
		p, err := api.Prices.New(pp)
		if err != nil {
			return fail("creating price", err)
		}
		if !p.Active {
			// A replay of a price made by an earlier run on these terms
			// and archived since: sell it again.
			if p, err = api.Prices.Update(p.ID, &stripe.PriceParams{Params: params(), Active: stripe.Bool(true)}); err != nil {
				return fail("reactivating price", err)
			}
			notes = append(notes, "price "+p.ID+" reactivated")
		} else {
			notes = append(notes, "price "+p.ID+" created")
		}
		price = p
	}
	if prod.DefaultPrice == nil || prod.DefaultPrice.ID != price.ID {
		p, err := api.Products.Update(prod.ID, &stripe.ProductParams{Params: params(), DefaultPrice: stripe.String(price.ID)})
		if err != nil {
			return fail("setting the default price of "+prod.ID, err)
		}
		prod = p
		notes = append(notes, "product "+prod.ID+" sells at "+price.ID)
	}
	// Stripe refuses to archive a default price, so the old ones go last.
	for _, p := range old {
		if !p.Active || p.ID == price.ID {
			continue
		}
		if _, err := api.Prices.Update(p.ID, &stripe.PriceParams{Params: params(), Active: stripe.Bool(false)}); err != nil {
			return fail("archiving price "+p.ID, err)
		}
		notes = append(notes, "price "+p.ID+" archived")
	}

	// Dated by Stripe's own clock, as the catalog events are, so that the
	// events of these changes still apply and older ones do not.
	asOf := time.Unix(max(prod.Updated, price.Created), 0).UTC()
	var out billing.Course
	err := store.Update(ctx, func(ctx context.Context, tx billing.Tx) error {
		c, err := tx.Course(ctx, spec.id)
		if err != nil {
			return err
		}
		next := billing.Course{ID: spec.id}
		if c != nil {
			next = *c
		}
		next.Title = prod.Name
		next.StripeProductID = prod.ID
		next.StripePriceID = price.ID
		next.Amount = price.UnitAmount
		next.Currency = string(price.Currency)
		next.Mode, next.Interval = billing.ModePayment, ""
		if price.Recurring != nil {
			next.Mode, next.Interval = billing.ModeSubscription, string(price.Recurring.Interval)
		}
		next.Active, next.PriceActive = true, true
		next.Livemode = prod.Livemode
		next.ProductAsOf, next.PriceAsOf = asOf, asOf
		next.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
		out = next
		return tx.PutCourse(&next)
	})
	if err != nil {
		return billing.Course{}, notes, fmt.Errorf("writing %s/%s: %w", billing.CoursesCollection, spec.id, err)
	}
	return out, notes, nil
}

// sellsOn reports whether an existing price sells the course on the terms
// asked for.
func sellsOn(p *stripe.Price, productID string, spec courseSpec) bool {
	if p.Product == nil || p.Product.ID != productID || p.UnitAmount != spec.amount || string(p.Currency) != spec.currency {
		return false
	}
	if spec.interval == "" {
		return p.Recurring == nil
	}
	return p.Recurring != nil && string(p.Recurring.Interval) == spec.interval && p.Recurring.IntervalCount <= 1
}
