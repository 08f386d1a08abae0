package firestore_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"testing"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/store/firestore/firestoretest"
)

// The security rules in firestore.rules, evaluated by the Firestore
// emulator itself: documents are seeded with the server's client (which
// bypasses rules, as the functions' service accounts do), then read and
// written over the REST API as signed-in users with emulator ID tokens.

func TestSecurityRules(t *testing.T) {
	store, project := firestoretest.Open(t)
	host := firestoretest.Host(t)
	rules, err := os.ReadFile("../../../firestore.rules")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"rules": map[string]any{"files": []map[string]string{{"name": "firestore.rules", "content": string(rules)}}}})
	req, _ := http.NewRequest(http.MethodPut, "http://"+host+"/emulator/v1/projects/"+project+":securityRules", bytes.NewReader(body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("loading the rules: status %d", res.StatusCode)
	}

	err = store.Update(context.Background(), func(_ context.Context, tx billing.Tx) error {
		for _, uid := range []string{"alice", "bob"} {
			if err := tx.PutCustomer(uid, &billing.Customer{StripeCustomerID: "cus_" + uid}); err != nil {
				return err
			}
			if err := tx.PutSubscription(&billing.Subscription{ID: "sub_" + uid, UID: uid, Status: "active"}); err != nil {
				return err
			}
			if err := tx.PutInvoice(&billing.Invoice{ID: "in_" + uid, UID: uid}); err != nil {
				return err
			}
			if err := tx.PutPurchase(&billing.Purchase{ID: "cs_" + uid, UID: uid}); err != nil {
				return err
			}
			if err := tx.PutStripeCustomer("cus_"+uid, &billing.StripeCustomer{UID: uid}); err != nil {
				return err
			}
		}
		return tx.PutCourse(&billing.Course{ID: "go-101", Title: "Go", Active: true})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.ApplyEvent(context.Background(), billing.EventRecord{ID: "evt_rules", Type: "invoice.paid"},
		func(context.Context, billing.Tx) (billing.Outcome, string, error) { return billing.Applied, "", nil }); err != nil {
		t.Fatal(err)
	}

	docs := "http://" + host + "/v1/projects/" + project + "/databases/(default)/documents"
	call := func(method, url, user string, body []byte) int {
		t.Helper()
		req, _ := http.NewRequest(method, url, bytes.NewReader(body))
		if user != "" {
			req.Header.Set("Authorization", "Bearer "+idToken(project, user))
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	query := func(coll, field, value string) []byte {
		q := map[string]any{"structuredQuery": map[string]any{
			"from": []map[string]string{{"collectionId": coll}},
			"where": map[string]any{"fieldFilter": map[string]any{
				"field": map[string]string{"fieldPath": field}, "op": "EQUAL", "value": map[string]string{"stringValue": value}}},
		}}
		if field == "" {
			delete(q["structuredQuery"].(map[string]any), "where")
		}
		b, _ := json.Marshal(q)
		return b
	}
	write := []byte(`{"fields":{"uid":{"stringValue":"alice"},"status":{"stringValue":"active"}}}`)

	cases := []struct {
		name, method, path, user string
		body                     []byte
		allowed                  bool
	}{
		{"own customer", "GET", "/customers/alice", "alice", nil, true},
		{"another user's customer", "GET", "/customers/bob", "alice", nil, false},
		{"customer without sign-in", "GET", "/customers/alice", "", nil, false},
		{"own subscription", "GET", "/subscriptions/sub_alice", "alice", nil, true},
		{"another user's subscription", "GET", "/subscriptions/sub_bob", "alice", nil, false},
		{"own invoice", "GET", "/invoices/in_alice", "alice", nil, true},
		{"another user's invoice", "GET", "/invoices/in_bob", "alice", nil, false},
		{"own purchase", "GET", "/purchases/cs_alice", "alice", nil, true},
		{"another user's purchase", "GET", "/purchases/cs_bob", "alice", nil, false},
		{"course when signed in", "GET", "/courses/go-101", "alice", nil, true},
		{"course without sign-in", "GET", "/courses/go-101", "", nil, false},
		{"customer mapping", "GET", "/stripe_customers/cus_alice", "alice", nil, false},
		{"event markers", "GET", "/stripe_events/evt_rules", "alice", nil, false},
		{"query own subscriptions", "POST", ":runQuery", "alice", query("subscriptions", "uid", "alice"), true},
		{"query all subscriptions", "POST", ":runQuery", "alice", query("subscriptions", "", ""), false},
		{"query another user's invoices", "POST", ":runQuery", "alice", query("invoices", "uid", "bob"), false},
		{"write own customer", "PATCH", "/customers/alice", "alice", write, false},
		{"write own subscription", "PATCH", "/subscriptions/sub_alice", "alice", write, false},
		{"create a purchase", "PATCH", "/purchases/cs_forged", "alice", write, false},
		{"write a course", "PATCH", "/courses/go-101", "alice", write, false},
		{"delete own customer", "DELETE", "/customers/alice", "alice", nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			url := docs + c.path
			if c.path == ":runQuery" {
				url = docs + ":runQuery"
			}
			status := call(c.method, url, c.user, c.body)
			if allowed := status == http.StatusOK; allowed != c.allowed {
				t.Errorf("%s %s as %q: status %d, want allowed=%v", c.method, c.path, c.user, status, c.allowed)
			}
			if !c.allowed && status != http.StatusForbidden {
				t.Errorf("denied with status %d, want 403", status)
			}
		})
	}
}

// idToken is an unsigned ID token as the Auth emulator issues them, which
// the Firestore emulator accepts as request.auth.
func idToken(project, uid string) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": "none", "typ": "JWT"}) + "." + enc(map[string]any{
		"sub": uid, "user_id": uid, "aud": project, "iss": "https://securetoken.google.com/" + project,
		"iat": 1, "auth_time": 1, "exp": 4102444800, "firebase": map[string]any{"sign_in_provider": "password"},
	}) + "."
}
