// Package firestore is the production billing.Store: Cloud Firestore in
// Native mode, each Stripe event applied in one transaction together with
// its stripe_events marker.
package firestore

import (
	"context"
	"errors"
	"fmt"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/courseplatform/billing/shared/billing"
)

// Store is a billing.Store on Firestore.
type Store struct {
	client *firestore.Client
}

var _ billing.Store = (*Store)(nil)

// New wraps a Firestore client. The caller keeps ownership of the client.
func New(client *firestore.Client) *Store {
	return &Store{client: client}
}

// Open creates a client for project and database ("" means "(default)").
// With FIRESTORE_EMULATOR_HOST set the client talks to the emulator.
func Open(ctx context.Context, project, database string) (*Store, error) {
	if project == "" {
		return nil, errors.New("firestore: no project id (set GOOGLE_CLOUD_PROJECT)")
	}
	if database == "" {
		database = firestore.DefaultDatabaseID
	}
	c, err := firestore.NewClientWithDatabase(ctx, project, database)
	if err != nil {
		return nil, fmt.Errorf("firestore: new client for %s/%s: %w", project, database, err)
	}
	return New(c), nil
}

// Close closes the client.
func (s *Store) Close() error { return s.client.Close() }

// Client returns the underlying client.
func (s *Store) Client() *firestore.Client { return s.client }

// maxAttempts is how often ApplyEvent tries its transaction. Stripe sends
// an account's events in bursts (checkout, subscription, invoices at once)
// and each rewrites the same customers/{uid}, so transactions contend; the
// client's default of 5 attempts turns a burst of a dozen into 5xx answers
// and hours of Stripe retry backoff. The caller's context deadline, not the
// count, is what bounds the work.
const maxAttempts = 20

// errDuplicate ends a transaction that found the event's marker.
var errDuplicate = errors.New("duplicate event")

// ApplyEvent implements billing.Store.
func (s *Store) ApplyEvent(ctx context.Context, rec billing.EventRecord, fn billing.ApplyFunc) (billing.EventRecord, bool, error) {
	if rec.ID == "" {
		return billing.EventRecord{}, false, errors.New("firestore: event record without id")
	}
	var stored billing.EventRecord
	err := s.client.RunTransaction(ctx, func(ctx context.Context, ftx *firestore.Transaction) error {
		t := &tx{c: s.client, t: ftx}
		prev, err := t.Event(ctx, rec.ID)
		if err != nil {
			return err
		}
		if prev != nil {
			stored = *prev
			return errDuplicate
		}
		outcome, detail, err := fn(ctx, t)
		if err != nil {
			return err
		}
		stored = rec
		stored.Outcome, stored.Detail = outcome, detail
		// Create, not Set: if another instance commits the same event
		// first, this transaction fails and is retried, then sees the
		// marker and reports a duplicate.
		t.wrote = true
		return ftx.Create(s.client.Collection(billing.EventsCollection).Doc(rec.ID), stored)
	}, firestore.MaxAttempts(maxAttempts))
	switch {
	case errors.Is(err, errDuplicate):
		return stored, true, nil
	case status.Code(err) == codes.InvalidArgument:
		return billing.EventRecord{}, false, fmt.Errorf("firestore: apply event %s: %w: %w", rec.ID, billing.ErrUnstorable, err)
	case err != nil:
		return billing.EventRecord{}, false, fmt.Errorf("firestore: apply event %s: %w", rec.ID, err)
	}
	return stored, false, nil
}

// View implements billing.Store.
func (s *Store) View(ctx context.Context, fn func(context.Context, billing.Tx) error) error {
	return s.client.RunTransaction(ctx, func(ctx context.Context, ftx *firestore.Transaction) error {
		return fn(ctx, &tx{c: s.client, t: ftx, readOnly: true})
	}, firestore.ReadOnly)
}

// Update implements billing.Store.
func (s *Store) Update(ctx context.Context, fn func(context.Context, billing.Tx) error) error {
	err := s.client.RunTransaction(ctx, func(ctx context.Context, ftx *firestore.Transaction) error {
		return fn(ctx, &tx{c: s.client, t: ftx})
	}, firestore.MaxAttempts(maxAttempts))
	if err != nil {
		return fmt.Errorf("firestore: update: %w", err)
	}
	return nil
}

type tx struct {
	c        *firestore.Client
	t        *firestore.Transaction
	readOnly bool
	wrote    bool
}

func getDoc[T any](ctx context.Context, t *tx, coll, id string) (*T, error) {
	if t.wrote {
		return nil, billing.ErrReadAfterWrite
	}
	if id == "" {
		return nil, fmt.Errorf("firestore: get %s: empty id", coll)
	}
	snap, err := t.t.Get(t.c.Collection(coll).Doc(id))
	if status.Code(err) == codes.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("firestore: get %s/%s: %w", coll, id, err)
	}
	var v T
	if err := snap.DataTo(&v); err != nil {
		return nil, fmt.Errorf("firestore: decode %s/%s: %w", coll, id, err)
	}
	return &v, nil
}

// where returns the documents of coll whose field (uid or customer) equals
// value, by id.
func where[T any](ctx context.Context, t *tx, coll, field, value string) ([]T, error) {
	if t.wrote {
		return nil, billing.ErrReadAfterWrite
	}
	it := t.t.Documents(t.c.Collection(coll).Where(field, "==", value).OrderBy(firestore.DocumentID, firestore.Asc))
	defer it.Stop()
	var out []T
	for {
		snap, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("firestore: query %s by %s: %w", coll, field, err)
		}
		var v T
		if err := snap.DataTo(&v); err != nil {
			return nil, fmt.Errorf("firestore: decode %s/%s: %w", coll, snap.Ref.ID, err)
		}
		out = append(out, v)
	}
}

func (t *tx) put(coll, id string, v any) error {
	if t.readOnly {
		return billing.ErrReadOnly
	}
	if id == "" {
		return fmt.Errorf("firestore: put %s: empty id", coll)
	}
	t.wrote = true
	return t.t.Set(t.c.Collection(coll).Doc(id), v)
}

func (t *tx) Subscription(ctx context.Context, id string) (*billing.Subscription, error) {
	return getDoc[billing.Subscription](ctx, t, billing.SubscriptionsCollection, id)
}

func (t *tx) Invoice(ctx context.Context, id string) (*billing.Invoice, error) {
	return getDoc[billing.Invoice](ctx, t, billing.InvoicesCollection, id)
}

func (t *tx) Purchase(ctx context.Context, id string) (*billing.Purchase, error) {
	return getDoc[billing.Purchase](ctx, t, billing.PurchasesCollection, id)
}

func (t *tx) StripeCustomer(ctx context.Context, id string) (*billing.StripeCustomer, error) {
	return getDoc[billing.StripeCustomer](ctx, t, billing.StripeCustomersCollection, id)
}

func (t *tx) Customer(ctx context.Context, uid string) (*billing.Customer, error) {
	return getDoc[billing.Customer](ctx, t, billing.CustomersCollection, uid)
}

func (t *tx) Event(ctx context.Context, id string) (*billing.EventRecord, error) {
	rec, err := getDoc[billing.EventRecord](ctx, t, billing.EventsCollection, id)
	if rec != nil {
		rec.ID = id
	}
	return rec, err
}

func (t *tx) Course(ctx context.Context, id string) (*billing.Course, error) {
	return getDoc[billing.Course](ctx, t, billing.CoursesCollection, id)
}

func (t *tx) SubscriptionsOf(ctx context.Context, uid string) ([]billing.Subscription, error) {
	return where[billing.Subscription](ctx, t, billing.SubscriptionsCollection, "uid", uid)
}

func (t *tx) PurchasesOf(ctx context.Context, uid string) ([]billing.Purchase, error) {
	return where[billing.Purchase](ctx, t, billing.PurchasesCollection, "uid", uid)
}

func (t *tx) PutSubscription(s *billing.Subscription) error {
	return t.put(billing.SubscriptionsCollection, s.ID, s)
}

func (t *tx) PutInvoice(in *billing.Invoice) error {
	return t.put(billing.InvoicesCollection, in.ID, in)
}

func (t *tx) PutPurchase(p *billing.Purchase) error {
	return t.put(billing.PurchasesCollection, p.ID, p)
}

func (t *tx) Payment(ctx context.Context, id string) (*billing.Payment, error) {
	return getDoc[billing.Payment](ctx, t, billing.PaymentsCollection, id)
}

func (t *tx) PutPayment(p *billing.Payment) error {
	return t.put(billing.PaymentsCollection, p.ID, p)
}

func (t *tx) PutStripeCustomer(id string, c *billing.StripeCustomer) error {
	return t.put(billing.StripeCustomersCollection, id, c)
}

func (t *tx) PutCustomer(uid string, c *billing.Customer) error {
	return t.put(billing.CustomersCollection, uid, c)
}

func (t *tx) PutCourse(c *billing.Course) error {
	return t.put(billing.CoursesCollection, c.ID, c)
}
