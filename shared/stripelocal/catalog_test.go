package stripelocal

import (
	"encoding/json"
	"net/http"
	"testing"
)

// A product's default price: set by update (only to an active price of the
// product), rendered, expandable, announced by product.updated; archiving a
// price is announced by price.updated with active false.
func TestProductDefaultPrice(t *testing.T) {
	s := New(Options{Seed: 3})
	_, _, prod := rawCall(t, s, "POST", "/v1/products", "name=Go+course&metadata[courseId]=go", nil)
	_, _, other := rawCall(t, s, "POST", "/v1/products", "name=Other", nil)
	_, _, price := rawCall(t, s, "POST", "/v1/prices", "product="+prod["id"].(string)+"&currency=usd&unit_amount=4900", nil)
	_, _, foreign := rawCall(t, s, "POST", "/v1/prices", "product="+other["id"].(string)+"&currency=usd&unit_amount=100", nil)
	if prod["default_price"] != nil {
		t.Errorf("new product: default_price %v, want null", prod["default_price"])
	}
	path := "/v1/products/" + prod["id"].(string)

	tests := []struct {
		name, form string
		wantStatus int
	}{
		{"unknown price: 400", "default_price=price_nope", http.StatusBadRequest},
		{"another product's price: 400", "default_price=" + foreign["id"].(string), http.StatusBadRequest},
		{"the product's price: set", "default_price=" + price["id"].(string), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, body := rawCall(t, s, "POST", path, tt.form, nil)
			if code != tt.wantStatus {
				t.Fatalf("status %d (%v), want %d", code, body, tt.wantStatus)
			}
			if code == http.StatusOK && body["default_price"] != price["id"] {
				t.Errorf("default_price %v, want %v", body["default_price"], price["id"])
			}
		})
	}

	_, _, got := rawCall(t, s, "GET", path+"?expand[]=default_price", "", nil)
	if dp, ok := got["default_price"].(map[string]any); !ok || dp["id"] != price["id"] || dp["unit_amount"] != float64(4900) {
		t.Errorf("expanded default_price = %v, want the price object", got["default_price"])
	}
	code, _, _ := rawCall(t, s, "POST", "/v1/prices/"+price["id"].(string), "active=false", nil)
	if code != http.StatusOK {
		t.Fatalf("archive price: %d", code)
	}

	var types []string
	var lastProduct, lastPrice map[string]any
	for _, e := range s.Events() {
		types = append(types, e.Type)
		var o map[string]any
		if err := json.Unmarshal(e.Object, &o); err != nil {
			t.Fatal(err)
		}
		switch e.Type {
		case "product.updated":
			lastProduct = o
		case "price.updated":
			lastPrice = o
		}
	}
	if lastProduct == nil || lastProduct["default_price"] != price["id"] {
		t.Errorf("product.updated carries default_price %v, want %v (events %v)", lastProduct["default_price"], price["id"], types)
	}
	if lastPrice == nil || lastPrice["active"] != false {
		t.Errorf("archiving emitted price.updated %v, want active false (events %v)", lastPrice, types)
	}
	code, _, _ = rawCall(t, s, "POST", path, "default_price="+price["id"].(string), nil)
	if code != http.StatusBadRequest {
		t.Errorf("archived price as default: %d, want 400", code)
	}
}
