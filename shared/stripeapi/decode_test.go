package stripeapi_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/stripeapi"
)

// allDecoders runs each Decode function and reports the decoded object's id
// and whether the zero value came back.
var allDecoders = []struct {
	name   string
	decode func([]byte) (id string, zero bool, err error)
}{
	{"DecodeSubscription", func(b []byte) (string, bool, error) {
		s, err := stripeapi.DecodeSubscription(b)
		return s.ID, reflect.ValueOf(s).IsZero(), err
	}},
	{"DecodeInvoice", func(b []byte) (string, bool, error) {
		in, err := stripeapi.DecodeInvoice(b)
		return in.ID, reflect.ValueOf(in).IsZero(), err
	}},
	{"DecodeCheckoutSession", func(b []byte) (string, bool, error) {
		cs, err := stripeapi.DecodeCheckoutSession(b)
		return cs.Purchase.ID, reflect.ValueOf(cs).IsZero(), err
	}},
	{"DecodeProduct", func(b []byte) (string, bool, error) {
		p, err := stripeapi.DecodeProduct(b)
		return p.ID, reflect.ValueOf(p).IsZero(), err
	}},
	{"DecodePrice", func(b []byte) (string, bool, error) {
		p, err := stripeapi.DecodePrice(b)
		return p.ID, reflect.ValueOf(p).IsZero(), err
	}},
}

// TestDecodeCapturedPayloads runs every captured file through every decoder:
// the decoder of the file's object kind returns the object when it has an
// id; every other combination is ErrUnprocessable, never a panic.
func TestDecodeCapturedPayloads(t *testing.T) {
	tests := []struct {
		file string
		// accepts is the decoder that returns the object; "" when none does.
		accepts string
		why     string
	}{
		{"account.updated.json", "", "a complete event envelope around an account, not a billing object"},
		{"charge.refunded.json", "", "a charge whose payload has no `object` member"},
		{"charge.succeeded.json", "", "a charge whose payload has no `object` member"},
		{"charge.updated.json", "", "a charge"},
		{"checkout.session.completed.json", "DecodeCheckoutSession", ""},
		{"customer.deleted.json", "", "a customer"},
		{"customer.updated.json", "", "a customer"},
		{"invoice.json", "DecodeInvoice", ""},
		{"invoice.payment_action_required.json", "DecodeInvoice", ""},
		{"invoice.payment_failed.json", "DecodeInvoice", ""},
		{"invoice.upcoming.json", "", "an upcoming invoice has no id"},
		{"invoice.updated.json", "", "its object is an invoice_payment, not an invoice"},
		{"payment_method.attached.json", "", "a payment method"},
		{"payment_method.detached.json", "", "a payment method"},
		{"payment_method.updated.json", "", "a payment method"},
		{"subscription.created.json", "DecodeSubscription", ""},
		{"subscription.deleted.json", "DecodeSubscription", ""},
		{"subscription.trial_ended.json", "DecodeSubscription", ""},
		{"subscription.trial_will_end.json", "DecodeSubscription", ""},
		{"subscription.updated.json", "DecodeSubscription", ""},
	}

	listed := map[string]bool{}
	for _, tc := range tests {
		listed[tc.file] = true
	}
	for _, name := range jsonFiles(t, capturedDir) {
		if !listed[name] {
			t.Errorf("captured %s has no case here: say which decoder accepts it", name)
		}
	}

	for _, tc := range tests {
		raw := loadPayload(t, capturedDir, tc.file)
		var h struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(raw, &h); err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		for _, d := range allDecoders {
			want := "ErrUnprocessable"
			if d.name == tc.accepts {
				want = "decodes"
			}
			t.Run(tc.file+"/"+d.name+"/"+want, func(t *testing.T) {
				id, zero, err := d.decode(raw)
				if d.name == tc.accepts {
					if err != nil {
						t.Fatalf("error %v, want the object", err)
					}
					if id == "" || id != h.ID {
						t.Errorf("id %q, want %q", id, h.ID)
					}
					return
				}
				if !errors.Is(err, stripeapi.ErrUnprocessable) {
					t.Fatalf("error %v, want ErrUnprocessable (%s)", err, tc.why)
				}
				if !zero {
					t.Errorf("a refused payload returned a partly filled object")
				}
			})
		}
	}
}

// TestDecodeRefusesMalformedInput: whatever the body, a decoder answers
// ErrUnprocessable and the zero object, never a panic or another error.
func TestDecodeRefusesMalformedInput(t *testing.T) {
	created := loadPayload(t, capturedDir, "subscription.created.json")
	tests := []struct {
		name string
		raw  string
	}{
		{"empty body", ""},
		{"only whitespace", " \n\t"},
		{"invalid JSON", "{"},
		{"JSON null", "null"},
		{"JSON array", "[]"},
		{"JSON number", "42"},
		{"a bare id string, as an unexpanded field looks", `"sub_00000000000000"`},
		{"empty object: no kind, no id", "{}"},
		{"truncated real payload", string(created[:len(created)/2])},
		{"trailing garbage after a real payload", string(created) + "}"},
		{"id of the wrong JSON type", `{"id": 5, "object": "subscription"}`},
		{"object of the wrong JSON type", `{"id": "x_1", "object": {"name": "invoice"}}`},
		{"subscription without id", `{"object": "subscription", "status": "active"}`},
		{"invoice without id", `{"object": "invoice", "status": "paid"}`},
		{"checkout session without id", `{"object": "checkout.session", "status": "complete"}`},
		{"subscription with a field of the wrong type", `{"id": "sub_1", "object": "subscription", "status": 7}`},
		{"invoice with a field of the wrong type", `{"id": "in_1", "object": "invoice", "amount_due": "lots"}`},
		{"checkout session with a field of the wrong type", `{"id": "cs_1", "object": "checkout.session", "amount_total": "lots"}`},
		{"subscription with items that are not a list", `{"id": "sub_1", "object": "subscription", "items": {"data": 3}}`},
		{"subscription with an item period of the wrong type", `{"id": "sub_1", "object": "subscription", "items": {"data": [{"current_period_end": "soon"}]}}`},
		{"invoice with parent of the wrong type", `{"id": "in_1", "object": "invoice", "parent": "sub_1"}`},
	}
	for _, tc := range tests {
		for _, d := range allDecoders {
			t.Run(tc.name+"/"+d.name+"/ErrUnprocessable", func(t *testing.T) {
				_, zero, err := d.decode([]byte(tc.raw))
				if !errors.Is(err, stripeapi.ErrUnprocessable) {
					t.Fatalf("error %v, want ErrUnprocessable", err)
				}
				if !zero {
					t.Errorf("a refused payload returned a partly filled object")
				}
			})
		}
	}
}

// TestDecodeMinimalObjects: an object of the right kind with an id is
// enough; every other field is optional.
func TestDecodeMinimalObjects(t *testing.T) {
	t.Run("subscription with only id and kind decodes with nothing granted", func(t *testing.T) {
		s, err := stripeapi.DecodeSubscription([]byte(`{"id": "sub_1", "object": "subscription"}`))
		if err != nil {
			t.Fatal(err)
		}
		if s.ID != "sub_1" || s.Status != "" || len(s.Items) != 0 || s.CurrentPeriodEnd != nil {
			t.Errorf("got %+v", s)
		}
	})
	t.Run("invoice of the newest API (no paid member) with status paid is paid", func(t *testing.T) {
		in, err := stripeapi.DecodeInvoice([]byte(`{"id": "in_1", "object": "invoice", "status": "paid"}`))
		if err != nil {
			t.Fatal(err)
		}
		if !in.Paid {
			t.Errorf("Paid = false, want true from status paid")
		}
	})
	t.Run("checkout session with only id and kind decodes unowned", func(t *testing.T) {
		cs, err := stripeapi.DecodeCheckoutSession([]byte(`{"id": "cs_1", "object": "checkout.session"}`))
		if err != nil {
			t.Fatal(err)
		}
		if cs.Purchase.ID != "cs_1" || cs.UID != "" || cs.Purchase.Customer != "" {
			t.Errorf("got %+v", cs)
		}
	})
}

func TestDecodeSubscriptionCapturedFields(t *testing.T) {
	// subscription.created.json is rendered at a pre-2020 API version: it
	// still has `billing`, a top-level `price`, and the period at the top.
	got, err := stripeapi.DecodeSubscription(loadPayload(t, capturedDir, "subscription.created.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := billing.Subscription{
		ID:       "sub_00000000000000",
		Customer: "cus_00000000000000",
		Status:   "active",
		Items: []billing.SubscriptionItem{
			{Price: "FFBEGINNER_00000000000000", Product: "prod_00000000000000", Quantity: 2},
		},
		CurrentPeriodStart: unixUTC(1486568724), // 2017-02-08T15:45:24Z
		CurrentPeriodEnd:   unixUTC(1488987924), // 2017-03-08T15:45:24Z
		TrialStart:         unixUTC(1466783124), // 2016-06-24T15:45:24Z
		TrialEnd:           unixUTC(1467992724), // 2016-07-08T15:45:24Z
		LatestInvoice:      "in_1000",
		Metadata:           map[string]string{},
	}
	checkSubscription(t, got, want)
}

// checkSubscription compares times by instant and zone, the rest exactly.
func checkSubscription(t *testing.T, got, want billing.Subscription) {
	t.Helper()
	times := []struct {
		name      string
		got, want **time.Time
	}{
		{"CancelAt", &got.CancelAt, &want.CancelAt},
		{"CanceledAt", &got.CanceledAt, &want.CanceledAt},
		{"CurrentPeriodStart", &got.CurrentPeriodStart, &want.CurrentPeriodStart},
		{"CurrentPeriodEnd", &got.CurrentPeriodEnd, &want.CurrentPeriodEnd},
		{"TrialStart", &got.TrialStart, &want.TrialStart},
		{"TrialEnd", &got.TrialEnd, &want.TrialEnd},
		{"EndedAt", &got.EndedAt, &want.EndedAt},
	}
	for _, tm := range times {
		checkInstant(t, tm.name, *tm.got, *tm.want)
		*tm.got, *tm.want = nil, nil
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("subscription (times aside)\n got %+v\nwant %+v", got, want)
	}
}

func TestDecodeInvoiceCapturedFields(t *testing.T) {
	tests := []struct {
		name string
		file string
		want billing.Invoice
	}{
		{
			// API 2025-03-31+: no top-level `subscription` and no `paid`;
			// the subscription is under parent.subscription_details.
			name: "payment_failed of the newest API: subscription from parent, unpaid, retry scheduled",
			file: "invoice.payment_failed.json",
			want: billing.Invoice{
				ID: "in_1234", Customer: "cus_1234", Subscription: "sub_1234",
				Status: "open", Paid: false,
				AmountDue: 24900, AmountRemaining: 24900, Total: 24900, Currency: "usd",
				HostedInvoiceURL: "https://invoice.stripe.com/", AttemptCount: 1,
				NextPaymentAttempt: unixUTC(1745552783), // 2025-04-25T03:46:23Z
				BillingReason:      "subscription_cycle",
				PeriodStart:        unixUTC(1713897906), PeriodEnd: unixUTC(1745433906),
				Livemode: true,
			},
		},
		{
			name: "bare invoice with subscription null: no subscription, paid",
			file: "invoice.json",
			want: billing.Invoice{
				ID: "in_1RFFohKXBGcbgpbZk9MxzDMc", Customer: "cus_S9YwWMaQEgeJYO", Subscription: "",
				Status: "paid", Paid: true,
				AmountDue: 24512, AmountPaid: 24512, Total: 24512, Currency: "usd",
				HostedInvoiceURL: "https://invoice.stripe.com/i/acct_1E4bfnKXBGcbgpbZ/test_YWNjdF8xRTRiZm5LWEJHY2JncGJaLF9TOVl3TTZrYkdYZEw2c3V0dGlzcDE4OWtza2Fsb05GLDEzNTUyNzE3MA0200LA91Q560?s=db",
				AttemptCount:     1,
				BillingReason:    "manual",
				PeriodStart:      unixUTC(1744986175), PeriodEnd: unixUTC(1744986175),
			},
		},
		{
			name: "payment_action_required with both top-level subscription and parent: same subscription, unpaid, no retry",
			file: "invoice.payment_action_required.json",
			want: billing.Invoice{
				ID: "in_1234", Customer: "cus_1234", Subscription: "sub_1234",
				Status: "open", Paid: false,
				AmountDue: 9184, AmountRemaining: 9184, Total: 9184, Currency: "usd",
				HostedInvoiceURL: "https://invoice.stripe.com/",
				BillingReason:    "subscription_cycle",
				PeriodStart:      unixUTC(1742491994), PeriodEnd: unixUTC(1745170394),
				Livemode: true,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := stripeapi.DecodeInvoice(loadPayload(t, capturedDir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			checkInvoice(t, got, tc.want)
		})
	}
}

func checkInvoice(t *testing.T, got, want billing.Invoice) {
	t.Helper()
	times := []struct {
		name      string
		got, want **time.Time
	}{
		{"NextPaymentAttempt", &got.NextPaymentAttempt, &want.NextPaymentAttempt},
		{"PeriodStart", &got.PeriodStart, &want.PeriodStart},
		{"PeriodEnd", &got.PeriodEnd, &want.PeriodEnd},
	}
	for _, tm := range times {
		checkInstant(t, tm.name, *tm.got, *tm.want)
		*tm.got, *tm.want = nil, nil
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("invoice (times aside)\n got %+v\nwant %+v", got, want)
	}
}

func TestDecodeCheckoutSessionCapturedFields(t *testing.T) {
	got, err := stripeapi.DecodeCheckoutSession(loadPayload(t, capturedDir, "checkout.session.completed.json"))
	if err != nil {
		t.Fatal(err)
	}
	// client_reference_id is null and metadata empty: the user is unknown.
	want := billing.CheckoutSession{
		Mode:         "subscription",
		Subscription: "sub_1LNkeSKXBGcbgpbZ7jMqOPSi",
		UID:          "",
		Email:        "student@example.com",
		Purchase: billing.Purchase{
			ID:             "cs_test_a1UejXx8ebIdTzFolicVypUAZpOBVkoQKDbaarXoPlPVtj8p0zujPEEhjT",
			Customer:       "cus_M5wW9RPFk9xNZ5",
			Status:         "complete",
			PaymentStatus:  "paid",
			AmountSubtotal: 1900,
			AmountTotal:    1900,
			Currency:       "usd",
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %+v\nwant %+v", got, want)
	}
}

// TestDecodeCustomerShapes: `customer` comes as an id, as an expanded object
// or as null; only the id is kept, and the shape changes nothing else.
func TestDecodeCustomerShapes(t *testing.T) {
	subscription := func(t *testing.T, dir, file string) (string, any) {
		s, err := stripeapi.DecodeSubscription(loadPayload(t, dir, file))
		if err != nil {
			t.Fatal(err)
		}
		customer := s.Customer
		s.Customer = ""
		return customer, s
	}
	invoice := func(t *testing.T, dir, file string) (string, any) {
		in, err := stripeapi.DecodeInvoice(loadPayload(t, dir, file))
		if err != nil {
			t.Fatal(err)
		}
		customer := in.Customer
		in.Customer = ""
		return customer, in
	}
	tests := []struct {
		name         string
		decode       func(t *testing.T, dir, file string) (string, any)
		dir, file    string
		wantCustomer string
		// sameAs is the captured file the variant was copied from: apart
		// from the customer, both must decode alike.
		sameAs string
	}{
		{"subscription customer as an id (captured) gives the id", subscription, capturedDir, "subscription.created.json", "cus_00000000000000", ""},
		// Variant: customer replaced by an expanded customer object.
		{"subscription customer expanded gives its id", subscription, variantDir, "subscription.customer_expanded.json", "cus_00000000000000", "subscription.created.json"},
		// Variant: customer set to null.
		{"subscription customer null gives no customer", subscription, variantDir, "subscription.customer_null.json", "", "subscription.created.json"},
		{"invoice customer as an id (captured) gives the id", invoice, capturedDir, "invoice.json", "cus_S9YwWMaQEgeJYO", ""},
		// Variant: customer replaced by an expanded customer object.
		{"invoice customer expanded gives its id", invoice, variantDir, "invoice.customer_expanded.json", "cus_S9YwWMaQEgeJYO", "invoice.json"},
		// Variant: customer set to null.
		{"invoice customer null gives no customer", invoice, variantDir, "invoice.customer_null.json", "", "invoice.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			customer, rest := tc.decode(t, tc.dir, tc.file)
			if customer != tc.wantCustomer {
				t.Errorf("customer %q, want %q", customer, tc.wantCustomer)
			}
			if tc.sameAs == "" {
				return
			}
			_, orig := tc.decode(t, capturedDir, tc.sameAs)
			if !reflect.DeepEqual(rest, orig) {
				t.Errorf("apart from the customer, decodes differently from %s\n got %+v\nwant %+v", tc.sameAs, rest, orig)
			}
		})
	}
}

func TestDecodeCheckoutSessionVariants(t *testing.T) {
	tests := []struct {
		name string
		file string
		want billing.CheckoutSession
	}{
		{
			// Variant of checkout.session.completed.json: customer expanded
			// (email owner@example.com), customer_details null,
			// client_reference_id user-a.
			name: "customer expanded gives its id, email from the customer, uid from client_reference_id",
			file: "checkout.session.customer_expanded.json",
			want: billing.CheckoutSession{
				Mode: "subscription", Subscription: "sub_1LNkeSKXBGcbgpbZ7jMqOPSi",
				UID: "user-a", Email: "owner@example.com",
				Purchase: billing.Purchase{
					ID:  "cs_test_a1UejXx8ebIdTzFolicVypUAZpOBVkoQKDbaarXoPlPVtj8p0zujPEEhjT",
					UID: "user-a", Customer: "cus_M5wW9RPFk9xNZ5",
					Status: "complete", PaymentStatus: "paid",
					AmountSubtotal: 1900, AmountTotal: 1900, Currency: "usd",
				},
			},
		},
		{
			// Variant of checkout.session.completed.json: guest checkout of
			// a one-time course (customer null, mode payment, subscription
			// null, a payment_intent, metadata courseId and uid).
			name: "guest payment: no customer, course and uid from metadata, email from customer_details",
			file: "checkout.session.guest_payment.json",
			want: billing.CheckoutSession{
				Mode: "payment", Subscription: "",
				UID: "user-a", Email: "student@example.com",
				Purchase: billing.Purchase{
					ID:  "cs_test_a1UejXx8ebIdTzFolicVypUAZpOBVkoQKDbaarXoPlPVtj8p0zujPEEhjT",
					UID: "user-a", Customer: "", CourseID: "course-go",
					Status: "complete", PaymentStatus: "paid",
					AmountSubtotal: 1900, AmountTotal: 1900, Currency: "usd",
					PaymentIntent: "pi_3LNkeSKXBGcbgpbZ0guest00",
				},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := stripeapi.DecodeCheckoutSession(loadPayload(t, variantDir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestDecodeSubscriptionPeriod: since API 2025-03-31 the billing period is
// on each item and the top-level fields are gone.
func TestDecodeSubscriptionPeriod(t *testing.T) {
	tests := []struct {
		name       string
		dir, file  string
		start, end int64
	}{
		{"top-level period (old API) is used", capturedDir, "subscription.created.json", 1486568724, 1488987924},
		// The captured subscription.updated.json already has no top-level
		// period; its one item carries it.
		{"no top-level period: taken from the only item (captured)", capturedDir, "subscription.updated.json", 1486568724, 1488987924},
		// Variant: three items whose periods differ; the latest end is on
		// the middle item.
		{"no top-level period, several items: the latest item end with its own start", variantDir, "subscription.items_period.json", 1488987924, 1491666324},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := stripeapi.DecodeSubscription(loadPayload(t, tc.dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			checkInstant(t, "CurrentPeriodStart", s.CurrentPeriodStart, unixUTC(tc.start))
			checkInstant(t, "CurrentPeriodEnd", s.CurrentPeriodEnd, unixUTC(tc.end))
		})
	}
}

func TestDecodeSubscriptionPlanOnlyItemsMatchPriceItems(t *testing.T) {
	// Variant of subscription.created.json in the pre-Prices shape: each
	// item (and the top level) has `plan` instead of `price`.
	plan, err := stripeapi.DecodeSubscription(loadPayload(t, variantDir, "subscription.plan_only.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []billing.SubscriptionItem{{Price: "FFBEGINNER_00000000000000", Product: "prod_00000000000000", Quantity: 2}}
	if !reflect.DeepEqual(plan.Items, want) {
		t.Errorf("items %+v, want price and product from the plan: %+v", plan.Items, want)
	}
	price, err := stripeapi.DecodeSubscription(loadPayload(t, capturedDir, "subscription.created.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(plan, price) {
		t.Errorf("plan-only decodes differently from the price shape\n got %+v\nwant %+v", plan, price)
	}
}

func TestDecodeSubscriptionCourseID(t *testing.T) {
	// Variant of subscription.created.json: subscription metadata courseId
	// and uid, and three items (see testdata/README.md).
	s, err := stripeapi.DecodeSubscription(loadPayload(t, variantDir, "subscription.course_metadata.json"))
	if err != nil {
		t.Fatal(err)
	}
	if s.UID != "user-a" {
		t.Errorf("UID %q, want user-a from metadata.uid", s.UID)
	}
	tests := []struct {
		name        string
		item        int
		wantProduct string
		wantCourse  string
	}{
		{"price metadata wins over product and subscription metadata", 0, "prod_course_price", "course-from-price"},
		{"expanded product metadata wins over subscription metadata", 1, "prod_course_product", "course-from-product"},
		{"unexpanded product without price metadata falls back to subscription metadata", 2, "prod_course_subscription", "course-from-subscription"},
	}
	if len(s.Items) != len(tests) {
		t.Fatalf("%d items, want %d", len(s.Items), len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			it := s.Items[tc.item]
			if it.Product != tc.wantProduct || it.CourseID != tc.wantCourse {
				t.Errorf("item %d: product %q course %q, want %q %q", tc.item, it.Product, it.CourseID, tc.wantProduct, tc.wantCourse)
			}
		})
	}
}
