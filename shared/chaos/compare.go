package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/stripeapi"
	"github.com/courseplatform/billing/shared/stripelocal"
)

// owned returns, per object kind, the ids of the objects that at least one
// event owned by a webhook function was about: those must have documents.
func owned(events []stripelocal.Event) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, ev := range events {
		if _, ok := billing.GroupOf(ev.Type); !ok {
			continue
		}
		var h struct {
			Object string `json:"object"`
		}
		_ = json.Unmarshal(ev.Object, &h)
		if out[h.Object] == nil {
			out[h.Object] = map[string]bool{}
		}
		out[h.Object][ev.ObjectID()] = true
	}
	return out
}

// compare checks every document the deployment should hold against the
// stand-in's truth, converted by the same rules the functions use.
func compare(ctx context.Context, s *stripelocal.Stripe, store billing.Store, d *driver, res *Result) error {
	uidOf := map[string]string{}
	for _, c := range d.customers {
		uidOf[c.cus] = c.uid
	}
	seen := owned(s.Events())
	subsOf := map[string][]billing.Subscription{}
	purchasesOf := map[string][]billing.Purchase{}

	var wantSubs []billing.Subscription
	for _, t := range s.Subscriptions() {
		if !seen["subscription"][t.ID] {
			continue
		}
		w := stripeapi.Subscription(t)
		w.UID = uidOf[w.Customer]
		wantSubs = append(wantSubs, w)
		subsOf[w.UID] = append(subsOf[w.UID], w)
	}
	var wantInvoices []billing.Invoice
	for _, t := range s.Invoices() {
		if !seen["invoice"][t.ID] {
			continue
		}
		w := stripeapi.Invoice(t)
		w.UID = uidOf[w.Customer]
		wantInvoices = append(wantInvoices, w)
	}
	var wantPurchases []billing.Purchase
	for _, t := range s.CheckoutSessions() {
		if !seen["checkout.session"][t.ID] || t.Mode != "payment" {
			continue
		}
		w := stripeapi.Session(t).Purchase
		w.UID = uidOf[w.Customer]
		wantPurchases = append(wantPurchases, w)
		purchasesOf[w.UID] = append(purchasesOf[w.UID], w)
	}

	problem := func(kind, id, format string, args ...any) {
		res.Diverged++
		res.Problems = append(res.Problems, fmt.Sprintf("diverged: %s/%s: %s", kind, id, fmt.Sprintf(format, args...)))
	}
	missing := func(kind, id string) {
		res.Lost++
		res.Problems = append(res.Problems, fmt.Sprintf("lost: %s/%s has no document", kind, id))
	}

	return store.View(ctx, func(ctx context.Context, tx billing.Tx) error {
		for _, w := range wantSubs {
			got, err := tx.Subscription(ctx, w.ID)
			if err != nil {
				return err
			}
			if got == nil {
				missing(billing.SubscriptionsCollection, w.ID)
				continue
			}
			got.Version, got.Livemode = billing.Version{}, false
			if diff := differ(w, *got); diff != "" {
				problem(billing.SubscriptionsCollection, w.ID, "%s", diff)
			}
		}
		for _, w := range wantInvoices {
			got, err := tx.Invoice(ctx, w.ID)
			if err != nil {
				return err
			}
			if got == nil {
				missing(billing.InvoicesCollection, w.ID)
				continue
			}
			got.Version, got.Livemode = billing.Version{}, false
			if diff := differ(w, *got); diff != "" {
				problem(billing.InvoicesCollection, w.ID, "%s", diff)
			}
		}
		for _, w := range wantPurchases {
			got, err := tx.Purchase(ctx, w.ID)
			if err != nil {
				return err
			}
			if got == nil {
				missing(billing.PurchasesCollection, w.ID)
				continue
			}
			got.Version, got.Livemode = billing.Version{}, false
			if diff := differ(w, *got); diff != "" {
				problem(billing.PurchasesCollection, w.ID, "%s", diff)
			}
		}
		for _, c := range d.customers {
			if !seen["customer"][c.cus] && !hasDocs(subsOf[c.uid], purchasesOf[c.uid]) {
				continue
			}
			m, err := tx.StripeCustomer(ctx, c.cus)
			if err != nil {
				return err
			}
			if m == nil {
				missing(billing.StripeCustomersCollection, c.cus)
			} else if m.UID != c.uid {
				problem(billing.StripeCustomersCollection, c.cus, "owner %q, want %q", m.UID, c.uid)
			}
			want := billing.DeriveEntitlements(subsOf[c.uid], purchasesOf[c.uid])
			got, err := tx.Customer(ctx, c.uid)
			if err != nil {
				return err
			}
			var have map[string]billing.Entitlement
			if got != nil {
				have = got.Entitlements
			}
			if diff := differ(nonNil(want), nonNil(have)); diff != "" {
				problem(billing.CustomersCollection, c.uid, "entitlements: %s", diff)
			}
		}
		return nil
	})
}

func hasDocs(subs []billing.Subscription, purchases []billing.Purchase) bool {
	return len(subs) > 0 || len(purchases) > 0
}

func nonNil(m map[string]billing.Entitlement) map[string]billing.Entitlement {
	if m == nil {
		return map[string]billing.Entitlement{}
	}
	return m
}

// differ describes how got differs from want, field by field, as the JSON
// both render to (times in UTC); "" when they agree.
func differ(want, got any) string {
	wm, gm := fields(want), fields(got)
	var keys []string
	for k := range wm {
		keys = append(keys, k)
	}
	for k := range gm {
		if _, ok := wm[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out string
	for _, k := range keys {
		if wm[k] != gm[k] {
			out += fmt.Sprintf("%s=%s want %s; ", k, gm[k], wm[k])
		}
	}
	return out
}

func fields(v any) map[string]string {
	b, _ := json.Marshal(v)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	out := map[string]string{}
	for k, raw := range m {
		s := string(raw)
		if s == "null" || s == "{}" || s == "[]" || s == `""` || s == "false" || s == "0" {
			continue // absent and empty mean the same in a document
		}
		out[k] = s
	}
	return out
}
