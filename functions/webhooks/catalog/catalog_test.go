package catalog_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

var now = time.Unix(1700000000, 0).UTC()

func handler(t *testing.T, store billing.Store, src stripeapi.Source, clock func() time.Time) http.Handler {
	t.Helper()
	h, err := webhook.NewHandler(webhook.Config{
		Function: billing.CatalogEvents.EntryPoint,
		Secrets:  []string{webhooktest.Secret},
		Routes:   catalog.Routes(src, clock),
		Store:    store,
		Logger:   slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Now:      clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// Real shapes (2023-10-16), trimmed; created is the event's time.
const (
	productJSON = `{"id":"prod_go","object":"product","active":%t,"created":1700000000,"default_price":%s,
		"description":null,"images":[],"livemode":false,"metadata":{"courseId":"go-basics"},"name":"Go basics",
		"type":"service","updated":1700000000}`
	priceJSON = `{"id":"%s","object":"price","active":%t,"billing_scheme":"per_unit","created":1700000000,
		"currency":"usd","livemode":false,"lookup_key":null,"metadata":{"courseId":"go-basics"},"nickname":null,
		"product":"prod_go","recurring":{"interval":"month","interval_count":1,"usage_type":"licensed"},
		"type":"recurring","unit_amount":%d,"unit_amount_decimal":"%d"}`
	stickerJSON = `{"id":"prod_sticker","object":"product","active":true,"default_price":null,"metadata":{},"name":"Sticker"}`
)

func product(active bool, defaultPrice string) string {
	dp := "null"
	if defaultPrice != "" {
		dp = `"` + defaultPrice + `"`
	}
	return sprintf(productJSON, active, dp)
}

func price(id string, active bool, amount int64) string {
	return sprintf(priceJSON, id, active, amount, amount)
}

// sprintf fills a payload template and drops its layout.
func sprintf(format string, args ...any) string {
	return strings.NewReplacer("\n", "", "\t", "").Replace(fmt.Sprintf(format, args...))
}

func post(t *testing.T, h http.Handler, id, typ string, created int64, obj string) (int, webhook.Response) {
	t.Helper()
	body := webhooktest.Event{ID: id, Type: typ, Created: created, Data: webhooktest.Object(obj)}.JSON()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, webhooktest.Request("/", body, webhooktest.Secret, now))
	var res webhook.Response
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
		t.Fatalf("%s: answer %q: %v", id, w.Body.String(), err)
	}
	return w.Code, res
}

func storedCourse(t *testing.T, s billing.Store, id string) *billing.Course {
	t.Helper()
	var c *billing.Course
	if err := s.View(context.Background(), func(ctx context.Context, tx billing.Tx) (err error) {
		c, err = tx.Course(ctx, id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return c
}

// A course's life from the catalog's events as payloads, in the order and
// with the redeliveries Stripe may use.
func TestCatalogEventsFromPayloads(t *testing.T) {
	firestoretest.EachStore(t, func(t *testing.T, s billing.Store) {
		h := handler(t, s, stripeapi.Payload{}, func() time.Time { return now })
		steps := []struct {
			name, id, typ string
			created       int64
			obj           string
			want          billing.Outcome
			wantDetail    string // checked against the stored marker
			check         func(t *testing.T, c *billing.Course)
		}{
			{"product of no course: acknowledged, nothing written", "evt_sticker", "product.created", 1700000000, stickerJSON, billing.Applied, "not a course", nil},
			{"product created: course created, not yet sellable", "evt_p1", "product.created", 1700000000, product(true, ""), billing.Applied, "",
				func(t *testing.T, c *billing.Course) {
					if c == nil || c.Title != "Go basics" || c.StripeProductID != "prod_go" || !c.Active || c.Sellable() {
						t.Errorf("course %+v", c)
					}
				}},
			{"price created: adopted, sellable", "evt_pr1", "price.created", 1700000001, price("price_1", true, 4900), billing.Applied, "adopted",
				func(t *testing.T, c *billing.Course) {
					if c.StripePriceID != "price_1" || c.Amount != 4900 || c.Mode != billing.ModeSubscription || c.Interval != "month" || !c.Sellable() {
						t.Errorf("course %+v", c)
					}
				}},
			{"the same event again: duplicate", "evt_pr1", "price.created", 1700000001, price("price_1", true, 4900), billing.Duplicate, "adopted", nil},
			{"default price set (a bare id): price kept", "evt_p2", "product.updated", 1700000002, product(true, "price_1"), billing.Applied, "",
				func(t *testing.T, c *billing.Course) {
					if c.StripePriceID != "price_1" || !c.Sellable() {
						t.Errorf("course %+v", c)
					}
				}},
			{"another price of the course: no change", "evt_pr2", "price.created", 1700000003, price("price_2", true, 5900), billing.Applied, "not the course's price",
				func(t *testing.T, c *billing.Course) {
					if c.StripePriceID != "price_1" || c.Amount != 4900 {
						t.Errorf("course %+v", c)
					}
				}},
			{"an older product view: stale", "evt_p0", "product.updated", 1699999999, product(false, ""), billing.Stale, "newer view",
				func(t *testing.T, c *billing.Course) {
					if !c.Active {
						t.Errorf("an older view archived the course: %+v", c)
					}
				}},
			{"the course's price archived: not sellable", "evt_pr3", "price.updated", 1700000004, price("price_1", false, 4900), billing.Applied, "",
				func(t *testing.T, c *billing.Course) {
					if c.PriceActive || c.Sellable() {
						t.Errorf("course %+v", c)
					}
				}},
			{"an event of another group: ignored", "evt_sub", "customer.subscription.created", 1700000005, `{"id":"sub_1","object":"subscription"}`, billing.Ignored, "", nil},
			{"product deleted: course off sale", "evt_p3", "product.deleted", 1700000006, product(true, "price_1"), billing.Applied, "",
				func(t *testing.T, c *billing.Course) {
					if c.Active {
						t.Errorf("course %+v", c)
					}
				}},
		}
		for _, st := range steps {
			code, res := post(t, h, st.id, st.typ, st.created, st.obj)
			if code != http.StatusOK || res.Outcome != st.want {
				t.Errorf("%s: %d %q, want 200 %q", st.name, code, res.Outcome, st.want)
			}
			if st.want != billing.Ignored {
				var rec *billing.EventRecord
				_ = s.View(context.Background(), func(ctx context.Context, tx billing.Tx) (err error) {
					rec, err = tx.Event(ctx, st.id)
					return err
				})
				if rec == nil || !strings.Contains(rec.Detail, st.wantDetail) {
					t.Errorf("%s: marker %+v, want detail containing %q", st.name, rec, st.wantDetail)
				}
			}
			if st.check != nil {
				st.check(t, storedCourse(t, s, "go-basics"))
			}
		}
		// A course id no document can have is recorded as unprocessable,
		// not retried for days.
		bad := strings.Replace(product(true, ""), `"go-basics"`, `"go/basics"`, 1)
		if code, res := post(t, h, "evt_bad", "product.updated", 1700000007, bad); code != http.StatusOK || res.Outcome != billing.Unprocessable {
			t.Errorf("course id with a slash: %d %q, want 200 unprocessable", code, res.Outcome)
		}
	})
}

// Refetch mode against the stand-in: whatever the order and copies, the
// course ends as Stripe has it, including a move to a new default price.
func TestCatalogRefetchConverges(t *testing.T) {
	for seed := int64(1); seed <= 5; seed++ {
		s := stripelocal.New(stripelocal.Options{Seed: seed})
		api := httptest.NewServer(s)
		t.Cleanup(api.Close)
		sc, err := stripeapi.NewClient(stripeapi.ClientConfig{Key: "sk_test_fake", BaseURL: api.URL})
		if err != nil {
			t.Fatal(err)
		}
		store := memstore.New()
		fn := httptest.NewServer(handler(t, store, stripeapi.Refetch{API: sc, Now: s.Now}, time.Now))
		t.Cleanup(fn.Close)
		s.AddEndpoint(stripelocal.Endpoint{URL: fn.URL, Secret: webhooktest.Secret, EnabledEvents: billing.CatalogEvents.Types})

		prod, err := sc.Products.New(&stripe.ProductParams{Name: stripe.String("Go basics"),
			Params: stripe.Params{Metadata: map[string]string{stripeapi.CourseIDKey: "go-basics"}}})
		if err != nil {
			t.Fatal(err)
		}
		var prices []*stripe.Price
		for _, amount := range []int64{4900, 5900} {
			pr, err := sc.Prices.New(&stripe.PriceParams{Product: stripe.String(prod.ID), Currency: stripe.String("usd"),
				UnitAmount: stripe.Int64(amount), Recurring: &stripe.PriceRecurringParams{Interval: stripe.String("year")}})
			if err != nil {
				t.Fatal(err)
			}
			prices = append(prices, pr)
			if _, err := sc.Products.Update(prod.ID, &stripe.ProductParams{DefaultPrice: stripe.String(pr.ID)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := sc.Prices.Update(prices[0].ID, &stripe.PriceParams{Active: stripe.Bool(false)}); err != nil {
			t.Fatal(err)
		}
		rep := s.Deliver(context.Background(), stripelocal.DeliveryOptions{Duplicates: 0.5, Shuffle: true, Concurrency: 3, Seed: seed})
		if len(rep.Failures) > 0 {
			t.Fatalf("seed %d: %d deliveries failed, e.g. %+v", seed, len(rep.Failures), rep.Failures[0])
		}
		c := storedCourse(t, store, "go-basics")
		if c == nil || c.StripePriceID != prices[1].ID || c.Amount != 5900 || c.Interval != "year" || !c.Sellable() {
			t.Errorf("seed %d: course %+v, want sold at %s (5900 a year)", seed, c, prices[1].ID)
		}
	}
}
