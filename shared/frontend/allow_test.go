package frontend

import "testing"

func TestRedirectsCheck(t *testing.T) {
	rs, err := ParseRedirects("https://courses.example.com/billing/, http://localhost:3000")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		url string
		ok  bool
	}{
		{"https://courses.example.com/billing/done?session_id={CHECKOUT_SESSION_ID}", true},
		{"https://courses.example.com/billing/", true},
		{"https://COURSES.example.com/billing/x", true},
		{"http://localhost:3000/anything", true},
		{"https://courses.example.com/billingx", false},
		{"https://courses.example.com/other", false},
		{"https://evil.example/billing/", false},
		{"https://courses.example.com.evil.example/billing/", false},
		{"https://courses.example.com/billing/../admin/delete", false},
		{"https://courses.example.com/billing/%2e%2e/admin", false},
		{"https://courses.example.com/billing/./done", false},
		{"https://courses.example.com/billing/done..html", true},
		{"https://user@courses.example.com/billing/", false},
		{"http://courses.example.com/billing/", false},
		{"http://localhost:4000/", false},
		{"javascript:alert(1)", false},
		{"//courses.example.com/billing/", false},
		{"/billing/", false},
		{"", false},
	}
	for _, c := range cases {
		if err := rs.Check(c.url); (err == nil) != c.ok {
			t.Errorf("Check(%q) = %v, want allowed=%v", c.url, err, c.ok)
		}
	}
}

func TestParseRedirectsRejectsBadPrefixes(t *testing.T) {
	for _, list := range []string{"http://courses.example.com/", "courses.example.com", "https://u:p@x.example/"} {
		if _, err := ParseRedirects(list); err == nil {
			t.Errorf("ParseRedirects(%q) accepted it", list)
		}
	}
}

func TestOrigins(t *testing.T) {
	o, err := ParseOrigins("https://app.example.com, http://localhost:5173")
	if err != nil {
		t.Fatal(err)
	}
	for origin, want := range map[string]bool{
		"https://app.example.com":      true,
		"https://APP.example.com":      true,
		"http://localhost:5173":        true,
		"https://app.example.com:8443": false,
		"https://evil.example":         false,
		"null":                         false,
	} {
		if got := o.Allows(origin); got != want {
			t.Errorf("Allows(%q) = %v, want %v", origin, got, want)
		}
	}
	if _, err := ParseOrigins("https://app.example.com/path"); err == nil {
		t.Error("an origin with a path was accepted")
	}
}
