package stripelocal

import (
	"fmt"
	"slices"
	"strings"
)

// Customers, products and prices: the catalog the checkout function sells
// from and the customers it reuses.

// --- customers ---

var customerIgnored = []string{"address", "preferred_locales", "invoice_settings", "payment_method", "shipping",
	"tax_exempt", "tax_id_data", "tax", "test_clock", "source", "balance", "invoice_prefix", "next_invoice_sequence"}

func (s *Stripe) apiCreateCustomer(c *call) (any, error) {
	if err := c.p.check(append([]string{"email", "name", "description", "phone", "metadata"}, customerIgnored...)...); err != nil {
		return nil, err
	}
	md, err := c.p.applyMetadata(nil, "metadata")
	if err != nil {
		return nil, err
	}
	email, _ := c.p.str("email")
	name, _ := c.p.str("name")
	desc, _ := c.p.str("description")
	phone, _ := c.p.str("phone")
	return s.renderCustomer(s.newCustomer(email, name, desc, phone, md)), nil
}

func (s *Stripe) apiGetCustomer(c *call) (any, error) {
	cus := s.customers.get(c.id())
	if cus == nil {
		return nil, notFound("customer", c.id(), "id")
	}
	if cus.deleted {
		return deletedStub(cus.id, "customer"), nil
	}
	return s.renderCustomer(cus), nil
}

func (s *Stripe) apiUpdateCustomer(c *call) (any, error) {
	cus, err := s.getCustomer(c.id(), "id")
	if err != nil {
		return nil, err
	}
	if err := c.p.check(append([]string{"email", "name", "description", "phone", "metadata"}, customerIgnored...)...); err != nil {
		return nil, err
	}
	md, err := c.p.applyMetadata(cus.metadata, "metadata")
	if err != nil {
		return nil, err
	}
	before := s.renderCustomer(cus)
	for param, field := range map[string]*string{"email": &cus.email, "name": &cus.name, "description": &cus.description, "phone": &cus.phone} {
		if v, ok := c.p.str(param); ok {
			*field = v
		}
	}
	cus.metadata = md
	s.updated("customer.updated", before, s.renderCustomer(cus))
	return s.renderCustomer(cus), nil
}

func (s *Stripe) apiDeleteCustomer(c *call) (any, error) {
	cus, err := s.getCustomer(c.id(), "id")
	if err != nil {
		return nil, err
	}
	s.deleteCustomer(cus)
	return deletedStub(cus.id, "customer"), nil
}

func (s *Stripe) apiListCustomers(c *call) (any, error) {
	if err := c.p.check("email", "limit", "starting_after", "ending_before", "created", "test_clock"); err != nil {
		return nil, err
	}
	return listOf(c, "/v1/customers", filter(s.customers.all(), func(cus *customer) bool {
		return !cus.deleted && c.matches("email", cus.email)
	}, s.renderCustomer))
}

// --- products ---

var productIgnored = []string{"images", "url", "statement_descriptor", "unit_label", "tax_code", "shippable",
	"features", "marketing_features", "package_dimensions", "type"}

func (s *Stripe) apiCreateProduct(c *call) (any, error) {
	if err := c.p.check(append([]string{"id", "name", "description", "active", "metadata", "default_price_data"}, productIgnored...)...); err != nil {
		return nil, err
	}
	if c.p.has("default_price_data") {
		return nil, unsupported("default_price_data", "default_price_data; create the price with POST /v1/prices")
	}
	name, err := c.p.required("name")
	if err != nil {
		return nil, err
	}
	active, ok, err := c.p.boolean("active")
	if err != nil {
		return nil, err
	}
	md, err := c.p.applyMetadata(nil, "metadata")
	if err != nil {
		return nil, err
	}
	id, _ := c.p.str("id")
	if id == "" {
		id = s.newID("prod")
	} else if s.products.get(id) != nil {
		return nil, invalidRequest("id", "Product already exists.")
	}
	desc, _ := c.p.str("description")
	p := &product{id: id, name: name, description: desc, active: active || !ok, metadata: md, created: s.unix(), updated: s.unix()}
	s.products.add(p.id, p)
	s.emit("product.created", s.renderProduct(p), nil)
	return s.renderProduct(p), nil
}

func (s *Stripe) getProduct(id, param string) (*product, error) {
	if p := s.products.get(id); p != nil {
		return p, nil
	}
	return nil, notFound("product", id, param)
}

func (s *Stripe) apiGetProduct(c *call) (any, error) {
	p, err := s.getProduct(c.id(), "id")
	if err != nil {
		return nil, err
	}
	return s.renderProduct(p), nil
}

func (s *Stripe) apiUpdateProduct(c *call) (any, error) {
	p, err := s.getProduct(c.id(), "id")
	if err != nil {
		return nil, err
	}
	if err := c.p.check(append([]string{"name", "description", "active", "metadata", "default_price"}, productIgnored...)...); err != nil {
		return nil, err
	}
	defaultPrice, setDefault := c.p.str("default_price")
	if setDefault && defaultPrice != "" {
		pr := s.prices.get(defaultPrice)
		switch {
		case pr == nil:
			return nil, missingRef("price", defaultPrice, "default_price")
		case pr.product != p.id:
			return nil, invalidRequest("default_price", fmt.Sprintf("The price %s does not belong to product %s.", pr.id, p.id))
		case !pr.active:
			return nil, invalidRequest("default_price", fmt.Sprintf("The price %s is archived and cannot be the default price.", pr.id))
		}
	}
	md, err := c.p.applyMetadata(p.metadata, "metadata")
	if err != nil {
		return nil, err
	}
	active, okActive, err := c.p.boolean("active")
	if err != nil {
		return nil, err
	}
	before := s.renderProduct(p)
	if v, ok := c.p.str("name"); ok {
		if v == "" {
			return nil, invalidRequest("name", "You passed an empty string for 'name'. We assume empty values are an attempt to unset a parameter; however 'name' cannot be unset.")
		}
		p.name = v
	}
	if v, ok := c.p.str("description"); ok {
		p.description = v
	}
	if okActive {
		p.active = active
	}
	if setDefault {
		p.defaultPrice = defaultPrice
	}
	p.metadata = md
	if len(diff(before, s.renderProduct(p))) > 0 {
		p.updated = s.unix()
		s.emit("product.updated", s.renderProduct(p), before)
	}
	return s.renderProduct(p), nil
}

func (s *Stripe) apiListProducts(c *call) (any, error) {
	if err := c.p.check("active", "ids", "limit", "starting_after", "ending_before", "created", "shippable", "url", "type"); err != nil {
		return nil, err
	}
	ids := c.p.strings("ids")
	return listOf(c, "/v1/products", filter(s.products.all(), func(p *product) bool {
		return c.matches("active", fmt.Sprint(p.active)) && (len(ids) == 0 || slices.Contains(ids, p.id))
	}, s.renderProduct))
}

// --- prices ---

var priceIgnored = []string{"tax_behavior", "billing_scheme", "transfer_lookup_key", "currency_options"}

func (s *Stripe) apiCreatePrice(c *call) (any, error) {
	if err := c.p.check(append([]string{"currency", "unit_amount", "product", "product_data", "recurring", "metadata",
		"nickname", "lookup_key", "active", "unit_amount_decimal", "custom_unit_amount", "tiers", "tiers_mode",
		"transform_quantity"}, priceIgnored...)...); err != nil {
		return nil, err
	}
	for _, k := range []string{"unit_amount_decimal", "custom_unit_amount", "tiers", "tiers_mode", "transform_quantity"} {
		if c.p.has(k) {
			return nil, unsupported(k, k+"; use unit_amount")
		}
	}
	if b, ok := c.p.str("billing_scheme"); ok && b != "per_unit" {
		return nil, unsupported("billing_scheme", "billing_scheme="+b)
	}
	currency, err := c.p.required("currency")
	if err != nil {
		return nil, err
	}
	amount, ok, err := c.p.integer("unit_amount")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, missingParam("unit_amount")
	}
	if amount < 0 {
		return nil, invalidRequest("unit_amount", "This value must be greater than or equal to 0.")
	}
	productID, _ := c.p.str("product")
	switch {
	case productID != "":
		if s.products.get(productID) == nil {
			return nil, missingRef("product", productID, "product")
		}
	case c.p.has("product_data"):
		name, err := c.p.required("product_data", "name")
		if err != nil {
			return nil, err
		}
		md, err := c.p.applyMetadata(nil, "product_data", "metadata")
		if err != nil {
			return nil, err
		}
		p := &product{id: s.newID("prod"), name: name, active: true, metadata: md, created: s.unix(), updated: s.unix()}
		s.products.add(p.id, p)
		s.emit("product.created", s.renderProduct(p), nil)
		productID = p.id
	default:
		return nil, missingParam("product")
	}
	pr := &price{id: s.newID("price"), product: productID, currency: strings.ToLower(currency), created: s.unix(),
		active: true, unitAmount: amount}
	if c.p.has("recurring") {
		interval, err := c.p.required("recurring", "interval")
		if err != nil {
			return nil, err
		}
		if !slices.Contains([]string{"day", "week", "month", "year"}, interval) {
			return nil, invalidRequest("recurring[interval]", "Invalid recurring[interval]: must be one of day, week, month, or year")
		}
		count, ok, err := c.p.integer("recurring", "interval_count")
		if err != nil {
			return nil, err
		}
		if !ok {
			count = 1
		}
		if count < 1 {
			return nil, invalidRequest("recurring[interval_count]", "Invalid recurring[interval_count]")
		}
		if u, ok := c.p.str("recurring", "usage_type"); ok && u != "licensed" {
			return nil, unsupported("recurring[usage_type]", "metered prices")
		}
		pr.interval, pr.intervalCount = interval, count
	}
	if pr.metadata, err = c.p.applyMetadata(nil, "metadata"); err != nil {
		return nil, err
	}
	if err := s.applyPriceFields(c, pr); err != nil {
		return nil, err
	}
	s.prices.add(pr.id, pr)
	s.emit("price.created", s.renderPrice(pr), nil)
	return s.renderPrice(pr), nil
}

func (s *Stripe) applyPriceFields(c *call, pr *price) error {
	if v, ok := c.p.str("nickname"); ok {
		pr.nickname = v
	}
	if v, ok := c.p.str("lookup_key"); ok {
		pr.lookupKey = v
	}
	active, ok, err := c.p.boolean("active")
	if err != nil {
		return err
	}
	if ok {
		pr.active = active
	}
	return nil
}

func (s *Stripe) getPrice(id, param string) (*price, error) {
	if p := s.prices.get(id); p != nil {
		return p, nil
	}
	return nil, notFound("price", id, param)
}

func (s *Stripe) apiGetPrice(c *call) (any, error) {
	p, err := s.getPrice(c.id(), "id")
	if err != nil {
		return nil, err
	}
	return s.renderPrice(p), nil
}

func (s *Stripe) apiUpdatePrice(c *call) (any, error) {
	p, err := s.getPrice(c.id(), "id")
	if err != nil {
		return nil, err
	}
	if err := c.p.check("active", "metadata", "nickname", "lookup_key", "tax_behavior", "transfer_lookup_key", "currency_options"); err != nil {
		return nil, err
	}
	md, err := c.p.applyMetadata(p.metadata, "metadata")
	if err != nil {
		return nil, err
	}
	before := s.renderPrice(p)
	if err := s.applyPriceFields(c, p); err != nil {
		return nil, err
	}
	p.metadata = md
	s.updated("price.updated", before, s.renderPrice(p))
	return s.renderPrice(p), nil
}

func (s *Stripe) apiListPrices(c *call) (any, error) {
	if err := c.p.check("active", "product", "type", "currency", "lookup_keys", "recurring", "limit", "starting_after",
		"ending_before", "created"); err != nil {
		return nil, err
	}
	keys := c.p.strings("lookup_keys")
	return listOf(c, "/v1/prices", filter(s.prices.all(), func(p *price) bool {
		typ := "one_time"
		if p.recurring() {
			typ = "recurring"
		}
		return c.matches("active", fmt.Sprint(p.active)) && c.matches("product", p.product) && c.matches("type", typ) &&
			c.matches("currency", p.currency) && (len(keys) == 0 || slices.Contains(keys, p.lookupKey))
	}, s.renderPrice))
}
