// Package stripeapi adapts Stripe to the billing domain: it decodes Stripe
// objects as they arrive in webhook payloads, at whatever API version the
// endpoint renders them, and converts them into billing documents.
package stripeapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/courseplatform/billing/shared/billing"
)

// CourseIDKey is the metadata key, on a price, product or subscription, that
// names the platform course it sells.
const CourseIDKey = "courseId"

// UIDKey is the metadata key that names the platform user an object belongs
// to; the checkout function sets it on sessions and subscriptions.
const UIDKey = "uid"

// ErrUnprocessable marks a payload that can never become a document: the
// wrong kind of object, no id, or JSON that does not decode.
var ErrUnprocessable = errors.New("unprocessable stripe object")

func unprocessable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnprocessable, fmt.Sprintf(format, args...))
}

// header is what every Stripe object carries.
type header struct {
	ID     string `json:"id"`
	Object string `json:"object"`
}

// decode checks that raw is an object of the wanted kind with an id and
// decodes it into dst and, when given, extras.
func decode(raw []byte, kind string, dst any, extras any) error {
	id, err := objectID(raw, kind)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return unprocessable("%s %s: %v", kind, id, err)
	}
	if extras != nil {
		if err := json.Unmarshal(raw, extras); err != nil {
			return unprocessable("%s %s: %v", kind, id, err)
		}
	}
	return nil
}

// objectID returns the id of a raw Stripe object after checking its kind.
func objectID(raw []byte, kind string) (string, error) {
	var h header
	if err := json.Unmarshal(raw, &h); err != nil {
		return "", unprocessable("%s: %v", kind, err)
	}
	if h.Object != kind {
		return "", unprocessable("object is %q, not %s", h.Object, kind)
	}
	if h.ID == "" {
		return "", unprocessable("%s without id", kind)
	}
	return h.ID, nil
}

func unixTime(sec int64) *time.Time {
	if sec == 0 {
		return nil
	}
	t := time.Unix(sec, 0).UTC()
	return &t
}

func customerID(c *stripe.Customer) string {
	if c == nil {
		return ""
	}
	return c.ID
}

// subscriptionExtras holds fields that moved in API versions newer than the
// client's: since 2025-03-31 the billing period lives on each item.
type subscriptionExtras struct {
	Items struct {
		Data []struct {
			CurrentPeriodStart int64 `json:"current_period_start"`
			CurrentPeriodEnd   int64 `json:"current_period_end"`
		} `json:"data"`
	} `json:"items"`
}

// DecodeSubscription decodes a subscription payload of any API version.
func DecodeSubscription(raw []byte) (billing.Subscription, error) {
	var s stripe.Subscription
	var x subscriptionExtras
	if err := decode(raw, "subscription", &s, &x); err != nil {
		return billing.Subscription{}, err
	}
	out := Subscription(&s)
	if out.CurrentPeriodEnd == nil {
		for _, it := range x.Items.Data {
			if end := unixTime(it.CurrentPeriodEnd); end != nil && (out.CurrentPeriodEnd == nil || end.After(*out.CurrentPeriodEnd)) {
				out.CurrentPeriodStart, out.CurrentPeriodEnd = unixTime(it.CurrentPeriodStart), end
			}
		}
	}
	return out, nil
}

// Subscription converts a Stripe subscription. UID comes from metadata; the
// caller decides whether the customer mapping overrides it.
func Subscription(s *stripe.Subscription) billing.Subscription {
	out := billing.Subscription{
		ID:                 s.ID,
		UID:                s.Metadata[UIDKey],
		Customer:           customerID(s.Customer),
		Status:             string(s.Status),
		CancelAtPeriodEnd:  s.CancelAtPeriodEnd,
		CancelAt:           unixTime(s.CancelAt),
		CanceledAt:         unixTime(s.CanceledAt),
		CurrentPeriodStart: unixTime(s.CurrentPeriodStart),
		CurrentPeriodEnd:   unixTime(s.CurrentPeriodEnd),
		TrialStart:         unixTime(s.TrialStart),
		TrialEnd:           unixTime(s.TrialEnd),
		EndedAt:            unixTime(s.EndedAt),
		Metadata:           storableMetadata(s.Metadata),
		Livemode:           s.Livemode,
	}
	if s.LatestInvoice != nil {
		out.LatestInvoice = s.LatestInvoice.ID
	}
	if s.Items != nil {
		for _, it := range s.Items.Data {
			if it == nil {
				continue
			}
			item := billing.SubscriptionItem{Quantity: it.Quantity, CourseID: courseOf(s.Metadata)}
			switch {
			case it.Price != nil:
				item.Price = it.Price.ID
				item.Product, item.CourseID = productOf(it.Price.Product, it.Price.Metadata, item.CourseID)
			case it.Plan != nil: // API versions before prices existed
				item.Price = it.Plan.ID
				item.Product, item.CourseID = productOf(it.Plan.Product, it.Plan.Metadata, item.CourseID)
			}
			out.Items = append(out.Items, item)
		}
	}
	return out
}

// courseOf returns the course a metadata map names, or "" when it names
// none or a value no Firestore document or field can be named by (a
// course id keys courses/{id} and the user's entitlements): such a value
// is treated as absent rather than failing every delivery.
func courseOf(meta map[string]string) string {
	if c := meta[CourseIDKey]; billing.UsableID(c) {
		return c
	}
	return ""
}

// storableMetadata is metadata without the keys Firestore cannot store as
// field names (empty, reserved __…__, invalid UTF-8, too long); Stripe
// accepts them, and one would otherwise fail every delivery of the object.
func storableMetadata(meta map[string]string) map[string]string {
	for k := range meta {
		if !billing.UsableFieldName(k) {
			out := make(map[string]string, len(meta))
			for k, v := range meta {
				if billing.UsableFieldName(k) {
					out[k] = v
				}
			}
			return out
		}
	}
	return meta
}

// productOf returns a price's product id and the course it sells: the
// price's own metadata first, then the product's, then the fallback.
func productOf(p *stripe.Product, priceMeta map[string]string, fallback string) (string, string) {
	course := courseOf(priceMeta)
	id := ""
	if p != nil {
		id = p.ID
		if course == "" {
			course = courseOf(p.Metadata)
		}
	}
	if course == "" {
		course = fallback
	}
	return id, course
}

// invoiceExtras holds fields of API versions newer than the client's: since
// 2025-03-31 an invoice names its subscription under parent, and `paid` is
// gone.
type invoiceExtras struct {
	Paid   *bool `json:"paid"`
	Parent *struct {
		SubscriptionDetails *struct {
			Subscription string            `json:"subscription"`
			Metadata     map[string]string `json:"metadata"`
		} `json:"subscription_details"`
	} `json:"parent"`
}

// DecodeInvoice decodes an invoice payload of any API version.
func DecodeInvoice(raw []byte) (billing.Invoice, error) {
	var in stripe.Invoice
	var x invoiceExtras
	if err := decode(raw, "invoice", &in, &x); err != nil {
		return billing.Invoice{}, err
	}
	out := Invoice(&in)
	if x.Parent != nil && x.Parent.SubscriptionDetails != nil {
		if out.Subscription == "" {
			out.Subscription = x.Parent.SubscriptionDetails.Subscription
		}
		if out.UID == "" {
			out.UID = x.Parent.SubscriptionDetails.Metadata[UIDKey]
		}
	}
	if x.Paid == nil {
		out.Paid = out.Status == string(stripe.InvoiceStatusPaid)
	}
	return out, nil
}

// Invoice converts a Stripe invoice. UID comes from the subscription's
// metadata; the caller decides whether the customer mapping overrides it.
func Invoice(in *stripe.Invoice) billing.Invoice {
	out := billing.Invoice{
		ID:                 in.ID,
		Customer:           customerID(in.Customer),
		Status:             string(in.Status),
		Paid:               in.Paid,
		AmountDue:          in.AmountDue,
		AmountPaid:         in.AmountPaid,
		AmountRemaining:    in.AmountRemaining,
		Total:              in.Total,
		Currency:           string(in.Currency),
		HostedInvoiceURL:   in.HostedInvoiceURL,
		AttemptCount:       in.AttemptCount,
		NextPaymentAttempt: unixTime(in.NextPaymentAttempt),
		BillingReason:      string(in.BillingReason),
		PeriodStart:        unixTime(in.PeriodStart),
		PeriodEnd:          unixTime(in.PeriodEnd),
		Livemode:           in.Livemode,
	}
	if in.Subscription != nil {
		out.Subscription = in.Subscription.ID
	}
	// The subscription's metadata as it was when the invoice was made; the
	// checkout function puts the user's uid there.
	if in.SubscriptionDetails != nil {
		out.UID = in.SubscriptionDetails.Metadata[UIDKey]
	}
	return out
}

// DecodeCheckoutSession decodes a checkout session payload.
func DecodeCheckoutSession(raw []byte) (billing.CheckoutSession, error) {
	var s stripe.CheckoutSession
	if err := decode(raw, "checkout.session", &s, nil); err != nil {
		return billing.CheckoutSession{}, err
	}
	return Session(&s), nil
}

// Session converts a Stripe checkout session.
func Session(s *stripe.CheckoutSession) billing.CheckoutSession {
	uid := s.ClientReferenceID
	if uid == "" {
		uid = s.Metadata[UIDKey]
	}
	out := billing.CheckoutSession{
		Mode: string(s.Mode),
		UID:  uid,
		Purchase: billing.Purchase{
			ID:             s.ID,
			UID:            uid,
			Customer:       customerID(s.Customer),
			CourseID:       courseOf(s.Metadata),
			Status:         string(s.Status),
			PaymentStatus:  string(s.PaymentStatus),
			AmountSubtotal: s.AmountSubtotal,
			AmountTotal:    s.AmountTotal,
			Currency:       string(s.Currency),
			Livemode:       s.Livemode,
		},
	}
	if s.PaymentIntent != nil {
		out.Purchase.PaymentIntent = s.PaymentIntent.ID
	}
	if s.Subscription != nil {
		out.Subscription = s.Subscription.ID
	}
	switch {
	case s.CustomerDetails != nil && s.CustomerDetails.Email != "":
		out.Email = s.CustomerDetails.Email
	case s.Customer != nil && s.Customer.Email != "":
		out.Email = s.Customer.Email
	default:
		out.Email = s.CustomerEmail
	}
	return out
}

// DecodeCustomer decodes a customer payload, deleted or not.
func DecodeCustomer(raw []byte) (billing.CustomerView, error) {
	var c stripe.Customer
	if err := decode(raw, "customer", &c, nil); err != nil {
		return billing.CustomerView{}, err
	}
	return Customer(&c), nil
}

// Customer converts a Stripe customer.
func Customer(c *stripe.Customer) billing.CustomerView {
	return billing.CustomerView{ID: c.ID, Email: c.Email, Deleted: c.Deleted, UID: c.Metadata[UIDKey]}
}
