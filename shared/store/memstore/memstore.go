// Package memstore is the in-memory twin of the Firestore store: the same
// transaction rules (reads before writes, all or nothing, one marker per
// event), for tests and for running the dev server where no Firestore
// emulator exists.
package memstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/courseplatform/billing/shared/billing"
)

// Store is a billing.Store held in memory. Transactions are serialized.
type Store struct {
	mu   sync.Mutex
	docs map[string]map[string][]byte // collection → id → JSON

	// FailCommit, when set, is called before a transaction commits; an
	// error it returns aborts the commit, as a failing database would.
	FailCommit func() error
}

var _ billing.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{docs: map[string]map[string][]byte{}}
}

// ApplyEvent implements billing.Store.
func (s *Store) ApplyEvent(ctx context.Context, rec billing.EventRecord, fn billing.ApplyFunc) (billing.EventRecord, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return billing.EventRecord{}, false, err
	}
	tx := &tx{s: s}
	prev, err := tx.Event(ctx, rec.ID)
	if err != nil {
		return billing.EventRecord{}, false, err
	}
	if prev != nil {
		return *prev, true, nil
	}
	outcome, detail, err := fn(ctx, tx)
	if err != nil {
		return billing.EventRecord{}, false, err
	}
	rec.Outcome, rec.Detail = outcome, detail
	if err := tx.put(billing.EventsCollection, rec.ID, rec); err != nil {
		return billing.EventRecord{}, false, err
	}
	if err := s.commit(ctx, tx); err != nil {
		return billing.EventRecord{}, false, err
	}
	return rec, false, nil
}

// Update implements billing.Store.
func (s *Store) Update(ctx context.Context, fn func(context.Context, billing.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	tx := &tx{s: s}
	if err := fn(ctx, tx); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// commit applies a transaction's writes, all of them or, when FailCommit
// or the context says so, none. The caller holds s.mu.
func (s *Store) commit(ctx context.Context, tx *tx) error {
	if s.FailCommit != nil {
		if err := s.FailCommit(); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, w := range tx.writes {
		coll := s.docs[w.coll]
		if coll == nil {
			coll = map[string][]byte{}
			s.docs[w.coll] = coll
		}
		coll[w.id] = w.data
	}
	return nil
}

// View implements billing.Store.
func (s *Store) View(ctx context.Context, fn func(context.Context, billing.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Firestore cannot begin a transaction for a request that is gone.
	if err := ctx.Err(); err != nil {
		return err
	}
	return fn(ctx, &tx{s: s, readOnly: true})
}

// Len returns the number of documents in a collection.
func (s *Store) Len(collection string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.docs[collection])
}

// IDs returns the sorted document ids of a collection.
func (s *Store) IDs(collection string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.docs[collection]))
	for id := range s.docs[collection] {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Dump renders every document as collection/id → JSON, to compare whole
// states in tests.
func (s *Store) Dump() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for coll, docs := range s.docs {
		for id, data := range docs {
			out[coll+"/"+id] = string(data)
		}
	}
	return out
}

type write struct {
	coll, id string
	data     []byte
}

type tx struct {
	s        *Store
	readOnly bool
	writes   []write
}

func (t *tx) get(coll, id string, dst any) (bool, error) {
	if len(t.writes) > 0 {
		return false, billing.ErrReadAfterWrite
	}
	if err := checkID(id); err != nil {
		return false, fmt.Errorf("memstore: get %s: %w", coll, err)
	}
	data, ok := t.s.docs[coll][id]
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(data, dst)
}

func (t *tx) put(coll, id string, v any) error {
	if t.readOnly {
		return billing.ErrReadOnly
	}
	if err := checkID(id); err != nil {
		return fmt.Errorf("memstore: put %s: %w", coll, err)
	}
	if len(id) > maxIDBytes {
		return fmt.Errorf("memstore: put %s: id longer than %d bytes", coll, maxIDBytes)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("memstore: put %s/%s: %w", coll, id, err)
	}
	t.writes = append(t.writes, write{coll, id, data})
	return nil
}

// maxIDBytes is Firestore's limit on a document id. Firestore enforces it
// on writes only; a read of a longer id finds nothing.
const maxIDBytes = 1500

// checkID rejects the document ids Firestore rejects, so that an id which
// would fail in production fails here too instead of being stored.
func checkID(id string) error {
	switch {
	case id == "":
		return errors.New("empty id")
	case id == "." || id == "..":
		return fmt.Errorf("id %q is not allowed", id)
	case strings.Contains(id, "/"):
		return fmt.Errorf("id %q contains a slash", id)
	case len(id) >= 4 && strings.HasPrefix(id, "__") && strings.HasSuffix(id, "__"):
		return fmt.Errorf("id %q is reserved", id)
	case !utf8.ValidString(id):
		return fmt.Errorf("id %q is not valid UTF-8", id)
	}
	return nil
}

func getDoc[T any](t *tx, coll, id string) (*T, error) {
	var v T
	ok, err := t.get(coll, id, &v)
	if err != nil || !ok {
		return nil, err
	}
	return &v, nil
}

// where returns the documents of coll whose string field (uid or customer)
// equals value, by id.
func where[T any](t *tx, coll, field, value string) ([]T, error) {
	if len(t.writes) > 0 {
		return nil, billing.ErrReadAfterWrite
	}
	ids := make([]string, 0)
	for id := range t.s.docs[coll] {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []T
	for _, id := range ids {
		var fields map[string]any
		if err := json.Unmarshal(t.s.docs[coll][id], &fields); err != nil {
			return nil, err
		}
		if v, _ := fields[field].(string); v != value {
			continue
		}
		var v T
		if err := json.Unmarshal(t.s.docs[coll][id], &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (t *tx) Subscription(_ context.Context, id string) (*billing.Subscription, error) {
	return getDoc[billing.Subscription](t, billing.SubscriptionsCollection, id)
}

func (t *tx) Invoice(_ context.Context, id string) (*billing.Invoice, error) {
	return getDoc[billing.Invoice](t, billing.InvoicesCollection, id)
}

func (t *tx) Purchase(_ context.Context, id string) (*billing.Purchase, error) {
	return getDoc[billing.Purchase](t, billing.PurchasesCollection, id)
}

func (t *tx) StripeCustomer(_ context.Context, id string) (*billing.StripeCustomer, error) {
	return getDoc[billing.StripeCustomer](t, billing.StripeCustomersCollection, id)
}

func (t *tx) Customer(_ context.Context, uid string) (*billing.Customer, error) {
	return getDoc[billing.Customer](t, billing.CustomersCollection, uid)
}

func (t *tx) Event(_ context.Context, id string) (*billing.EventRecord, error) {
	return getDoc[billing.EventRecord](t, billing.EventsCollection, id)
}

func (t *tx) Course(_ context.Context, id string) (*billing.Course, error) {
	return getDoc[billing.Course](t, billing.CoursesCollection, id)
}

func (t *tx) SubscriptionsOf(_ context.Context, uid string) ([]billing.Subscription, error) {
	return where[billing.Subscription](t, billing.SubscriptionsCollection, "uid", uid)
}

func (t *tx) PurchasesOf(_ context.Context, uid string) ([]billing.Purchase, error) {
	return where[billing.Purchase](t, billing.PurchasesCollection, "uid", uid)
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

func (t *tx) Payment(_ context.Context, id string) (*billing.Payment, error) {
	return getDoc[billing.Payment](t, billing.PaymentsCollection, id)
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
