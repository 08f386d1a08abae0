package billing_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/store/memstore"
)

// course is a sellable subscription course at price_1 (4900 usd a month),
// product and price views both as of at(0).
func course() *billing.Course {
	return &billing.Course{
		ID: "go", Title: "Go", StripeProductID: "prod_go", StripePriceID: "price_1",
		Mode: billing.ModeSubscription, Interval: "month", Amount: 4900, Currency: "usd",
		Active: true, PriceActive: true, ProductAsOf: at(0), PriceAsOf: at(0),
	}
}

func monthly(id string, amount int64, active bool) billing.PriceView {
	return billing.PriceView{ID: id, Product: "prod_go", CourseID: "go", Active: active, Amount: amount, Currency: "usd", Interval: "month"}
}

func product(name string, active bool, defaultPrice *billing.PriceView) billing.ProductView {
	p := billing.ProductView{ID: "prod_go", Name: name, Active: active, CourseID: "go"}
	if defaultPrice != nil {
		p.DefaultPrice = defaultPrice.ID
		p.DefaultPriceView = defaultPrice
	}
	return p
}

func with(c *billing.Course, edit func(*billing.Course)) *billing.Course {
	out := *c
	edit(&out)
	return &out
}

// checkCourse compares the fields the catalog keeps, times by instant.
func checkCourse(t *testing.T, got, want *billing.Course) {
	t.Helper()
	if (got == nil) != (want == nil) {
		t.Fatalf("course %+v, want %+v", got, want)
	}
	if got == nil {
		return
	}
	g, w := *got, *want
	if !g.ProductAsOf.Equal(w.ProductAsOf) || !g.PriceAsOf.Equal(w.PriceAsOf) {
		t.Errorf("as of product %v price %v, want %v %v", g.ProductAsOf, g.PriceAsOf, w.ProductAsOf, w.PriceAsOf)
	}
	g.ProductAsOf, g.PriceAsOf, g.UpdatedAt = time.Time{}, time.Time{}, time.Time{}
	w.ProductAsOf, w.PriceAsOf, w.UpdatedAt = time.Time{}, time.Time{}, time.Time{}
	if g != w {
		t.Errorf("course\n got %+v\nwant %+v", g, w)
	}
}

func TestCourseWithProduct(t *testing.T) {
	newPrice := monthly("price_2", 5900, true)
	tests := []struct {
		name        string
		cur         *billing.Course
		p           billing.ProductView
		asOf        time.Time
		want        *billing.Course // nil: nothing written
		wantOutcome billing.Outcome
		wantDetail  string
	}{
		{
			name: "renamed: title follows, price kept",
			cur:  course(), p: product("Go, 2nd edition", true, nil), asOf: at(5),
			want:        with(course(), func(c *billing.Course) { c.Title = "Go, 2nd edition"; c.ProductAsOf = at(5) }),
			wantOutcome: billing.Applied,
		},
		{
			name: "archived product: course stops selling",
			cur:  course(), p: product("Go", false, nil), asOf: at(5),
			want:        with(course(), func(c *billing.Course) { c.Active = false; c.ProductAsOf = at(5) }),
			wantOutcome: billing.Applied,
		},
		{
			name: "deleted product: course stops selling even if the payload says active",
			cur:  course(), p: func() billing.ProductView { p := product("Go", true, nil); p.Deleted = true; return p }(), asOf: at(5),
			want:        with(course(), func(c *billing.Course) { c.Active = false; c.ProductAsOf = at(5) }),
			wantOutcome: billing.Applied,
		},
		{
			name: "older product view: stale, nothing written",
			cur:  course(), p: product("Old name", false, nil), asOf: at(-5),
			wantOutcome: billing.Stale, wantDetail: "newer view",
		},
		{
			name: "same instant: applied (a redelivery repairs a hand edit)",
			cur:  course(), p: product("Go", true, nil), asOf: at(0),
			want:        course(),
			wantOutcome: billing.Applied,
		},
		{
			name: "expanded new default price: course switches to it",
			cur:  course(), p: product("Go", true, &newPrice), asOf: at(5),
			want: with(course(), func(c *billing.Course) {
				c.StripePriceID, c.Amount, c.ProductAsOf, c.PriceAsOf = "price_2", 5900, at(5), at(5)
			}),
			wantOutcome: billing.Applied, wantDetail: "default price price_2 replaces price_1",
		},
		{
			name: "new default price as a bare id (payload): current price kept",
			cur:  course(), p: func() billing.ProductView { p := product("Go", true, nil); p.DefaultPrice = "price_2"; return p }(), asOf: at(5),
			want:        with(course(), func(c *billing.Course) { c.ProductAsOf = at(5) }),
			wantOutcome: billing.Applied,
		},
		{
			name: "expanded default price older than the stored price view: price kept",
			cur:  with(course(), func(c *billing.Course) { c.PriceAsOf = at(10) }), p: product("Go", true, &newPrice), asOf: at(5),
			want:        with(course(), func(c *billing.Course) { c.ProductAsOf, c.PriceAsOf = at(5), at(10) }),
			wantOutcome: billing.Applied,
		},
		{
			name: "expanded current default price: its details refreshed",
			cur:  course(), p: func() billing.ProductView { pr := monthly("price_1", 4900, false); return product("Go", true, &pr) }(), asOf: at(5),
			want:        with(course(), func(c *billing.Course) { c.PriceActive = false; c.ProductAsOf, c.PriceAsOf = at(5), at(5) }),
			wantOutcome: billing.Applied,
		},
		{
			name: "another product naming the course: no change",
			cur:  course(), p: func() billing.ProductView { p := product("Go copy", false, nil); p.ID = "prod_old"; return p }(), asOf: at(5),
			wantOutcome: billing.Applied, wantDetail: "not the course's product",
		},
		{
			name: "unknown course: created from the product, price from the expanded default",
			p:    product("Go", true, &newPrice), asOf: at(5),
			want: &billing.Course{ID: "go", Title: "Go", StripeProductID: "prod_go", StripePriceID: "price_2",
				Mode: billing.ModeSubscription, Interval: "month", Amount: 5900, Currency: "usd",
				Active: true, PriceActive: true, ProductAsOf: at(5), PriceAsOf: at(5)},
			wantOutcome: billing.Applied, wantDetail: "replaces none",
		},
		{
			name: "unknown course, no default price: created, not sellable",
			p:    product("Go", true, nil), asOf: at(5),
			want:        &billing.Course{ID: "go", Title: "Go", StripeProductID: "prod_go", Active: true, ProductAsOf: at(5)},
			wantOutcome: billing.Applied,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, outcome, detail := billing.CourseWithProduct(tt.cur, tt.p, change("evt_p", tt.asOf))
			if outcome != tt.wantOutcome || !strings.Contains(detail, tt.wantDetail) {
				t.Errorf("outcome %q %q, want %q containing %q", outcome, detail, tt.wantOutcome, tt.wantDetail)
			}
			checkCourse(t, got, tt.want)
		})
	}
}

func TestCourseWithPrice(t *testing.T) {
	oneTime := billing.PriceView{ID: "price_1", Product: "prod_go", CourseID: "go", Active: true, Amount: 9900, Currency: "eur"}
	noPrice := with(course(), func(c *billing.Course) {
		c.StripePriceID, c.Mode, c.Interval, c.Amount, c.Currency, c.PriceActive, c.PriceAsOf = "", "", "", 0, "", false, time.Time{}
	})
	tests := []struct {
		name        string
		cur         *billing.Course
		p           billing.PriceView
		asOf        time.Time
		want        *billing.Course
		wantOutcome billing.Outcome
		wantDetail  string
		sellable    bool
	}{
		{
			name: "the course's price archived: stops sales",
			cur:  course(), p: monthly("price_1", 4900, false), asOf: at(5),
			want:        with(course(), func(c *billing.Course) { c.PriceActive = false; c.PriceAsOf = at(5) }),
			wantOutcome: billing.Applied,
		},
		{
			name: "the course's price deleted: stops sales",
			cur:  course(), p: func() billing.PriceView { p := monthly("price_1", 4900, true); p.Deleted = true; return p }(), asOf: at(5),
			want:        with(course(), func(c *billing.Course) { c.PriceActive = false; c.PriceAsOf = at(5) }),
			wantOutcome: billing.Applied,
		},
		{
			name: "the course's price becomes one-time: mode payment, no interval",
			cur:  course(), p: oneTime, asOf: at(5),
			want: with(course(), func(c *billing.Course) {
				c.Mode, c.Interval, c.Amount, c.Currency, c.PriceAsOf = billing.ModePayment, "", 9900, "eur", at(5)
			}),
			wantOutcome: billing.Applied, sellable: true,
		},
		{
			name: "the course's price, older view: stale",
			cur:  course(), p: monthly("price_1", 4900, false), asOf: at(-5),
			wantOutcome: billing.Stale, wantDetail: "newer view", sellable: true,
		},
		{
			name: "another price of the course, newer: no change",
			cur:  course(), p: monthly("price_2", 5900, true), asOf: at(5),
			wantOutcome: billing.Applied, wantDetail: "not the course's price", sellable: true,
		},
		{
			name: "another price of the course, older and archived: does not revert",
			cur:  with(course(), func(c *billing.Course) { c.StripePriceID = "price_2" }), p: monthly("price_1", 4900, false), asOf: at(-5),
			wantOutcome: billing.Applied, wantDetail: "not the course's price", sellable: true,
		},
		{
			name: "course without a price: adopts an active one",
			cur:  noPrice, p: monthly("price_1", 4900, true), asOf: at(5),
			want:        with(course(), func(c *billing.Course) { c.PriceAsOf = at(5) }),
			wantOutcome: billing.Applied, wantDetail: "adopted", sellable: true,
		},
		{
			name: "course without a price: an archived one is not adopted",
			cur:  noPrice, p: monthly("price_1", 4900, false), asOf: at(5),
			wantOutcome: billing.Applied, wantDetail: "does not sell",
		},
		{
			name: "unknown course: created with the price, title from the expanded product",
			p:    func() billing.PriceView { p := monthly("price_1", 4900, true); p.ProductName = "Go"; return p }(), asOf: at(5),
			want: &billing.Course{ID: "go", Title: "Go", StripeProductID: "prod_go", StripePriceID: "price_1",
				Mode: billing.ModeSubscription, Interval: "month", Amount: 4900, Currency: "usd", PriceActive: true, PriceAsOf: at(5)},
			wantOutcome: billing.Applied, wantDetail: "adopted",
		},
		{
			name: "unknown course, archived price: created without a price",
			p:    monthly("price_1", 4900, false), asOf: at(5),
			want:        &billing.Course{ID: "go", StripeProductID: "prod_go"},
			wantOutcome: billing.Applied, wantDetail: "does not sell",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, outcome, detail := billing.CourseWithPrice(tt.cur, tt.p, change("evt_pr", tt.asOf))
			if outcome != tt.wantOutcome || !strings.Contains(detail, tt.wantDetail) {
				t.Errorf("outcome %q %q, want %q containing %q", outcome, detail, tt.wantOutcome, tt.wantDetail)
			}
			checkCourse(t, got, tt.want)
			after := tt.cur
			if got != nil {
				after = got
			}
			if after != nil && after.Sellable() != tt.sellable {
				t.Errorf("sellable %v, want %v", after.Sellable(), tt.sellable)
			}
		})
	}
}

// Products and prices that sell no course are acknowledged; only the
// event's marker is written.
func TestCatalogNotACourse(t *testing.T) {
	st := memstore.New()
	seed(t, st, "seed-course", func(tx billing.Tx) error { return tx.PutCourse(course()) })
	tests := []struct {
		name string
		fn   billing.ApplyFunc
	}{
		{"product", func(ctx context.Context, tx billing.Tx) (billing.Outcome, string, error) {
			return billing.ApplyProduct(ctx, tx, billing.ProductView{ID: "prod_x", Name: "Sticker", Active: true}, change("evt_prod_x", at(1)))
		}},
		{"price", func(ctx context.Context, tx billing.Tx) (billing.Outcome, string, error) {
			return billing.ApplyPrice(ctx, tx, billing.PriceView{ID: "price_x", Product: "prod_x", Active: true, Amount: 100, Currency: "usd"}, change("evt_price_x", at(1)))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := st.Dump()
			rec := run(t, st, "evt_"+tt.name+"_x", tt.fn)
			if rec.Outcome != billing.Applied || rec.Detail != "not a course" {
				t.Errorf("outcome %q %q, want applied \"not a course\"", rec.Outcome, rec.Detail)
			}
			onlyMarkerAdded(t, before, st.Dump(), "evt_"+tt.name+"_x")
		})
	}
}

// The transactional rules write what the pure ones return.
func TestApplyPriceWritesTheCourse(t *testing.T) {
	st := memstore.New()
	seed(t, st, "seed-course", func(tx billing.Tx) error { return tx.PutCourse(course()) })
	rec := run(t, st, "evt_archive", func(ctx context.Context, tx billing.Tx) (billing.Outcome, string, error) {
		return billing.ApplyPrice(ctx, tx, monthly("price_1", 4900, false), change("evt_archive", at(5)))
	})
	if rec.Outcome != billing.Applied {
		t.Fatalf("outcome %q", rec.Outcome)
	}
	c := must(t, st, billing.Tx.Course, "go")
	if c.Sellable() || c.PriceActive {
		t.Errorf("course %+v still sellable after its price was archived", c)
	}
}
