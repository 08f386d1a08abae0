package stripelocal

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/stripe/stripe-go/v76"
)

// call is one API request as the handlers see it.
type call struct {
	r       *http.Request
	p       params
	version string
}

func (c *call) id() string { return c.r.PathValue("id") }

// apiFunc serves one endpoint. It returns an obj at APIVersion, which the
// wrapper expands and renders at the request's version, or json.RawMessage
// already rendered.
type apiFunc func(c *call) (any, error)

type idemEntry struct {
	method, path, params string
	status               int
	body                 []byte
}

const maxBody = 1 << 20

func (s *Stripe) apiRoutes() http.Handler {
	mux := http.NewServeMux()
	h := func(pattern string, f apiFunc) { mux.Handle(pattern, s.apiHandler(f)) }

	h("POST /v1/customers", s.apiCreateCustomer)
	h("GET /v1/customers", s.apiListCustomers)
	h("GET /v1/customers/{id}", s.apiGetCustomer)
	h("POST /v1/customers/{id}", s.apiUpdateCustomer)
	h("DELETE /v1/customers/{id}", s.apiDeleteCustomer)

	h("POST /v1/products", s.apiCreateProduct)
	h("GET /v1/products", s.apiListProducts)
	h("GET /v1/products/{id}", s.apiGetProduct)
	h("POST /v1/products/{id}", s.apiUpdateProduct)

	h("POST /v1/prices", s.apiCreatePrice)
	h("GET /v1/prices", s.apiListPrices)
	h("GET /v1/prices/{id}", s.apiGetPrice)
	h("POST /v1/prices/{id}", s.apiUpdatePrice)

	h("POST /v1/checkout/sessions", s.apiCreateSession)
	h("GET /v1/checkout/sessions", s.apiListSessions)
	h("GET /v1/checkout/sessions/{id}", s.apiGetSession)
	h("GET /v1/checkout/sessions/{id}/line_items", s.apiSessionLineItems)
	h("POST /v1/checkout/sessions/{id}/expire", s.apiExpireSession)

	h("GET /v1/subscriptions", s.apiListSubscriptions)
	h("GET /v1/subscriptions/{id}", s.apiGetSubscription)
	h("POST /v1/subscriptions/{id}", s.apiUpdateSubscription)
	h("DELETE /v1/subscriptions/{id}", s.apiCancelSubscription)
	h("POST /v1/subscriptions/{id}/resume", s.apiResumeSubscription)

	h("GET /v1/invoices", s.apiListInvoices)
	h("GET /v1/invoices/{id}", s.apiGetInvoice)
	h("POST /v1/invoices/{id}/pay", s.apiPayInvoice)
	h("POST /v1/invoices/{id}/void", s.apiVoidInvoice)
	h("POST /v1/invoices/{id}/mark_uncollectible", s.apiMarkUncollectible)

	h("POST /v1/billing_portal/sessions", s.apiCreatePortalSession)

	h("GET /v1/events", s.apiListEvents)
	h("GET /v1/events/{id}", s.apiGetEvent)

	h("/", func(c *call) (any, error) {
		return nil, &stripe.Error{Type: stripe.ErrorTypeInvalidRequest, HTTPStatusCode: http.StatusNotFound,
			Msg: fmt.Sprintf("Unrecognized request URL (%s: %s). stripelocal serves only part of the Stripe API.", c.r.Method, c.r.URL.Path)}
	})
	return mux
}

// apiHandler runs an endpoint under the lock with what every Stripe request
// gets: authentication, version, parameters, idempotency, injected failures,
// expansion and rendering.
func (s *Stripe) apiHandler(f apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqID, status, body, replayed := s.serveLocked(r, f)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Request-Id", reqID)
		if replayed {
			w.Header().Set("Idempotent-Replayed", "true")
		}
		if k := r.Header.Get("Idempotency-Key"); k != "" {
			w.Header().Set("Idempotency-Key", k)
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
}

// serveLocked runs serveAPI under the lock; a panic (a bug in the
// stand-in, never the caller's fault) becomes a 500 rather than a crash.
func (s *Stripe) serveLocked(r *http.Request, f apiFunc) (reqID string, status int, body []byte, replayed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	reqID = s.newID("req")
	defer func() {
		if p := recover(); p != nil {
			s.req = nil
			e := asStripeError(fmt.Errorf("internal error: %v", p))
			status, body, replayed = statusOf(e), errorBody(e, reqID), false
		}
	}()
	status, body, replayed = s.serveAPI(r, reqID, f)
	return reqID, status, body, replayed
}

func (s *Stripe) serveAPI(r *http.Request, reqID string, f apiFunc) (status int, body []byte, replayed bool) {
	fail := func(err error) (int, []byte, bool) {
		e := asStripeError(err)
		return statusOf(e), errorBody(e, reqID), false
	}
	if err := s.authorize(r); err != nil {
		return fail(err)
	}
	if s.base == "" && r.RemoteAddr != "" && r.Host != "" {
		s.base = "http://" + r.Host
	}
	version := r.Header.Get("Stripe-Version")
	if version == "" {
		version = APIVersion
	}
	if !validVersion(version) {
		return fail(invalidRequest("", fmt.Sprintf("Invalid Stripe API version: %s", version)))
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return fail(invalidRequest("", "Could not read the request body"))
	}
	if len(raw) > maxBody {
		return fail(invalidRequest("", "Request body too large"))
	}
	form := string(raw)
	if q := r.URL.RawQuery; q != "" {
		form = q + "&" + form
	}
	root, vals, err := parseForm(form)
	if err != nil {
		return fail(err)
	}
	p := params{root: root, canonical: canonicalForm(vals)}

	key := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	idem := key != "" && r.Method == http.MethodPost
	if idem {
		if e, ok := s.idem[key]; ok {
			if e.method != r.Method || e.path != r.URL.Path || e.params != p.canonical {
				return fail(idempotencyMismatch(key))
			}
			return e.status, e.body, true
		}
	}
	if len(s.fail) > 0 {
		injected := s.fail[0]
		s.fail = s.fail[1:]
		return fail(injectedError(injected))
	}

	s.req = &eventRequest{id: reqID, idempotencyKey: key}
	res, err := f(&call{r: r, p: p, version: version})
	s.req = nil
	if err == nil {
		body, err = s.respond(res, p.strings("expand"), version)
	}
	status = http.StatusOK
	if err != nil {
		status, body, _ = fail(err)
	}
	// Stripe keeps the result of every request that began executing,
	// including declined payments, but not of rejected parameters.
	if idem && (status == http.StatusOK || status == http.StatusPaymentRequired) {
		s.idem[key] = &idemEntry{method: r.Method, path: r.URL.Path, params: p.canonical, status: status, body: body}
	}
	return status, body, false
}

func (s *Stripe) respond(res any, expand []string, version string) ([]byte, error) {
	switch v := res.(type) {
	case json.RawMessage:
		return v, nil
	case obj:
		// A handler may return a render an event also holds; expansion
		// works on a copy so that events stay as they were emitted.
		v = deepCopy(v).(obj)
		for _, path := range expand {
			if err := s.expandPath(v, strings.Split(path, "."), path); err != nil {
				return nil, err
			}
		}
		return marshal(atVersion(v, version)), nil
	}
	return nil, fmt.Errorf("stripelocal: handler returned %T", res)
}

// expandPath replaces the id at path with the object it names, walking
// lists and expanding ids on the way, as Stripe's expand[] does.
func (s *Stripe) expandPath(v any, parts []string, full string) error {
	switch t := v.(type) {
	case []any:
		for _, x := range t {
			if err := s.expandPath(x, parts, full); err != nil {
				return err
			}
		}
	case obj:
		key := parts[0]
		if key == "line_items" && t["object"] == "checkout.session" {
			if cs := s.sessions.get(str(t["id"])); cs != nil {
				t[key] = s.renderLineItems(cs)
			}
		}
		child, ok := t[key]
		if !ok {
			return invalidRequest("expand", fmt.Sprintf("This property cannot be expanded (%s).", full))
		}
		if id, isID := child.(string); isID {
			if o, found := s.renderID(id); found {
				t[key], child = o, o
			}
		}
		if len(parts) > 1 && child != nil {
			return s.expandPath(child, parts[1:], full)
		}
	}
	return nil
}

func (s *Stripe) authorize(r *http.Request) error {
	key := ""
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		key = strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
	} else if u, _, ok := r.BasicAuth(); ok {
		key = u
	}
	if key == "" {
		return unauthorized("You did not provide an API key. You need to provide your API key in the Authorization header, " +
			"using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').")
	}
	mode := modeTag(s.opts.Livemode)
	if !strings.HasPrefix(key, "sk_"+mode) && !strings.HasPrefix(key, "rk_"+mode) {
		return unauthorized("Invalid API Key provided: " + redact(key))
	}
	return nil
}

func redact(key string) string {
	if len(key) <= 12 {
		return strings.Repeat("*", len(key))
	}
	return key[:8] + strings.Repeat("*", len(key)-12) + key[len(key)-4:]
}

// paginate applies limit, starting_after and ending_before to ids, newest
// first, as Stripe lists do.
func paginate(c *call, newestFirst []string) (from, to int, hasMore bool, err error) {
	limit, ok, err := c.p.integer("limit")
	if err != nil {
		return 0, 0, false, err
	}
	if !ok {
		limit = 10
	}
	if limit < 1 || limit > 100 {
		return 0, 0, false, invalidRequest("limit", "This value must be greater than or equal to 1 and less than or equal to 100.")
	}
	n := len(newestFirst)
	from, to = 0, n
	if after, ok := c.p.str("starting_after"); ok && after != "" {
		i := slices.Index(newestFirst, after)
		if i < 0 {
			return 0, 0, false, invalidRequest("starting_after", "No such object: '"+after+"'")
		}
		from = i + 1
	} else if before, ok := c.p.str("ending_before"); ok && before != "" {
		i := slices.Index(newestFirst, before)
		if i < 0 {
			return 0, 0, false, invalidRequest("ending_before", "No such object: '"+before+"'")
		}
		to = i
		from = max(0, to-int(limit))
		return from, to, from > 0, nil
	}
	to = min(n, from+int(limit))
	return from, to, to < n, nil
}

// listOf renders a list endpoint's answer from objects in creation order.
func listOf(c *call, url string, items []obj) (any, error) {
	slices.Reverse(items)
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = str(it["id"])
	}
	from, to, more, err := paginate(c, ids)
	if err != nil {
		return nil, err
	}
	data := make([]any, 0, to-from)
	for _, it := range items[from:to] {
		data = append(data, it)
	}
	l := list(url, data)
	l["has_more"] = more
	return l, nil
}

func filter[T any](all []*T, keep func(*T) bool, render func(*T) obj) []obj {
	var out []obj
	for _, x := range all {
		if keep(x) {
			out = append(out, render(x))
		}
	}
	return out
}

// matches is an optional equality filter on a list parameter.
func (c *call) matches(param, value string) bool {
	want, ok := c.p.str(param)
	return !ok || want == value
}
