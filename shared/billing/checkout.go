package billing

import (
	"context"
	"fmt"
	"time"
)

// ReserveCustomer is the first step of giving a user a Stripe customer. It
// returns the customer the user already has, or else the key under which
// to create one: the stored key if an earlier or concurrent call reserved
// it, else newKey, which it stores. Everyone who creates the customer
// under the same key gets the same customer back from Stripe. A customer
// deleted in Stripe is replaced, under a key of its own so that Stripe
// does not answer with the deleted one.
func ReserveCustomer(ctx context.Context, tx Tx, uid, newKey string, now time.Time) (existing, key string, err error) {
	c, err := tx.Customer(ctx, uid)
	if err != nil {
		return "", "", err
	}
	var replaces string
	if c != nil && c.StripeCustomerID != "" {
		m, err := tx.StripeCustomer(ctx, c.StripeCustomerID)
		if err != nil {
			return "", "", err
		}
		if m == nil || !m.Deleted {
			return c.StripeCustomerID, "", nil
		}
		replaces = c.StripeCustomerID
	}
	if c != nil && c.CustomerCreateKey != "" && c.CustomerCreateReplaces == replaces {
		return "", c.CustomerCreateKey, nil
	}
	next := Customer{}
	if c != nil {
		next = *c
	}
	next.CustomerCreateKey, next.CustomerCreateReplaces = newKey, replaces
	next.UpdatedAt = now.UTC()
	if err := tx.PutCustomer(uid, &next); err != nil {
		return "", "", fmt.Errorf("reserving a customer for %s: %w", uid, err)
	}
	return "", newKey, nil
}

// AdoptCustomer links the Stripe customer created for uid: the mapping
// stripe_customers/{cus} names uid and customers/{uid} names cus, and uid
// claims whatever the customer's events stored while nobody owned it. If
// the user meanwhile got another customer, that one stands and is
// returned.
func AdoptCustomer(ctx context.Context, tx Tx, uid, cus, email string, livemode bool, now time.Time) (string, error) {
	mapped, err := tx.StripeCustomer(ctx, cus)
	if err != nil {
		return "", err
	}
	if mapped != nil && mapped.UID != "" && mapped.UID != uid {
		return "", fmt.Errorf("stripe customer %s belongs to another user", cus)
	}
	cl, err := readClaim(ctx, tx, cus, mapped, uid)
	if err != nil {
		return "", err
	}
	acct, err := ReadAccount(ctx, tx, uid)
	if err != nil {
		return "", err
	}
	if old := acct.Customer; old != nil && old.StripeCustomerID != "" && old.StripeCustomerID != cus {
		if old.CustomerCreateReplaces != old.StripeCustomerID {
			return old.StripeCustomerID, nil
		}
		// The new customer replaces one deleted in Stripe: Write fills in
		// an empty id only.
		cp := *old
		cp.StripeCustomerID, cp.CustomerCreateReplaces = "", ""
		acct.Customer = &cp
	}
	next := StripeCustomer{Livemode: livemode}
	if mapped != nil {
		next = *mapped
	}
	next.UID = uid
	next.clearUnclaimed()
	if next.Email == "" {
		next.Email = email
	}
	next.UpdatedAt = now.UTC()
	if err := tx.PutStripeCustomer(cus, &next); err != nil {
		return "", err
	}
	if err := cl.write(tx, acct, now, ""); err != nil {
		return "", err
	}
	if err := acct.Write(tx, cus, email, now); err != nil {
		return "", err
	}
	return cus, nil
}

// RecordCheckout notes session as the user's latest checkout of course and
// returns the one it replaces ("" if none), which the caller expires.
func RecordCheckout(ctx context.Context, tx Tx, uid, course, session string, now time.Time) (string, error) {
	c, err := tx.Customer(ctx, uid)
	if err != nil {
		return "", err
	}
	next := Customer{}
	if c != nil {
		next = *c
	}
	prev := next.OpenCheckouts[course]
	if prev == session {
		return "", nil
	}
	open := make(map[string]string, len(next.OpenCheckouts)+1)
	for k, v := range next.OpenCheckouts {
		open[k] = v
	}
	open[course] = session
	next.OpenCheckouts = open
	next.UpdatedAt = now.UTC()
	if err := tx.PutCustomer(uid, &next); err != nil {
		return "", fmt.Errorf("recording checkout %s for %s: %w", session, uid, err)
	}
	return prev, nil
}
