package billing

import (
	"context"
	"errors"
)

// Store keeps billing state. Every change caused by a Stripe event happens
// in one transaction together with the event's marker.
type Store interface {
	// ApplyEvent runs fn in a transaction. If the event's marker already
	// exists, fn does not run and the stored record comes back with
	// duplicate set. Otherwise fn's writes and the marker (with the outcome
	// fn returned and the given record's other fields) commit together, or
	// nothing does. fn may run more than once when transactions contend,
	// so it must not have effects outside tx.
	ApplyEvent(ctx context.Context, rec EventRecord, fn ApplyFunc) (stored EventRecord, duplicate bool, err error)
	// View runs fn in a read-only transaction; fn's writes fail.
	View(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// Update runs fn in a read-write transaction that is not an event's:
	// the frontend functions and the catalog tools use it. fn's writes
	// commit together or not at all; fn may run more than once when
	// transactions contend, so it must not have effects outside tx.
	Update(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
}

// Tx is a store transaction. As in Firestore, every read comes before the
// first write; a read after a write fails with ErrReadAfterWrite. Reads of
// a missing document return nil and no error.
type Tx interface {
	Subscription(ctx context.Context, id string) (*Subscription, error)
	Invoice(ctx context.Context, id string) (*Invoice, error)
	Purchase(ctx context.Context, id string) (*Purchase, error)
	Payment(ctx context.Context, id string) (*Payment, error)
	StripeCustomer(ctx context.Context, id string) (*StripeCustomer, error)
	Customer(ctx context.Context, uid string) (*Customer, error)
	Event(ctx context.Context, id string) (*EventRecord, error)
	Course(ctx context.Context, id string) (*Course, error)
	// SubscriptionsOf and PurchasesOf return every document owned by uid.
	SubscriptionsOf(ctx context.Context, uid string) ([]Subscription, error)
	PurchasesOf(ctx context.Context, uid string) ([]Purchase, error)

	PutSubscription(s *Subscription) error
	PutInvoice(in *Invoice) error
	PutPurchase(p *Purchase) error
	PutPayment(p *Payment) error
	PutStripeCustomer(id string, c *StripeCustomer) error
	PutCustomer(uid string, c *Customer) error
	PutCourse(c *Course) error
}

// ErrReadAfterWrite is returned by a Tx read that follows a write.
var ErrReadAfterWrite = errors.New("billing: read after write in one transaction")

// ErrUnstorable wraps a store's refusal of a document it can never accept
// (Firestore's InvalidArgument: a reserved field name, a timestamp outside
// years 1 to 9999). Trying again cannot help, so the event is recorded as
// unprocessable instead.
var ErrUnstorable = errors.New("billing: the store can never accept these documents")

// ErrReadOnly is returned by a write inside Store.View.
var ErrReadOnly = errors.New("billing: write in a read-only transaction")

// ApplyFunc is the body of an event's transaction: it reads, then writes,
// and returns the outcome and a short detail for the event's marker.
type ApplyFunc func(ctx context.Context, tx Tx) (Outcome, string, error)
