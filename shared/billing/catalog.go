package billing

import (
	"context"
	"fmt"
	"time"
)

// ProductView is what the product events carry that matters here.
type ProductView struct {
	ID     string
	Name   string
	Active bool
	// Deleted is set for a product.deleted event or a deleted stub.
	Deleted bool
	// CourseID is the course the product sells (its metadata); empty
	// for products that are not courses.
	CourseID string
	// DefaultPrice is the id of the product's default price, and
	// DefaultPriceView its details when the view expanded it. A bare id
	// says nothing about the price, so only an expanded one moves a
	// course to another price.
	DefaultPrice     string
	DefaultPriceView *PriceView
}

// PriceView is what the price events carry that matters here.
type PriceView struct {
	ID      string
	Product string
	// CourseID is the course the price sells: the price's metadata, else
	// its product's when the view expanded the product.
	CourseID string
	// ProductName is the product's name when the view expanded it.
	ProductName string
	Active      bool
	Deleted     bool
	Amount      int64
	Currency    string
	// Interval is the billing interval of a recurring price; empty for a
	// one-time price.
	Interval string
}

// Sells reports whether checkout may sell the price.
func (p PriceView) Sells() bool { return p.Active && !p.Deleted }

// ApplyProduct keeps the course a product sells in step with the product.
// Products that sell no course are acknowledged and nothing is written.
func ApplyProduct(ctx context.Context, tx Tx, p ProductView, ch Change) (Outcome, string, error) {
	return applyToCourse(ctx, tx, p.CourseID, func(cur *Course) (*Course, Outcome, string) {
		return CourseWithProduct(cur, p, ch)
	})
}

// ApplyPrice keeps the course a price sells in step with the price. Prices
// that sell no course are acknowledged and nothing is written.
func ApplyPrice(ctx context.Context, tx Tx, p PriceView, ch Change) (Outcome, string, error) {
	return applyToCourse(ctx, tx, p.CourseID, func(cur *Course) (*Course, Outcome, string) {
		return CourseWithPrice(cur, p, ch)
	})
}

// applyToCourse reads courses/{courseID}, lets next decide the document
// after the change, and writes it unless nothing changes.
func applyToCourse(ctx context.Context, tx Tx, courseID string, next func(cur *Course) (*Course, Outcome, string)) (Outcome, string, error) {
	if courseID == "" {
		return Applied, "not a course", nil
	}
	if !UsableID(courseID) {
		return Unprocessable, fmt.Sprintf("metadata.courseId %q cannot name a course document", courseID), nil
	}
	cur, err := tx.Course(ctx, courseID)
	if err != nil {
		return "", "", err
	}
	course, outcome, detail := next(cur)
	if course != nil {
		if err := tx.PutCourse(course); err != nil {
			return "", "", err
		}
	}
	return outcome, detail, nil
}

// CourseWithProduct is the course after a view of its product: the
// document to write, or nil when nothing changes, with the outcome and
// detail for the event's marker. cur is the stored course, nil when there
// is none.
//
// The product decides the title and whether the course is on sale; its
// default price, when the view carries the price's details, is the price
// the course is sold at. A view older than the last one applied changes
// nothing, nor does a product other than the course's own (an old product
// archived after the course moved on must not stop its sales).
func CourseWithProduct(cur *Course, p ProductView, ch Change) (*Course, Outcome, string) {
	next := Course{ID: p.CourseID}
	if cur != nil {
		if cur.ProductAsOf.After(ch.AsOf) {
			return nil, Stale, "a newer view of the product is stored"
		}
		if cur.StripeProductID != "" && cur.StripeProductID != p.ID {
			return nil, Applied, fmt.Sprintf("product %s is not the course's product (%s); no change", p.ID, cur.StripeProductID)
		}
		next = *cur
	}
	if p.Name != "" {
		next.Title = p.Name
	}
	next.StripeProductID = p.ID
	next.Active = p.Active && !p.Deleted
	next.ProductAsOf = ch.AsOf.UTC()
	detail := ""
	// The expanded default price is as true as the product view, so it
	// applies under the price's own guard too.
	if dp := p.DefaultPriceView; dp != nil && dp.ID == p.DefaultPrice && !next.PriceAsOf.After(ch.AsOf) {
		if dp.ID != next.StripePriceID {
			detail = fmt.Sprintf("default price %s replaces %s", dp.ID, orNone(next.StripePriceID))
		}
		next.setPrice(*dp, ch.AsOf)
	}
	next.Livemode = ch.Livemode
	next.UpdatedAt = ch.Now.UTC()
	return &next, Applied, detail
}

// CourseWithPrice is the course after a view of one of its prices, like
// CourseWithProduct. The course's own price updates amount, currency, mode
// and whether it sells; a course with no price yet adopts an active one;
// any other price of the course changes nothing (the course moves to
// another price only when its product names it as the default).
func CourseWithPrice(cur *Course, p PriceView, ch Change) (*Course, Outcome, string) {
	next := Course{ID: p.CourseID, Title: p.ProductName, StripeProductID: p.Product}
	if cur != nil {
		next = *cur
	}
	detail := ""
	switch {
	case next.StripePriceID == p.ID:
		if next.PriceAsOf.After(ch.AsOf) {
			return nil, Stale, "a newer view of the price is stored"
		}
	case next.StripePriceID == "" && p.Sells():
		detail = "price adopted: the course had none"
	case next.StripePriceID == "":
		if cur != nil {
			return nil, Applied, fmt.Sprintf("price %s does not sell; the course has no price", p.ID)
		}
		// A course first heard of through an archived price: the
		// document exists, nothing sells it.
		next.Livemode = ch.Livemode
		next.UpdatedAt = ch.Now.UTC()
		return &next, Applied, fmt.Sprintf("price %s does not sell; the course has no price", p.ID)
	default:
		return nil, Applied, fmt.Sprintf("price %s is not the course's price (%s); no change", p.ID, next.StripePriceID)
	}
	if next.StripeProductID == "" {
		next.StripeProductID = p.Product
	}
	if next.Title == "" {
		next.Title = p.ProductName
	}
	next.setPrice(p, ch.AsOf)
	next.Livemode = ch.Livemode
	next.UpdatedAt = ch.Now.UTC()
	return &next, Applied, detail
}

// setPrice makes p the course's price, as of asOf.
func (c *Course) setPrice(p PriceView, asOf time.Time) {
	c.StripePriceID = p.ID
	c.Amount = p.Amount
	c.Currency = p.Currency
	c.Mode, c.Interval = ModePayment, ""
	if p.Interval != "" {
		c.Mode, c.Interval = ModeSubscription, p.Interval
	}
	c.PriceActive = p.Sells()
	c.PriceAsOf = asOf.UTC()
}

func orNone(id string) string {
	if id == "" {
		return "none"
	}
	return id
}
