package stripeapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/stripe/stripe-go/v76"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/stripeapi"
)

// Product and price payloads in the shapes Stripe renders them (trimmed to
// the keys that matter and a few that do not).
const (
	productPayload = `{"id":"prod_PbGo","object":"product","active":true,"created":1700000000,
		"default_price":"price_PbGo1","description":null,"images":[],"livemode":false,
		"metadata":{"courseId":"go-basics"},"name":"Go basics","package_dimensions":null,
		"shippable":null,"statement_descriptor":null,"tax_code":null,"type":"service",
		"unit_label":null,"updated":1700000100,"url":null}`
	// API versions before 2022-08-01 have no default_price.
	productOldVersion = `{"id":"prod_PbGo","object":"product","active":false,"attributes":[],"caption":null,
		"created":1500000000,"deactivate_on":[],"description":null,"images":[],"livemode":false,
		"metadata":{"courseId":"go-basics"},"name":"Go basics","type":"service","updated":1500000100}`
	productExpanded = `{"id":"prod_PbGo","object":"product","active":true,"metadata":{"courseId":"go-basics"},
		"name":"Go basics","updated":1700000100,"default_price":{"id":"price_PbGo2","object":"price","active":true,
		"currency":"usd","metadata":{},"product":"prod_PbGo","recurring":{"interval":"year","interval_count":1,
		"usage_type":"licensed"},"type":"recurring","unit_amount":49000}}`
	pricePayload = `{"id":"price_PbGo1","object":"price","active":false,"billing_scheme":"per_unit",
		"created":1700000000,"currency":"usd","custom_unit_amount":null,"livemode":false,"lookup_key":null,
		"metadata":{"courseId":"go-basics"},"nickname":null,"product":"prod_PbGo",
		"recurring":{"aggregate_usage":null,"interval":"month","interval_count":1,"trial_period_days":null,
		"usage_type":"licensed"},"tax_behavior":"unspecified","tiers_mode":null,"transform_quantity":null,
		"type":"recurring","unit_amount":4900,"unit_amount_decimal":"4900"}`
	priceProductExpanded = `{"id":"price_PbGo3","object":"price","active":true,"currency":"eur","metadata":{},
		"product":{"id":"prod_PbGo","object":"product","active":true,"name":"Go basics","metadata":{"courseId":"go-basics"}},
		"recurring":null,"type":"one_time","unit_amount":9900}`
	priceNoCourse = `{"id":"price_sticker","object":"price","active":true,"currency":"usd","metadata":{},
		"product":"prod_sticker","recurring":null,"type":"one_time","unit_amount":300}`
)

func TestDecodeProduct(t *testing.T) {
	yearly := billing.PriceView{ID: "price_PbGo2", Product: "prod_PbGo", CourseID: "go-basics", ProductName: "Go basics",
		Active: true, Amount: 49000, Currency: "usd", Interval: "year"}
	tests := []struct {
		name string
		raw  string
		want billing.ProductView
	}{
		{"default price as an id", productPayload,
			billing.ProductView{ID: "prod_PbGo", Name: "Go basics", Active: true, CourseID: "go-basics", DefaultPrice: "price_PbGo1"}},
		{"old API version without default_price", productOldVersion,
			billing.ProductView{ID: "prod_PbGo", Name: "Go basics", CourseID: "go-basics"}},
		{"default price expanded: details known, course and product inherited", productExpanded,
			billing.ProductView{ID: "prod_PbGo", Name: "Go basics", Active: true, CourseID: "go-basics", DefaultPrice: "price_PbGo2", DefaultPriceView: &yearly}},
		{"deleted stub", `{"id":"prod_PbGo","object":"product","deleted":true}`,
			billing.ProductView{ID: "prod_PbGo", Deleted: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := stripeapi.DecodeProduct([]byte(tt.raw))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v %+v\nwant %+v %+v", got, got.DefaultPriceView, tt.want, tt.want.DefaultPriceView)
			}
		})
	}
	if _, err := stripeapi.DecodeProduct([]byte(pricePayload)); err == nil {
		t.Error("a price decoded as a product")
	}
}

func TestDecodePrice(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want billing.PriceView
	}{
		{"archived monthly price, course in its metadata", pricePayload,
			billing.PriceView{ID: "price_PbGo1", Product: "prod_PbGo", CourseID: "go-basics", Amount: 4900, Currency: "usd", Interval: "month"}},
		{"one-time price, course from the expanded product", priceProductExpanded,
			billing.PriceView{ID: "price_PbGo3", Product: "prod_PbGo", CourseID: "go-basics", ProductName: "Go basics", Active: true, Amount: 9900, Currency: "eur"}},
		{"not a course", priceNoCourse,
			billing.PriceView{ID: "price_sticker", Product: "prod_sticker", Active: true, Amount: 300, Currency: "usd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := stripeapi.DecodePrice([]byte(tt.raw))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func catalogEvent(t *testing.T, typ, obj string) *stripe.Event {
	t.Helper()
	var ev stripe.Event
	body := `{"id":"evt_cat","object":"event","type":"` + typ + `","created":1700000200,"api_version":"2023-10-16","data":{"object":` + obj + `}}`
	if err := json.Unmarshal([]byte(body), &ev); err != nil {
		t.Fatal(err)
	}
	return &ev
}

func TestRefetchCatalog(t *testing.T) {
	ctx := context.Background()
	t.Run("product read back with its default price expanded", func(t *testing.T) {
		r, calls := fakeStripe(t, 200, productExpanded)
		got, asOf, err := r.Product(ctx, catalogEvent(t, "product.updated", productPayload))
		if err != nil || calls.Load() != 1 {
			t.Fatalf("err %v, %d calls", err, calls.Load())
		}
		if got.DefaultPriceView == nil || got.DefaultPriceView.ID != "price_PbGo2" || !asOf.Equal(refetchNow) {
			t.Errorf("got %+v as of %v, want the expanded answer as of the read", got, asOf)
		}
	})
	t.Run("deleted product (404): the payload, marked deleted", func(t *testing.T) {
		r, _ := fakeStripe(t, 404, `{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such product"}}`)
		got, _, err := r.Product(ctx, catalogEvent(t, "product.deleted", productPayload))
		if err != nil || !got.Deleted || got.CourseID != "go-basics" {
			t.Errorf("got %+v, %v; want the payload marked deleted", got, err)
		}
	})
	t.Run("deleted stub: the payload, which still names the course", func(t *testing.T) {
		r, _ := fakeStripe(t, 200, `{"id":"prod_PbGo","object":"product","deleted":true}`)
		got, _, err := r.Product(ctx, catalogEvent(t, "product.updated", productPayload))
		if err != nil || !got.Deleted || got.CourseID != "go-basics" {
			t.Errorf("got %+v, %v; want the payload marked deleted", got, err)
		}
	})
	t.Run("price read back with its product expanded", func(t *testing.T) {
		r, _ := fakeStripe(t, 200, priceProductExpanded)
		got, _, err := r.Price(ctx, catalogEvent(t, "price.updated", pricePayload))
		if err != nil || got.CourseID != "go-basics" || got.ProductName != "Go basics" {
			t.Errorf("got %+v, %v", got, err)
		}
	})
	t.Run("Stripe unavailable: an error, not unprocessable", func(t *testing.T) {
		r, _ := fakeStripe(t, 500, `{"error":{"type":"api_error","message":"boom"}}`)
		if _, _, err := r.Price(ctx, catalogEvent(t, "price.updated", pricePayload)); err == nil || errors.Is(err, stripeapi.ErrUnprocessable) {
			t.Errorf("err %v, want a temporary error", err)
		}
	})
}
