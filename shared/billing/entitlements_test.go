package billing_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/courseplatform/billing/shared/billing"
)

func TestEntitled(t *testing.T) {
	tests := []struct {
		status string
		want   bool
	}{
		{"active", true},
		{"trialing", true},
		{"past_due", true}, // access kept while Stripe retries
		{"unpaid", false},
		{"canceled", false},
		{"incomplete", false},
		{"incomplete_expired", false},
		{"paused", false},
		{"", false},
		{"ACTIVE", false},
	}
	for _, tc := range tests {
		name := tc.status + " does not grant"
		if tc.want {
			name = tc.status + " grants"
		}
		t.Run(name, func(t *testing.T) {
			if got := billing.Entitled(tc.status); got != tc.want {
				t.Errorf("Entitled(%q) = %v, want %v", tc.status, got, tc.want)
			}
		})
	}
}

func paid(id, course string) billing.Purchase {
	return billing.Purchase{ID: id, CourseID: course, Status: "complete", PaymentStatus: "paid"}
}

func TestDeriveEntitlements(t *testing.T) {
	endA, endB := at(30*24*60), at(60*24*60)
	active := sub("sub_a", "cus_1", "u", "active", endA, "go")
	later := sub("sub_b", "cus_1", "u", "active", endB, "go")
	canceled := sub("sub_c", "cus_1", "u", "canceled", endB, "go")

	withStatus := func(status string) billing.Subscription {
		s := active
		s.Status = status
		return s
	}
	noCourse := active
	noCourse.Items = []billing.SubscriptionItem{{Price: "price_x", Product: "prod_x", Quantity: 1}}
	nothing := active
	nothing.Items = []billing.SubscriptionItem{{Price: "price_x", Quantity: 1}}
	twoCourses := sub("sub_two", "cus_1", "u", "active", endA, "go", "rust")

	unpaidPurchase := paid("cs_1", "go")
	unpaidPurchase.PaymentStatus = "unpaid"
	freePurchase := paid("cs_1", "go")
	freePurchase.PaymentStatus = "no_payment_required"
	openPurchase := paid("cs_1", "go")
	openPurchase.Status = "open"
	expiredPurchase := paid("cs_1", "go")
	expiredPurchase.Status, expiredPurchase.PaymentStatus = "expired", "unpaid"

	tests := []struct {
		name      string
		subs      []billing.Subscription
		purchases []billing.Purchase
		want      map[string]billing.Entitlement
	}{
		{"nothing owned grants nothing", nil, nil, map[string]billing.Entitlement{}},
		{"active subscription grants its course until the period end", []billing.Subscription{active}, nil,
			map[string]billing.Entitlement{"go": bySub(active)}},
		{"trialing subscription grants", []billing.Subscription{withStatus("trialing")}, nil,
			map[string]billing.Entitlement{"go": bySub(withStatus("trialing"))}},
		{"past_due subscription keeps access", []billing.Subscription{withStatus("past_due")}, nil,
			map[string]billing.Entitlement{"go": bySub(withStatus("past_due"))}},
		{"unpaid subscription grants nothing", []billing.Subscription{withStatus("unpaid")}, nil, map[string]billing.Entitlement{}},
		{"canceled subscription grants nothing", []billing.Subscription{withStatus("canceled")}, nil, map[string]billing.Entitlement{}},
		{"incomplete subscription grants nothing", []billing.Subscription{withStatus("incomplete")}, nil, map[string]billing.Entitlement{}},
		{"incomplete_expired subscription grants nothing", []billing.Subscription{withStatus("incomplete_expired")}, nil, map[string]billing.Entitlement{}},
		{"paused subscription grants nothing", []billing.Subscription{withStatus("paused")}, nil, map[string]billing.Entitlement{}},
		{"one of two subscriptions for a course canceled: still entitled by the other",
			[]billing.Subscription{canceled, active}, nil,
			map[string]billing.Entitlement{"go": bySub(active)}},
		{"later period end wins between two active subscriptions",
			[]billing.Subscription{active, later}, nil,
			map[string]billing.Entitlement{"go": bySub(later)}},
		{"subscription with two items grants both courses", []billing.Subscription{twoCourses}, nil,
			map[string]billing.Entitlement{"go": bySub(twoCourses), "rust": bySub(twoCourses)}},
		{"item without courseId falls back to its product id", []billing.Subscription{noCourse}, nil,
			map[string]billing.Entitlement{"prod_x": bySub(noCourse)}},
		{"item without courseId or product grants nothing", []billing.Subscription{nothing}, nil, map[string]billing.Entitlement{}},
		{"paid purchase grants without end (Until nil)", nil, []billing.Purchase{paid("cs_1", "go")},
			map[string]billing.Entitlement{"go": byPurchase("cs_1")}},
		{"purchase with no payment required grants", nil, []billing.Purchase{freePurchase},
			map[string]billing.Entitlement{"go": byPurchase("cs_1")}},
		{"unpaid purchase grants nothing", nil, []billing.Purchase{unpaidPurchase}, map[string]billing.Entitlement{}},
		{"open checkout grants nothing", nil, []billing.Purchase{openPurchase}, map[string]billing.Entitlement{}},
		{"expired checkout grants nothing", nil, []billing.Purchase{expiredPurchase}, map[string]billing.Entitlement{}},
		{"purchase without course grants nothing", nil, []billing.Purchase{paid("cs_1", "")}, map[string]billing.Entitlement{}},
		{"purchase wins over an active subscription for the same course",
			[]billing.Subscription{later}, []billing.Purchase{paid("cs_1", "go")},
			map[string]billing.Entitlement{"go": byPurchase("cs_1")}},
		{"purchase stays when the subscription is canceled",
			[]billing.Subscription{canceled}, []billing.Purchase{paid("cs_1", "go")},
			map[string]billing.Entitlement{"go": byPurchase("cs_1")}},
		{"purchase and subscription of different courses both grant",
			[]billing.Subscription{twoCourses}, []billing.Purchase{paid("cs_1", "go")},
			map[string]billing.Entitlement{"go": byPurchase("cs_1"), "rust": bySub(twoCourses)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := billing.DeriveEntitlements(slices.Clone(tc.subs), slices.Clone(tc.purchases))
			if got == nil {
				t.Fatal("nil map; want an empty one")
			}
			checkEntitlements(t, got, tc.want)
		})
	}
}

// TestDeriveEntitlementsIgnoresInputOrder: the result depends only on what
// is owned, including which source wins a tie.
func TestDeriveEntitlementsIgnoresInputOrder(t *testing.T) {
	end := at(30 * 24 * 60)
	subs := []billing.Subscription{
		sub("sub_1", "cus_1", "u", "active", end, "go", "rust"),
		sub("sub_2", "cus_1", "u", "past_due", end, "go"),                    // ties with sub_1 on go
		sub("sub_3", "cus_1", "u", "trialing", end.AddDate(0, 1, 0), "rust"), // later end on rust
		sub("sub_4", "cus_1", "u", "canceled", end.AddDate(1, 0, 0), "zig"),
		sub("sub_5", "cus_2", "u", "active", end, "zig"),
		sub("sub_6", "cus_2", "u", "active", end, "py"),
	}
	purchases := []billing.Purchase{
		paid("cs_1", "py"),
		paid("cs_2", "py"), // two purchases of one course
		paid("cs_3", "c"),
		{ID: "cs_4", CourseID: "c", Status: "complete", PaymentStatus: "unpaid"},
	}
	want := billing.DeriveEntitlements(slices.Clone(subs), slices.Clone(purchases))
	if len(want) != 5 {
		t.Fatalf("reference result %v: want 5 courses", want)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		s, p := slices.Clone(subs), slices.Clone(purchases)
		rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
		rng.Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
		got := billing.DeriveEntitlements(s, p)
		checkEntitlements(t, got, want)
		if t.Failed() {
			t.Fatalf("shuffle %d changed the result", i)
		}
	}
}

// TestDeriveEntitlementsLeavesInputsAlone: deriving access is a question
// about the inputs; it should not reorder the caller's slices.
func TestDeriveEntitlementsLeavesInputsAlone(t *testing.T) {
	end := at(0)
	subs := []billing.Subscription{sub("sub_b", "c", "u", "active", end, "go"), sub("sub_a", "c", "u", "active", end, "go")}
	purchases := []billing.Purchase{paid("cs_b", "go"), paid("cs_a", "go")}
	billing.DeriveEntitlements(subs, purchases)
	if subs[0].ID != "sub_b" || purchases[0].ID != "cs_b" {
		t.Errorf("inputs reordered: subs %s,%s purchases %s,%s", subs[0].ID, subs[1].ID, purchases[0].ID, purchases[1].ID)
	}
}
