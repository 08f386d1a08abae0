package billing

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Change describes the event a view of a Stripe object came with.
type Change struct {
	EventID string
	// EventType is the event's type; it orders views of the same instant.
	EventType string
	// AsOf is when the view was true: the event's creation time for a
	// payload, the time of the read for an object fetched from Stripe.
	AsOf     time.Time
	Livemode bool
	// Now stamps syncedAt and updatedAt.
	Now time.Time
}

func (c Change) version(stage int) Version {
	return Version{AsOf: c.AsOf.UTC(), Stage: stage, LastEventID: c.EventID, SyncedAt: c.Now.UTC()}
}

// CheckoutSession is what the checkout-session events carry that matters
// here.
type CheckoutSession struct {
	// Purchase is the session as a one-time purchase; it is stored only
	// for sessions in payment mode.
	Purchase     Purchase
	Mode         string
	Subscription string
	// UID is the platform user who started the checkout, from
	// client_reference_id or metadata.uid; empty when unknown.
	UID   string
	Email string
}

// ApplySubscription stores a view of a subscription unless a newer one is
// stored, keeps the customer mapping, and rewrites the owner's access.
func ApplySubscription(ctx context.Context, tx Tx, s Subscription, ch Change) (Outcome, string, error) {
	if bad := unusableIDs("subscription", s.ID, "customer", s.Customer); bad != "" {
		return Unprocessable, bad, nil
	}
	cur, err := tx.Subscription(ctx, s.ID)
	if err != nil {
		return "", "", err
	}
	stage := SubscriptionStage(s.Status, ch.EventType)
	if cur != nil && cur.NewerThan(ch.AsOf, stage) {
		return Stale, "a newer view is stored", nil
	}
	mapped, err := stripeCustomer(ctx, tx, s.Customer)
	if err != nil {
		return "", "", err
	}
	prevUID := ""
	if cur != nil {
		prevUID = cur.UID
	}
	s.UID = Owner(mapped, prevUID, s.UID)
	s.Livemode = ch.Livemode
	s.Version = ch.version(stage)
	accounts, err := readAccounts(ctx, tx, s.UID, prevUID)
	if err != nil {
		return "", "", err
	}
	cl, err := readClaim(ctx, tx, s.Customer, mapped, s.UID)
	if err != nil {
		return "", "", err
	}

	if err := tx.PutSubscription(&s); err != nil {
		return "", "", err
	}
	if err := link(tx, s.Customer, mapped, s.UID, "", ch, docRef{SubscriptionsCollection, s.ID}); err != nil {
		return "", "", err
	}
	for _, a := range accounts {
		if a.UID == s.UID {
			a.SetSubscription(s)
			if err := cl.write(tx, a, ch.Now, s.ID); err != nil {
				return "", "", err
			}
		} else {
			a.dropSubscription(s.ID)
		}
		if err := a.Write(tx, s.Customer, "", ch.Now); err != nil {
			return "", "", err
		}
	}
	return Applied, "", nil
}

// ApplyInvoice stores a view of an invoice unless a newer one is stored.
// Its owner comes from the customer mapping, the stored invoice, its
// subscription's document, or the uid the view itself names.
func ApplyInvoice(ctx context.Context, tx Tx, in Invoice, ch Change) (Outcome, string, error) {
	if bad := unusableIDs("invoice", in.ID, "customer", in.Customer, "subscription", in.Subscription); bad != "" {
		return Unprocessable, bad, nil
	}
	cur, err := tx.Invoice(ctx, in.ID)
	if err != nil {
		return "", "", err
	}
	stage := InvoiceStage(in.Status)
	if cur != nil && cur.NewerThan(ch.AsOf, stage) {
		return Stale, "a newer view is stored", nil
	}
	mapped, err := stripeCustomer(ctx, tx, in.Customer)
	if err != nil {
		return "", "", err
	}
	subUID := ""
	if in.Subscription != "" {
		sub, err := tx.Subscription(ctx, in.Subscription)
		if err != nil {
			return "", "", err
		}
		if sub != nil {
			subUID = sub.UID
		}
	}
	prevUID := ""
	if cur != nil {
		prevUID = cur.UID
	}
	in.UID = Owner(mapped, prevUID, subUID, in.UID)
	in.Livemode = ch.Livemode
	in.Version = ch.version(stage)
	cl, err := readClaim(ctx, tx, in.Customer, mapped, in.UID)
	if err != nil {
		return "", "", err
	}
	var acct *Account
	if cl.changesAccess() {
		if acct, err = ReadAccount(ctx, tx, in.UID); err != nil {
			return "", "", err
		}
	}

	if err := tx.PutInvoice(&in); err != nil {
		return "", "", err
	}
	if err := link(tx, in.Customer, mapped, in.UID, "", ch, docRef{InvoicesCollection, in.ID}); err != nil {
		return "", "", err
	}
	if err := cl.write(tx, acct, ch.Now, in.ID); err != nil {
		return "", "", err
	}
	if acct != nil {
		if err := acct.Write(tx, in.Customer, "", ch.Now); err != nil {
			return "", "", err
		}
	}
	return Applied, "", nil
}

// ApplyCheckoutSession links the session's customer to the user who
// started it, stores one-time purchases, claims the session's subscription
// for the user, and rewrites the user's access.
func ApplyCheckoutSession(ctx context.Context, tx Tx, cs CheckoutSession, ch Change) (Outcome, string, error) {
	if bad := unusableIDs("checkout session", cs.Purchase.ID, "customer", cs.Purchase.Customer, "subscription", cs.Subscription); bad != "" {
		return Unprocessable, bad, nil
	}
	customer := cs.Purchase.Customer
	mapped, err := stripeCustomer(ctx, tx, customer)
	if err != nil {
		return "", "", err
	}
	var cur *Purchase
	if cs.Mode == "payment" {
		if cur, err = tx.Purchase(ctx, cs.Purchase.ID); err != nil {
			return "", "", err
		}
		if cur != nil && cur.NewerThan(ch.AsOf, PurchaseStage(cs.Purchase)) {
			return Stale, "a newer view is stored", nil
		}
	}
	// A refund or dispute of this purchase's payment may have come first.
	var pay *Payment
	if cs.Mode == "payment" && UsableID(cs.Purchase.PaymentIntent) {
		if pay, err = tx.Payment(ctx, cs.Purchase.PaymentIntent); err != nil {
			return "", "", err
		}
	}
	var sub *Subscription
	if cs.Subscription != "" {
		if sub, err = tx.Subscription(ctx, cs.Subscription); err != nil {
			return "", "", err
		}
	}
	uid := Owner(mapped, cs.UID)
	detail := ""
	if cs.UID != "" && uid != cs.UID {
		detail = fmt.Sprintf("customer %s already belongs to another user; kept", customer)
	}
	var acct *Account
	if uid != "" {
		if acct, err = ReadAccount(ctx, tx, uid); err != nil {
			return "", "", err
		}
	}
	cl, err := readClaim(ctx, tx, customer, mapped, uid)
	if err != nil {
		return "", "", err
	}

	var unowned docRef
	if cs.Mode == "payment" {
		unowned = docRef{PurchasesCollection, cs.Purchase.ID}
	}
	if err := link(tx, customer, mapped, uid, cs.Email, ch, unowned); err != nil {
		return "", "", err
	}
	if cs.Mode == "payment" {
		p := cs.Purchase
		p.UID = uid
		p.Livemode = ch.Livemode
		p.Version = ch.version(PurchaseStage(p))
		if pay != nil {
			p.Refunded, p.Disputed = pay.Refunded, pay.Disputed()
		}
		if err := tx.PutPurchase(&p); err != nil {
			return "", "", err
		}
		if UsableID(p.PaymentIntent) && (pay == nil || pay.Purchase != p.ID) {
			next := Payment{ID: p.PaymentIntent, Livemode: ch.Livemode}
			if pay != nil {
				next = *pay
			}
			next.Purchase, next.UpdatedAt = p.ID, ch.Now.UTC()
			if err := tx.PutPayment(&next); err != nil {
				return "", "", err
			}
		}
		if acct != nil {
			acct.SetPurchase(p)
		}
	}
	// The session's own subscription is claimed even when the customer
	// was claimed before (a second subscription of a known customer).
	if sub != nil && sub.UID == "" && uid != "" && !cl.has(sub.ID) {
		claimed := *sub
		claimed.UID = uid
		claimed.SyncedAt = ch.Now.UTC()
		if err := tx.PutSubscription(&claimed); err != nil {
			return "", "", err
		}
		acct.SetSubscription(claimed)
	}
	if err := cl.write(tx, acct, ch.Now, cs.Purchase.ID); err != nil {
		return "", "", err
	}
	if acct != nil {
		if err := acct.Write(tx, customer, cs.Email, ch.Now); err != nil {
			return "", "", err
		}
	}
	return Applied, detail, nil
}

// ApplyPayment records a refund or dispute of a payment and, once the
// payment's purchase is known, takes the purchase's course away (a full
// refund, a dispute that holds or took the money) or gives it back (a won
// dispute). Payments that buy no course (a subscription's invoices) are
// recorded and change nothing: Stripe's subscription state governs those.
func ApplyPayment(ctx context.Context, tx Tx, v PaymentView, ch Change) (Outcome, string, error) {
	if v.PaymentIntent == "" {
		return Applied, "no payment intent: not a course purchase", nil
	}
	if bad := unusableIDs("payment intent", v.PaymentIntent); bad != "" {
		return Unprocessable, bad, nil
	}
	cur, err := tx.Payment(ctx, v.PaymentIntent)
	if err != nil {
		return "", "", err
	}
	next := Payment{ID: v.PaymentIntent, Livemode: ch.Livemode}
	if cur != nil {
		next = *cur
	}
	changed := false
	if v.Dispute == "" {
		// Refunds only grow: the largest refunded amount seen is the truth.
		if v.AmountRefunded > next.AmountRefunded || (v.Refunded && !next.Refunded) {
			next.Amount = max(next.Amount, v.Amount)
			next.AmountRefunded = max(next.AmountRefunded, v.AmountRefunded)
			next.Refunded = next.Refunded || v.Refunded
			changed = true
		}
	} else {
		stage, curStage := disputeStage(v.DisputeStatus), disputeStage(next.DisputeStatus)
		if next.DisputeStatus == "" || stage > curStage || (stage == curStage && !next.DisputeAsOf.After(ch.AsOf)) {
			next.Dispute, next.DisputeStatus, next.DisputeAsOf = v.Dispute, v.DisputeStatus, ch.AsOf.UTC()
			changed = true
		}
	}
	if !changed {
		return Stale, "a newer view of the payment is stored", nil
	}
	var (
		p    *Purchase
		acct *Account
	)
	if next.Purchase != "" {
		if p, err = tx.Purchase(ctx, next.Purchase); err != nil {
			return "", "", err
		}
		if p != nil && p.UID != "" {
			if acct, err = ReadAccount(ctx, tx, p.UID); err != nil {
				return "", "", err
			}
		}
	}

	next.UpdatedAt, next.LastEventID = ch.Now.UTC(), ch.EventID
	if err := tx.PutPayment(&next); err != nil {
		return "", "", err
	}
	if p == nil {
		return Applied, "", nil
	}
	p.Refunded, p.Disputed = next.Refunded, next.Disputed()
	p.SyncedAt = ch.Now.UTC()
	if err := tx.PutPurchase(p); err != nil {
		return "", "", err
	}
	if acct != nil {
		acct.SetPurchase(*p)
		if err := acct.Write(tx, p.Customer, "", ch.Now); err != nil {
			return "", "", err
		}
	}
	return Applied, "", nil
}

// ApplyCustomer keeps the customer mapping in step with the customer: its
// email, its deletion, and its owner when the customer's metadata names one
// and nobody owns it yet.
func ApplyCustomer(ctx context.Context, tx Tx, c CustomerView, ch Change) (Outcome, string, error) {
	if bad := unusableIDs("customer", c.ID); bad != "" {
		return Unprocessable, bad, nil
	}
	mapped, err := tx.StripeCustomer(ctx, c.ID)
	if err != nil {
		return "", "", err
	}
	if mapped != nil && mapped.CustomerAsOf.After(ch.AsOf) {
		return Stale, "a newer view is stored", nil
	}
	uid := Owner(mapped, c.UID)
	cl, err := readClaim(ctx, tx, c.ID, mapped, uid)
	if err != nil {
		return "", "", err
	}
	var acct *Account
	if cl.changesAccess() {
		if acct, err = ReadAccount(ctx, tx, uid); err != nil {
			return "", "", err
		}
	}

	next := StripeCustomer{Livemode: ch.Livemode}
	if mapped != nil {
		next = *mapped
	}
	next.UID = uid
	if uid != "" {
		next.clearUnclaimed() // handed over by the claim below
	}
	if c.Email != "" {
		next.Email = c.Email
	}
	next.Deleted = next.Deleted || c.Deleted
	next.CustomerAsOf = ch.AsOf.UTC()
	next.UpdatedAt = ch.Now.UTC()
	if err := tx.PutStripeCustomer(c.ID, &next); err != nil {
		return "", "", err
	}
	if err := cl.write(tx, acct, ch.Now, ""); err != nil {
		return "", "", err
	}
	if acct != nil {
		if err := acct.Write(tx, c.ID, c.Email, ch.Now); err != nil {
			return "", "", err
		}
	}
	return Applied, "", nil
}

func stripeCustomer(ctx context.Context, tx Tx, id string) (*StripeCustomer, error) {
	if id == "" {
		return nil, nil
	}
	return tx.StripeCustomer(ctx, id)
}

// docRef names a document an event writes.
type docRef struct{ collection, id string }

// link writes the customer mapping when it is new or learns a uid or email.
//
// While nobody owns the customer, the mapping records the unowned document
// the event writes, for the first owner to claim. Writing the mapping also
// makes such a transaction conflict with one that claims the customer, so
// the claim cannot miss the document.
func link(tx Tx, customer string, mapped *StripeCustomer, uid, email string, ch Change, unowned docRef) error {
	if customer == "" {
		return nil
	}
	next := LinkCustomer(mapped, uid, email, ch.Livemode, ch.Now.UTC())
	switch {
	case uid == "":
		if next == nil {
			touched := *mapped
			next = &touched
		}
		next.addUnclaimed(unowned)
		next.UpdatedAt = ch.Now.UTC()
	case next != nil:
		next.clearUnclaimed() // handed over by the event's claim
	}
	if next == nil {
		return nil
	}
	return tx.PutStripeCustomer(customer, next)
}

func (m *StripeCustomer) addUnclaimed(ref docRef) {
	add := func(list []string) []string {
		if ref.id == "" || slices.Contains(list, ref.id) {
			return list
		}
		out := append(slices.Clone(list), ref.id)
		slices.Sort(out)
		return out
	}
	switch ref.collection {
	case SubscriptionsCollection:
		m.UnclaimedSubscriptions = add(m.UnclaimedSubscriptions)
	case InvoicesCollection:
		m.UnclaimedInvoices = add(m.UnclaimedInvoices)
	case PurchasesCollection:
		m.UnclaimedPurchases = add(m.UnclaimedPurchases)
	}
}

func (m *StripeCustomer) clearUnclaimed() {
	m.UnclaimedSubscriptions, m.UnclaimedInvoices, m.UnclaimedPurchases = nil, nil, nil
}

// claim is what a customer's first owner inherits: the customer's
// documents stored while nobody owned it.
type claim struct {
	uid       string
	subs      []Subscription
	invoices  []Invoice
	purchases []Purchase
}

// readClaim reads, by the ids the mapping lists, the unowned documents of
// a customer that uid is about to own; nil when the customer is owned
// already, unknown, or uid is.
func readClaim(ctx context.Context, tx Tx, customer string, mapped *StripeCustomer, uid string) (*claim, error) {
	if customer == "" || uid == "" || mapped == nil || mapped.UID != "" {
		return nil, nil
	}
	c := &claim{uid: uid}
	for _, id := range mapped.UnclaimedSubscriptions {
		s, err := tx.Subscription(ctx, id)
		if err != nil {
			return nil, err
		}
		if s != nil && s.UID == "" {
			c.subs = append(c.subs, *s)
		}
	}
	for _, id := range mapped.UnclaimedInvoices {
		in, err := tx.Invoice(ctx, id)
		if err != nil {
			return nil, err
		}
		if in != nil && in.UID == "" {
			c.invoices = append(c.invoices, *in)
		}
	}
	for _, id := range mapped.UnclaimedPurchases {
		p, err := tx.Purchase(ctx, id)
		if err != nil {
			return nil, err
		}
		if p != nil && p.UID == "" {
			c.purchases = append(c.purchases, *p)
		}
	}
	return c, nil
}

// changesAccess reports whether the claim hands over anything that grants
// access.
func (c *claim) changesAccess() bool {
	return c != nil && (len(c.subs) > 0 || len(c.purchases) > 0)
}

func (c *claim) has(id string) bool {
	if c == nil {
		return false
	}
	for _, s := range c.subs {
		if s.ID == id {
			return true
		}
	}
	return false
}

// write gives the claimed documents to the owner, except skip (the
// document the event writes itself), and adds them to the owner's account.
func (c *claim) write(tx Tx, acct *Account, now time.Time, skip string) error {
	if c == nil {
		return nil
	}
	now = now.UTC()
	for _, s := range c.subs {
		if s.ID == skip {
			continue
		}
		s.UID, s.SyncedAt = c.uid, now
		if err := tx.PutSubscription(&s); err != nil {
			return err
		}
		if acct != nil {
			acct.SetSubscription(s)
		}
	}
	for _, in := range c.invoices {
		if in.ID == skip {
			continue
		}
		in.UID, in.SyncedAt = c.uid, now
		if err := tx.PutInvoice(&in); err != nil {
			return err
		}
	}
	for _, p := range c.purchases {
		if p.ID == skip {
			continue
		}
		p.UID, p.SyncedAt = c.uid, now
		if err := tx.PutPurchase(&p); err != nil {
			return err
		}
		if acct != nil {
			acct.SetPurchase(p)
		}
	}
	return nil
}

// readAccounts reads the accounts of the object's owner and, when the
// owner changed, of its previous owner, whose access must shrink.
func readAccounts(ctx context.Context, tx Tx, uid, prevUID string) ([]*Account, error) {
	var out []*Account
	for _, u := range []string{uid, prevUID} {
		if u == "" || (len(out) > 0 && out[0].UID == u) {
			continue
		}
		a, err := ReadAccount(ctx, tx, u)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func (a *Account) dropSubscription(id string) {
	kept := a.Subs[:0]
	for _, s := range a.Subs {
		if s.ID != id {
			kept = append(kept, s)
		}
	}
	a.Subs = kept
}
