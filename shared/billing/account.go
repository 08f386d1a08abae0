package billing

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"time"
)

// Account is one user's documents, read inside a transaction so that
// customers/{uid} can be rewritten from all of them after a change.
type Account struct {
	UID       string
	Customer  *Customer
	Subs      []Subscription
	Purchases []Purchase
}

// ReadAccount reads what DeriveEntitlements needs for uid: the customer
// document and, by id, every subscription and purchase it lists.
func ReadAccount(ctx context.Context, tx Tx, uid string) (*Account, error) {
	a := &Account{UID: uid}
	var err error
	if a.Customer, err = tx.Customer(ctx, uid); err != nil || a.Customer == nil {
		return a, err
	}
	for _, id := range a.Customer.Subscriptions {
		s, err := tx.Subscription(ctx, id)
		if err != nil {
			return nil, err
		}
		if s != nil && s.UID == uid {
			a.Subs = append(a.Subs, *s)
		}
	}
	for _, id := range a.Customer.Purchases {
		p, err := tx.Purchase(ctx, id)
		if err != nil {
			return nil, err
		}
		if p != nil && p.UID == uid {
			a.Purchases = append(a.Purchases, *p)
		}
	}
	return a, nil
}

// SetSubscription puts s in place of the stored copy, or adds it.
func (a *Account) SetSubscription(s Subscription) {
	for i := range a.Subs {
		if a.Subs[i].ID == s.ID {
			a.Subs[i] = s
			return
		}
	}
	a.Subs = append(a.Subs, s)
}

// SetPurchase puts p in place of the stored copy, or adds it.
func (a *Account) SetPurchase(p Purchase) {
	for i := range a.Purchases {
		if a.Purchases[i].ID == p.ID {
			a.Purchases[i] = p
			return
		}
	}
	a.Purchases = append(a.Purchases, p)
}

// Write stores customers/{uid} with entitlements derived afresh. The Stripe
// customer id and email fill in fields that are empty and never replace a
// set one: the first customer linked stays the user's customer. Nothing is
// written when the document would not change.
func (a *Account) Write(tx Tx, stripeCustomerID, email string, now time.Time) error {
	next := Customer{}
	if a.Customer != nil {
		next = *a.Customer
	}
	if next.StripeCustomerID == "" {
		next.StripeCustomerID = stripeCustomerID
	}
	if next.Email == "" {
		next.Email = email
	}
	next.Entitlements = DeriveEntitlements(a.Subs, a.Purchases)
	next.Subscriptions, next.Purchases = nil, nil
	for _, s := range a.Subs {
		next.Subscriptions = append(next.Subscriptions, s.ID)
	}
	for _, p := range a.Purchases {
		next.Purchases = append(next.Purchases, p.ID)
	}
	slices.Sort(next.Subscriptions)
	slices.Sort(next.Purchases)
	if a.Customer != nil && sameCustomer(*a.Customer, next) {
		return nil
	}
	next.UpdatedAt = now
	if err := tx.PutCustomer(a.UID, &next); err != nil {
		return fmt.Errorf("writing customer %s: %w", a.UID, err)
	}
	return nil
}

func sameCustomer(a, b Customer) bool {
	if a.StripeCustomerID != b.StripeCustomerID || a.Email != b.Email || len(a.Entitlements) != len(b.Entitlements) ||
		!slices.Equal(a.Subscriptions, b.Subscriptions) || !slices.Equal(a.Purchases, b.Purchases) {
		return false
	}
	for k, ea := range a.Entitlements {
		eb, ok := b.Entitlements[k]
		if !ok || ea.Source != eb.Source || ea.SourceID != eb.SourceID || ea.Status != eb.Status || !sameTime(ea.Until, eb.Until) {
			return false
		}
	}
	return true
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// Owner picks the user a Stripe customer's object belongs to. The
// stripe_customers mapping wins; otherwise the first non-empty candidate
// (a stored document's uid, client_reference_id, metadata.uid) that can
// name a document.
func Owner(mapped *StripeCustomer, candidates ...string) string {
	if mapped != nil && mapped.UID != "" {
		return mapped.UID
	}
	for _, c := range candidates {
		// A uid that cannot name customers/{uid} (a stray
		// client_reference_id) is no owner: the object stays unclaimed.
		if c != "" && UsableID(c) {
			return c
		}
	}
	return ""
}

// LinkCustomer returns the stripe_customers document to write so that cus
// maps to uid, or nil when the stored mapping already says so or belongs to
// someone else (the first claim stands).
func LinkCustomer(mapped *StripeCustomer, uid, email string, livemode bool, now time.Time) *StripeCustomer {
	if mapped != nil && (mapped.UID != "" || uid == "") && (mapped.Email != "" || email == "") {
		return nil
	}
	next := StripeCustomer{Livemode: livemode}
	if mapped != nil {
		next = *mapped
	}
	if next.UID == "" {
		next.UID = uid
	}
	if next.Email == "" {
		next.Email = email
	}
	if mapped != nil && reflect.DeepEqual(*mapped, next) {
		return nil
	}
	next.UpdatedAt = now
	return &next
}
