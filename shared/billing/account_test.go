package billing_test

import (
	"reflect"
	"testing"

	"github.com/courseplatform/billing/shared/billing"
)

func TestOwner(t *testing.T) {
	tests := []struct {
		name       string
		mapped     *billing.StripeCustomer
		candidates []string
		want       string
	}{
		{"no mapping, no candidates: nobody", nil, nil, ""},
		{"no mapping, only empty candidates: nobody", nil, []string{"", ""}, ""},
		{"no mapping: first non-empty candidate", nil, []string{"", "user-b", "user-c"}, "user-b"},
		{"mapping wins over candidates", &billing.StripeCustomer{UID: "user-a"}, []string{"user-b", "user-c"}, "user-a"},
		{"mapping wins with no candidates", &billing.StripeCustomer{UID: "user-a"}, nil, "user-a"},
		{"unclaimed mapping: first non-empty candidate", &billing.StripeCustomer{UID: ""}, []string{"", "user-b"}, "user-b"},
		{"unclaimed mapping, no candidates: nobody", &billing.StripeCustomer{UID: ""}, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := billing.Owner(tc.mapped, tc.candidates...); got != tc.want {
				t.Errorf("Owner = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLinkCustomer(t *testing.T) {
	now, earlier := at(10), at(0)
	tests := []struct {
		name     string
		mapped   *billing.StripeCustomer
		uid      string
		email    string
		livemode bool
		// want is the document to write; nil when nothing would change.
		want *billing.StripeCustomer
	}{
		{"no mapping: new mapping claimed by uid",
			nil, "user-a", "a@example.com", true,
			&billing.StripeCustomer{UID: "user-a", Email: "a@example.com", Livemode: true, UpdatedAt: now}},
		{"no mapping and no uid: new unclaimed mapping",
			nil, "", "", false,
			&billing.StripeCustomer{UID: "", UpdatedAt: now}},
		{"mapping of user A, uid B: first claim stands, nothing written",
			&billing.StripeCustomer{UID: "user-a", Email: "a@example.com", UpdatedAt: earlier}, "user-b", "b@example.com", false,
			nil},
		{"mapping of user A without email, uid B: uid kept, email filled",
			&billing.StripeCustomer{UID: "user-a", UpdatedAt: earlier}, "user-b", "b@example.com", false,
			&billing.StripeCustomer{UID: "user-a", Email: "b@example.com", UpdatedAt: now}},
		{"unclaimed mapping: claimed by uid",
			&billing.StripeCustomer{UID: "", Email: "a@example.com", UpdatedAt: earlier}, "user-a", "", false,
			&billing.StripeCustomer{UID: "user-a", Email: "a@example.com", UpdatedAt: now}},
		{"unclaimed mapping with an email, claimed with another email: uid set, stored email kept",
			&billing.StripeCustomer{UID: "", Email: "a@example.com", UpdatedAt: earlier}, "user-a", "new@example.com", false,
			&billing.StripeCustomer{UID: "user-a", Email: "a@example.com", UpdatedAt: now}},
		{"unclaimed mapping, no uid, no email: nothing written",
			&billing.StripeCustomer{UID: "", UpdatedAt: earlier}, "", "", false,
			nil},
		{"unclaimed mapping, no uid, new email: email filled, still unclaimed",
			&billing.StripeCustomer{UID: "", UpdatedAt: earlier}, "", "a@example.com", false,
			&billing.StripeCustomer{UID: "", Email: "a@example.com", UpdatedAt: now}},
		{"email set: another email does not replace it, nothing written",
			&billing.StripeCustomer{UID: "user-a", Email: "a@example.com", UpdatedAt: earlier}, "user-a", "new@example.com", false,
			nil},
		{"same uid and email: nothing written",
			&billing.StripeCustomer{UID: "user-a", Email: "a@example.com", UpdatedAt: earlier}, "user-a", "a@example.com", false,
			nil},
		{"same uid, no email given: nothing written",
			&billing.StripeCustomer{UID: "user-a", UpdatedAt: earlier}, "user-a", "", false,
			nil},
		{"stored livemode is kept when a uid is added",
			&billing.StripeCustomer{UID: "", Livemode: true, UpdatedAt: earlier}, "user-a", "", false,
			&billing.StripeCustomer{UID: "user-a", Livemode: true, UpdatedAt: now}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var before billing.StripeCustomer
			if tc.mapped != nil {
				before = *tc.mapped
			}
			got := billing.LinkCustomer(tc.mapped, tc.uid, tc.email, tc.livemode, now)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("LinkCustomer = %+v, want %+v", got, tc.want)
			}
			if tc.mapped != nil && !reflect.DeepEqual(*tc.mapped, before) {
				t.Errorf("stored mapping modified: %+v, was %+v", *tc.mapped, before)
			}
		})
	}
}
