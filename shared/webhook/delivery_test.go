package webhook_test

// Stripe's real delivery: at least once, in any order, concurrently, late,
// at whatever API version the endpoint renders. Each case is named after
// the situation it proves.

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/courseplatform/billing/functions/webhooks/checkoutsessions"
	"github.com/courseplatform/billing/functions/webhooks/invoices"
	"github.com/courseplatform/billing/functions/webhooks/subscriptions"
	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/store/firestore/firestoretest"
	"github.com/courseplatform/billing/shared/store/memstore"
	"github.com/courseplatform/billing/shared/stripeapi"
	"github.com/courseplatform/billing/shared/webhook"
	"github.com/courseplatform/billing/shared/webhook/webhooktest"
)

// object returns a captured payload's object with fields replaced.
func object(t *testing.T, file string, set map[string]any) map[string]any {
	t.Helper()
	var data struct {
		Object map[string]any `json:"object"`
	}
	if err := json.Unmarshal(captured(t, file).Data, &data); err != nil {
		t.Fatal(err)
	}
	for k, v := range set {
		if v == nil {
			delete(data.Object, k)
		} else {
			data.Object[k] = v
		}
	}
	return data.Object
}

func event(t *testing.T, id, typ string, created int64, obj map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return webhooktest.Event{ID: id, Type: typ, Created: created, Data: webhooktest.Object(string(b))}.JSON()
}

func deliver(t *testing.T, h http.Handler, body []byte) (int, billing.Outcome) {
	t.Helper()
	code, res := serve(h, webhooktest.Request("/", body, webhooktest.Secret, now))
	return code, res.Outcome
}

func storedSubscription(t *testing.T, s billing.Store, id string) *billing.Subscription {
	t.Helper()
	var out *billing.Subscription
	if err := s.View(context.Background(), func(ctx context.Context, tx billing.Tx) (err error) {
		out, err = tx.Subscription(ctx, id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSubscriptionUpdatedBeforeCreated(t *testing.T) {
	store := memstore.New()
	h := newHandler(t, store, subscriptionRoutes())
	updated := event(t, "evt_updated", "customer.subscription.updated", 1700000100, object(t, "subscription.created.json", map[string]any{"status": "active"}))
	created := event(t, "evt_created", "customer.subscription.created", 1700000000, object(t, "subscription.created.json", map[string]any{"status": "incomplete"}))

	if code, out := deliver(t, h, updated); code != 200 || out != billing.Applied {
		t.Fatalf("updated: %d %q", code, out)
	}
	if code, out := deliver(t, h, created); code != 200 || out != billing.Stale {
		t.Errorf("late created: %d %q, want 200 stale", code, out)
	}
	if got := storedSubscription(t, store, "sub_00000000000000"); got.Status != "active" || got.LastEventID != "evt_updated" {
		t.Errorf("stored %q from %s, want active from evt_updated", got.Status, got.LastEventID)
	}
}

// Stripe stamps events in whole seconds and often sends two for one object
// within the same second. In payload mode the view further along its
// lifecycle must win whichever arrives last: otherwise a late
// subscription.created (incomplete) takes away the access its
// subscription.updated (active) gave, or a late invoice.finalized (open)
// makes a paid invoice look unpaid.
func TestSameSecondEventsInEitherOrder(t *testing.T) {
	const second = 1700000000
	invoiceRoutes := invoices.Routes(stripeapi.Payload{}, func() time.Time { return now })
	subscriptionStatus := func(s billing.Store) (string, string) {
		sub := storedSubscription(t, s, "sub_00000000000000")
		return sub.Status, sub.LastEventID
	}
	cases := []struct {
		name           string
		routes         map[string]webhook.Processor
		earlier, later []byte
		read           func(billing.Store) (status, lastEvent string)
		want           string
	}{
		{
			name:    "subscription created incomplete, updated active",
			routes:  subscriptionRoutes(),
			earlier: event(t, "evt_sub_created", "customer.subscription.created", second, object(t, "subscription.created.json", map[string]any{"status": "incomplete"})),
			later:   event(t, "evt_sub_updated", "customer.subscription.updated", second, object(t, "subscription.created.json", map[string]any{"status": "active"})),
			read:    subscriptionStatus,
			want:    "active",
		},
		{
			name:    "subscription created active, deleted canceled",
			routes:  subscriptionRoutes(),
			earlier: event(t, "evt_sub_created", "customer.subscription.created", second, object(t, "subscription.created.json", map[string]any{"status": "active"})),
			later:   event(t, "evt_sub_deleted", "customer.subscription.deleted", second, object(t, "subscription.created.json", map[string]any{"status": "canceled"})),
			read:    subscriptionStatus,
			want:    "canceled",
		},
		{
			name:    "invoice finalized open, paid",
			routes:  invoiceRoutes,
			earlier: event(t, "evt_in_finalized", "invoice.finalized", second, object(t, "invoice.payment_failed.json", map[string]any{"status": "open", "paid": false})),
			later:   event(t, "evt_in_paid", "invoice.paid", second, object(t, "invoice.payment_failed.json", map[string]any{"status": "paid", "paid": true})),
			read: func(s billing.Store) (string, string) {
				var in *billing.Invoice
				if err := s.View(context.Background(), func(ctx context.Context, tx billing.Tx) (err error) {
					in, err = tx.Invoice(ctx, "in_1234")
					return err
				}); err != nil || in == nil {
					t.Fatalf("invoice: %v %v", in, err)
				}
				return in.Status, in.LastEventID
			},
			want: "paid",
		},
	}
	for _, tc := range cases {
		for _, order := range []string{"in order", "reversed"} {
			t.Run(tc.name+"/"+order, func(t *testing.T) {
				store := memstore.New()
				h := newHandler(t, store, tc.routes)
				first, second := tc.earlier, tc.later
				wantSecond := billing.Applied
				if order == "reversed" {
					first, second = second, first
					wantSecond = billing.Stale
				}
				if code, out := deliver(t, h, first); code != 200 || out != billing.Applied {
					t.Fatalf("first: %d %q, want 200 applied", code, out)
				}
				if code, out := deliver(t, h, second); code != 200 || out != wantSecond {
					t.Errorf("second: %d %q, want 200 %q", code, out, wantSecond)
				}
				if status, last := tc.read(store); status != tc.want {
					t.Errorf("stored %q (from %s), want %q", status, last, tc.want)
				}
			})
		}
	}
}

// Stripe lets a dashboard user put any key in metadata, Firestore reserves
// some (__…__). A subscription with such a metadata key, or a courseId no
// document can have, is stored without them (the course then falls back to
// the product) instead of failing every delivery with a 5xx.
func TestMetadataFirestoreCannotStore(t *testing.T) {
	store, _ := firestoretest.Open(t)
	h := newHandler(t, store, subscriptionRoutes())
	meta := map[string]any{"uid": "user_meta", "courseId": "__course__", "__reserved__": "x", "plan": "kept"}
	body := event(t, "evt_reserved_meta", "customer.subscription.created", 1700000000, object(t, "subscription.created.json", map[string]any{"metadata": meta}))
	if code, out := deliver(t, h, body); code != 200 || out != billing.Applied {
		t.Fatalf("got %d %q, want 200 applied", code, out)
	}
	sub := storedSubscription(t, store, "sub_00000000000000")
	if _, ok := sub.Metadata["__reserved__"]; ok || sub.Metadata["plan"] != "kept" {
		t.Errorf("stored metadata %v, want the reserved key dropped and the others kept", sub.Metadata)
	}
	var acct *billing.Account
	if err := store.View(context.Background(), func(ctx context.Context, tx billing.Tx) (err error) {
		acct, err = billing.ReadAccount(ctx, tx, "user_meta")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, ok := acct.Customer.Entitlements["prod_00000000000000"]; !ok {
		t.Errorf("entitlements %v, want one keyed by the product", acct.Customer.Entitlements)
	}
}

// The captured payloads were rendered at older API versions (plans
// without prices, invoices with subscription null, customer shapes of
// 2019); each is delivered as an event of such a version, one at a time
// into a fresh store, and must be recorded with a 2xx: applied, or
// unprocessable when its object is of the wrong kind.
func TestPayloadsAtOlderAPIVersions(t *testing.T) {
	clock := func() time.Time { return now }
	routes := map[string]webhook.Processor{}
	for _, rs := range []map[string]webhook.Processor{
		subscriptions.Routes(stripeapi.Payload{}, clock),
		invoices.Routes(stripeapi.Payload{}, clock),
		checkoutsessions.Routes(stripeapi.Payload{}, clock),
	} {
		maps.Copy(routes, rs)
	}
	files, err := filepath.Glob(filepath.Join(webhooktest.CapturedDir(), "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	owned := 0
	for _, f := range files {
		ev, err := webhooktest.Captured(filepath.Base(f))
		if err != nil || routes[ev.Type] == nil {
			continue // a bare object, a full event, or a type no group owns
		}
		owned++
		for _, version := range []string{"2019-12-03", "2020-08-27", "2022-11-15"} {
			ev.APIVersion = version
			t.Run(filepath.Base(f)+"@"+version, func(t *testing.T) {
				store := memstore.New()
				code, out := deliver(t, newHandler(t, store, routes), ev.JSON())
				if code != 200 || (out != billing.Applied && out != billing.Unprocessable) {
					t.Fatalf("got %d %q, want 200 applied or unprocessable", code, out)
				}
				if out == billing.Applied && docCount(store) < 2 {
					t.Errorf("applied but only %d documents (the marker alone?)", docCount(store))
				}
			})
		}
	}
	if owned < 8 {
		t.Errorf("only %d captured payloads of owned types found", owned)
	}
}

// A course bought once is taken away when its money goes back: a full
// refund, or a dispute that holds or took the money; a partial refund, an
// inquiry or a won dispute leave it. The refund may arrive before the
// purchase's own event, and the result must not depend on that.
func TestRefundsAndDisputesFollowTheMoney(t *testing.T) {
	clock := func() time.Time { return now }
	session := func() []byte {
		return event(t, "evt_cs_paid", "checkout.session.completed", 1700000000, object(t, "checkout.session.completed.json", map[string]any{
			"mode": "payment", "payment_intent": "pm_1234", "subscription": nil, "client_reference_id": "buyer",
			"metadata": map[string]any{"uid": "buyer", "courseId": "go-101"},
		}))
	}
	refund := func(id string, refunded int64) []byte {
		return event(t, id, "charge.refunded", 1700000100, object(t, "charge.refunded.json", map[string]any{
			"amount": 1500, "amount_refunded": refunded, "refunded": refunded == 1500,
		}))
	}
	dispute := func(id, typ, status string, created int64) []byte {
		return event(t, id, typ, created, map[string]any{
			"id": "dp_1", "object": "dispute", "amount": 1500, "charge": "ch_chargeid", "payment_intent": "pm_1234",
			"status": status, "created": 1700000200,
		})
	}
	cases := []struct {
		name   string
		events [][]byte
		owns   bool
	}{
		{"paid", [][]byte{session()}, true},
		{"partial refund keeps the course", [][]byte{session(), refund("evt_re_part", 500)}, true},
		{"full refund takes it away", [][]byte{session(), refund("evt_re_part", 500), refund("evt_re_full", 1500)}, false},
		{"full refund before the purchase's event", [][]byte{refund("evt_re_full", 1500), session()}, false},
		{"late partial refund after the full one", [][]byte{session(), refund("evt_re_full", 1500), refund("evt_re_part", 500)}, false},
		{"an inquiry keeps it", [][]byte{session(), dispute("evt_dp_w", "charge.dispute.created", "warning_needs_response", 1700000300)}, true},
		{"an open dispute takes it away", [][]byte{session(), dispute("evt_dp_open", "charge.dispute.created", "needs_response", 1700000300)}, false},
		{"a won dispute gives it back", [][]byte{session(), dispute("evt_dp_open", "charge.dispute.created", "needs_response", 1700000300), dispute("evt_dp_won", "charge.dispute.closed", "won", 1700000400)}, true},
		{"a won dispute delivered before it opened", [][]byte{session(), dispute("evt_dp_won", "charge.dispute.closed", "won", 1700000400), dispute("evt_dp_open", "charge.dispute.created", "needs_response", 1700000300)}, true},
		{"a lost dispute takes it for good", [][]byte{dispute("evt_dp_lost", "charge.dispute.closed", "lost", 1700000400), session(), dispute("evt_dp_rev", "charge.dispute.updated", "under_review", 1700000350)}, false},
	}
	stores := map[string]func() billing.Store{
		"memstore":  func() billing.Store { return memstore.New() },
		"firestore": func() billing.Store { s, _ := firestoretest.Open(t); return s },
	}
	for storeName, open := range stores {
		for _, tc := range cases {
			t.Run(storeName+"/"+tc.name, func(t *testing.T) {
				store := open()
				h := newHandler(t, store, checkoutsessions.Routes(stripeapi.Payload{}, clock))
				for i, body := range tc.events {
					if code, out := deliver(t, h, body); code != 200 || (out != billing.Applied && out != billing.Stale) {
						t.Fatalf("event %d: %d %q, want 200 applied or stale", i, code, out)
					}
				}
				var acct *billing.Account
				if err := store.View(context.Background(), func(ctx context.Context, tx billing.Tx) (err error) {
					acct, err = billing.ReadAccount(ctx, tx, "buyer")
					return err
				}); err != nil {
					t.Fatal(err)
				}
				if acct.Customer == nil {
					t.Fatal("customers/buyer was not written")
				}
				if _, owns := acct.Customer.Entitlements["go-101"]; owns != tc.owns {
					t.Errorf("entitled to go-101 = %v, want %v (entitlements %v)", owns, tc.owns, acct.Customer.Entitlements)
				}
			})
		}
	}
}

// Values Firestore refuses for good (a product id it reserves as a field
// name, a timestamp past year 9999) make an event that can never be
// stored: recorded as unprocessable with a 2xx, nothing else written,
// rather than a 503 on every delivery for days.
func TestDocumentsFirestoreRefusesAreUnprocessable(t *testing.T) {
	items := func(product string) map[string]any {
		obj := object(t, "subscription.created.json", nil)
		item := obj["items"].(map[string]any)["data"].([]any)[0].(map[string]any)
		item["price"].(map[string]any)["product"] = product
		return obj["items"].(map[string]any)
	}
	cases := map[string]map[string]any{
		"reserved product id":       {"items": items("__p__"), "metadata": map[string]any{"uid": "user_p"}},
		"period end past year 9999": {"current_period_end": 99999999999999, "metadata": map[string]any{"uid": "user_p"}},
	}
	for name, set := range cases {
		t.Run(name, func(t *testing.T) {
			store, _ := firestoretest.Open(t)
			h := newHandler(t, store, subscriptionRoutes())
			body := event(t, "evt_refused", "customer.subscription.updated", 1700000000, object(t, "subscription.created.json", set))
			for i, want := range []billing.Outcome{billing.Unprocessable, billing.Duplicate} {
				if code, out := deliver(t, h, body); code != 200 || out != want {
					t.Fatalf("delivery %d: %d %q, want 200 %q", i, code, out, want)
				}
			}
			if sub := storedSubscription(t, store, "sub_00000000000000"); sub != nil {
				t.Errorf("subscription stored: %+v", sub)
			}
		})
	}
}

// Two instances receive the same event at the same moment: one effect,
// both (all) answered 2xx.
func TestSameEventConcurrentlyToTwoHandlers(t *testing.T) {
	store, _ := firestoretest.Open(t)
	handlers := []http.Handler{newHandler(t, store, subscriptionRoutes()), newHandler(t, store, subscriptionRoutes())}
	body := captured(t, "subscription.created.json").JSON()
	const n = 8
	outcomes := make([]billing.Outcome, n)
	codes := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			code, res := serve(handlers[i%2], webhooktest.Request("/", body, webhooktest.Secret, now))
			codes[i], outcomes[i] = code, res.Outcome
		}(i)
	}
	close(start)
	wg.Wait()
	applied := 0
	for i := range codes {
		if codes[i] != 200 {
			t.Errorf("delivery %d: status %d", i, codes[i])
		}
		switch outcomes[i] {
		case billing.Applied:
			applied++
		case billing.Duplicate:
		default:
			t.Errorf("delivery %d: outcome %q", i, outcomes[i])
		}
	}
	if applied != 1 {
		t.Errorf("%d deliveries applied the event, want exactly 1", applied)
	}
}

// The first delivery times out while Stripe is being asked for the object:
// 5xx and nothing written; Stripe's redelivery then applies it once.
func TestRedeliveryAfterTimeoutMidProcessing(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			<-r.Context().Done() // the first read hangs until the caller gives up
			return
		}
		w.Header().Set("Content-Type", "application/json")
		b, _ := json.Marshal(object(t, "subscription.created.json", map[string]any{"status": "active"}))
		_, _ = w.Write(b)
	}))
	defer srv.Close()
	api, err := stripeapi.NewClient(stripeapi.ClientConfig{Key: "sk_test_fakefakefake", BaseURL: srv.URL, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	store := memstore.New()
	h := newHandler(t, store, subscriptions.Routes(stripeapi.Refetch{API: api}, time.Now), func(c *webhook.Config) {
		c.Timeout = 200 * time.Millisecond
	})
	body := captured(t, "subscription.created.json").JSON()
	if code, _ := deliver(t, h, body); code < 500 {
		t.Fatalf("timed-out delivery: %d, want 5xx", code)
	}
	if n := docCount(store); n != 0 {
		t.Fatalf("%d documents after a timed-out delivery, want none", n)
	}
	for i, want := range []billing.Outcome{billing.Applied, billing.Duplicate} {
		if code, out := deliver(t, h, body); code != 200 || out != want {
			t.Errorf("redelivery %d: %d %q, want 200 %q", i+1, code, out, want)
		}
	}
}

// Stripe may deliver customer.deleted before the subscription's deletion.
// The mapping survives the customer, so the subscription's end still finds
// its owner and takes the access away.
func TestCustomerDeletedBeforeSubscriptionDeleted(t *testing.T) {
	store := memstore.New()
	h := newHandler(t, store, subscriptionRoutes())
	owned := map[string]any{"uid": "user-a"}
	steps := []struct {
		name string
		body []byte
		want billing.Outcome
	}{
		{"subscription created", event(t, "evt_1", "customer.subscription.created", 1700000000,
			object(t, "subscription.created.json", map[string]any{"metadata": owned})), billing.Applied},
		{"customer deleted", event(t, "evt_2", "customer.deleted", 1700000200,
			object(t, "customer.deleted.json", map[string]any{"id": "cus_00000000000000"})), billing.Applied},
		{"subscription deleted", event(t, "evt_3", "customer.subscription.deleted", 1700000200,
			object(t, "subscription.deleted.json", map[string]any{"metadata": map[string]any{}})), billing.Applied},
	}
	for _, s := range steps {
		if code, out := deliver(t, h, s.body); code != 200 || out != s.want {
			t.Fatalf("%s: %d %q, want 200 %q", s.name, code, out, s.want)
		}
	}
	err := store.View(context.Background(), func(ctx context.Context, tx billing.Tx) error {
		sub, err := tx.Subscription(ctx, "sub_00000000000000")
		if err != nil {
			return err
		}
		if sub.Status != "canceled" || sub.UID != "user-a" {
			t.Errorf("subscription %q owned by %q, want canceled, user-a", sub.Status, sub.UID)
		}
		m, err := tx.StripeCustomer(ctx, "cus_00000000000000")
		if err != nil {
			return err
		}
		if m == nil || !m.Deleted || m.UID != "user-a" {
			t.Errorf("mapping %+v, want deleted and still user-a's", m)
		}
		c, err := tx.Customer(ctx, "user-a")
		if err != nil {
			return err
		}
		if c == nil || len(c.Entitlements) != 0 {
			t.Errorf("customers/user-a = %+v, want no entitlements left", c)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTestModeEventToLiveDeployment(t *testing.T) {
	store := memstore.New()
	h := newHandler(t, store, subscriptionRoutes(), func(c *webhook.Config) { c.Livemode = true })
	if code, out := deliver(t, h, captured(t, "subscription.created.json").JSON()); code != 200 || out != billing.Ignored {
		t.Errorf("got %d %q, want 200 ignored", code, out)
	}
	if n := docCount(store); n != 0 {
		t.Errorf("%d documents written, want none", n)
	}
}

// A payload rendered at an API version newer than the client's: the
// billing period lives on the items and the top-level fields are gone.
func TestPayloadAtNewerAPIVersion(t *testing.T) {
	store := memstore.New()
	h := newHandler(t, store, subscriptionRoutes())
	obj := object(t, "subscription.created.json", map[string]any{"current_period_start": nil, "current_period_end": nil})
	item := obj["items"].(map[string]any)["data"].([]any)[0].(map[string]any)
	item["current_period_start"], item["current_period_end"] = 1767225600, 1769904000
	b, _ := json.Marshal(obj)
	body := webhooktest.Event{ID: "evt_basil", Type: "customer.subscription.updated", APIVersion: "2025-03-31.basil", Data: webhooktest.Object(string(b))}.JSON()
	if code, out := deliver(t, h, body); code != 200 || out != billing.Applied {
		t.Fatalf("got %d %q, want 200 applied", code, out)
	}
	got := storedSubscription(t, store, "sub_00000000000000")
	if got.CurrentPeriodEnd == nil || got.CurrentPeriodEnd.Unix() != 1769904000 {
		t.Errorf("period end %v, want it taken from the items", got.CurrentPeriodEnd)
	}
}

func TestCustomerAsIDExpandedObjectAndNull(t *testing.T) {
	cases := []struct {
		name     string
		customer any
		want     string
	}{
		{"id", "cus_plain", "cus_plain"},
		{"expanded object", map[string]any{"id": "cus_expanded", "object": "customer", "email": "a@example.com"}, "cus_expanded"},
		{"null", nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := memstore.New()
			h := newHandler(t, store, subscriptionRoutes())
			obj := object(t, "subscription.created.json", nil)
			obj["customer"] = c.customer
			if code, out := deliver(t, h, event(t, "evt_c", "customer.subscription.created", 1700000000, obj)); code != 200 || out != billing.Applied {
				t.Fatalf("got %d %q, want 200 applied", code, out)
			}
			if got := storedSubscription(t, store, "sub_00000000000000"); got.Customer != c.want {
				t.Errorf("customer %q, want %q", got.Customer, c.want)
			}
		})
	}
}

// invoice.upcoming has no id: no function owns it, and even routed to the
// invoices function it is recorded as unprocessable, never a crash or 5xx.
func TestInvoiceUpcomingWithoutID(t *testing.T) {
	body := captured(t, "invoice.upcoming.json").JSON()
	store := memstore.New()
	routes := invoices.Routes(stripeapi.Payload{}, func() time.Time { return now })
	if code, out := deliver(t, newHandler(t, store, routes), body); code != 200 || out != billing.Ignored {
		t.Errorf("not owned: %d %q, want 200 ignored", code, out)
	}
	routes["invoice.upcoming"] = routes["invoice.paid"]
	if code, out := deliver(t, newHandler(t, store, routes), body); code != 200 || out != billing.Unprocessable {
		t.Errorf("routed: %d %q, want 200 unprocessable", code, out)
	}
	if store.Len(billing.InvoicesCollection) != 0 {
		t.Error("an invoice without id was written")
	}
}

func TestInvoiceWithNullSubscription(t *testing.T) {
	store := memstore.New()
	h := newHandler(t, store, invoices.Routes(stripeapi.Payload{}, func() time.Time { return now }))
	obj := object(t, "invoice.payment_failed.json", map[string]any{"subscription": nil, "parent": nil})
	if code, out := deliver(t, h, event(t, "evt_null_sub", "invoice.payment_failed", 1700000000, obj)); code != 200 || out != billing.Applied {
		t.Fatalf("got %d %q, want 200 applied", code, out)
	}
	err := store.View(context.Background(), func(ctx context.Context, tx billing.Tx) error {
		in, err := tx.Invoice(ctx, "in_1234")
		if err == nil && (in == nil || in.Subscription != "") {
			t.Errorf("invoice = %+v, want stored with no subscription", in)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Firestore fails after the event's writes were made, before the commit:
// 5xx, and not one of the writes (nor the marker) is visible.
func TestFirestoreFailingMidTransaction(t *testing.T) {
	store, _ := firestoretest.Open(t)
	real := subscriptionRoutes()["customer.subscription.created"]
	failing := webhook.ProcessorFunc(func(ctx context.Context, ev *stripe.Event) (billing.ApplyFunc, error) {
		apply, err := real.Prepare(ctx, ev)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, tx billing.Tx) (billing.Outcome, string, error) {
			if _, _, err := apply(ctx, tx); err != nil {
				return "", "", err
			}
			return "", "", errors.New("firestore: connection reset mid-transaction")
		}, nil
	})
	body := event(t, "evt_mid", "customer.subscription.created", 1700000000,
		object(t, "subscription.created.json", map[string]any{"metadata": map[string]any{"uid": "user-a"}}))
	h := newHandler(t, store, map[string]webhook.Processor{"customer.subscription.created": failing})
	if code, _ := deliver(t, h, body); code < 500 {
		t.Fatalf("got %d, want 5xx", code)
	}
	for _, coll := range []string{billing.SubscriptionsCollection, billing.StripeCustomersCollection, billing.CustomersCollection, billing.EventsCollection} {
		docs, err := store.Client().Collection(coll).Documents(context.Background()).GetAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(docs) != 0 {
			t.Errorf("%s: %d documents after a failed transaction, want none", coll, len(docs))
		}
	}
	// Stripe's retry, with Firestore healthy again, applies it whole.
	h = newHandler(t, store, subscriptionRoutes())
	if code, out := deliver(t, h, body); code != 200 || out != billing.Applied {
		t.Errorf("retry: %d %q, want 200 applied", code, out)
	}
}
