package stripeapi

import (
	"github.com/stripe/stripe-go/v76"

	"github.com/courseplatform/billing/shared/billing"
)

// DecodeProduct decodes a product payload of any API version, deleted or
// not. Versions before 2022-08-01 have no default_price; the product then
// names none.
func DecodeProduct(raw []byte) (billing.ProductView, error) {
	var p stripe.Product
	if err := decode(raw, "product", &p, nil); err != nil {
		return billing.ProductView{}, err
	}
	return Product(&p), nil
}

// Product converts a Stripe product.
func Product(p *stripe.Product) billing.ProductView {
	out := billing.ProductView{
		ID:       p.ID,
		Name:     p.Name,
		Active:   p.Active,
		Deleted:  p.Deleted,
		CourseID: p.Metadata[CourseIDKey],
	}
	if dp := p.DefaultPrice; dp != nil && dp.ID != "" {
		out.DefaultPrice = dp.ID
		if expanded(dp) {
			v := Price(dp)
			if v.Product == "" {
				v.Product = p.ID
			}
			if v.CourseID == "" {
				v.CourseID = out.CourseID
			}
			if v.ProductName == "" {
				v.ProductName = p.Name
			}
			out.DefaultPriceView = &v
		}
	}
	return out
}

// DecodePrice decodes a price payload of any API version, deleted or not.
func DecodePrice(raw []byte) (billing.PriceView, error) {
	var p stripe.Price
	if err := decode(raw, "price", &p, nil); err != nil {
		return billing.PriceView{}, err
	}
	return Price(&p), nil
}

// Price converts a Stripe price. The course is named by the price's
// metadata, else by its product's when the product is expanded.
func Price(p *stripe.Price) billing.PriceView {
	out := billing.PriceView{
		ID:       p.ID,
		Active:   p.Active,
		Deleted:  p.Deleted,
		Amount:   p.UnitAmount,
		Currency: string(p.Currency),
	}
	if p.Recurring != nil {
		out.Interval = string(p.Recurring.Interval)
	}
	var prod *stripe.Product
	if p.Product != nil {
		prod = p.Product
		if prod.Name != "" {
			out.ProductName = prod.Name
		}
	}
	out.Product, out.CourseID = productOf(prod, p.Metadata, "")
	return out
}

// expanded reports whether an expandable price came as an object rather
// than an id.
func expanded(p *stripe.Price) bool {
	return p.Object == "price"
}
