package stripelocal

import (
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/stripe/stripe-go/v76"
)

// node is one level of a Stripe form body: `a[b][0][c]=v` becomes the path
// a → b → 0 → c ending in the value v. Stripe (and stripe-go's form encoder)
// write arrays as numeric indexes and `x[]` appends.
type node struct {
	val  *string
	kids map[string]*node
	keys []string // insertion order of kids
}

func (n *node) child(key string, create bool) *node {
	if n == nil {
		return nil
	}
	if c, ok := n.kids[key]; ok || !create {
		return c
	}
	if n.kids == nil {
		n.kids = map[string]*node{}
	}
	c := &node{}
	n.kids[key] = c
	n.keys = append(n.keys, key)
	return c
}

// splitKey turns `a[b][]` into ["a", "b", ""].
func splitKey(k string) []string {
	i := strings.IndexByte(k, '[')
	if i < 0 {
		return []string{k}
	}
	parts := []string{k[:i]}
	rest := k[i:]
	for len(rest) > 0 && rest[0] == '[' {
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			parts = append(parts, rest[1:])
			break
		}
		parts = append(parts, rest[1:j])
		rest = rest[j+1:]
	}
	return parts
}

// parseForm builds the tree of a form body or query. The values keep their
// order, so that `expand[]=a&expand[]=b` lists a before b.
func parseForm(raw string) (*node, url.Values, error) {
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return nil, nil, invalidRequest("", "Invalid request body: "+err.Error())
	}
	root := &node{}
	for _, pair := range strings.Split(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return nil, nil, invalidRequest("", "Invalid request body encoding")
		}
		parts := splitKey(k)
		cur := root
		for i, p := range parts {
			if p == "" && i > 0 {
				p = strconv.Itoa(len(cur.kids))
			}
			cur = cur.child(p, true)
		}
		val := v
		cur.val = &val
	}
	return root, vals, nil
}

// params reads a request's form tree the way Stripe validates it.
type params struct {
	root *node
	// canonical is the sorted encoding of the parameters, compared for
	// idempotent replays.
	canonical string
}

func (p params) has(key string) bool { return p.root.child(key, false) != nil }

// keys returns the top-level parameter names.
func (p params) keys() []string {
	if p.root == nil {
		return nil
	}
	return p.root.keys
}

// check rejects top-level parameters the endpoint does not know, as Stripe
// does, so that a caller relying on an unsupported feature finds out here
// rather than in production.
func (p params) check(allowed ...string) error {
	ok := map[string]bool{"expand": true}
	for _, a := range allowed {
		ok[a] = true
	}
	for _, k := range p.keys() {
		if !ok[k] {
			return &stripe.Error{Type: stripe.ErrorTypeInvalidRequest, Code: "parameter_unknown", Param: k,
				Msg: "Received unknown parameter: " + k, HTTPStatusCode: 400}
		}
	}
	return nil
}

func (n *node) str() (string, bool) {
	if n == nil || n.val == nil {
		return "", false
	}
	return *n.val, true
}

func (p params) str(path ...string) (string, bool) {
	return p.at(path...).str()
}

func (p params) at(path ...string) *node {
	cur := p.root
	for _, k := range path {
		cur = cur.child(k, false)
	}
	return cur
}

func paramName(path []string) string {
	name := path[0]
	for _, p := range path[1:] {
		name += "[" + p + "]"
	}
	return name
}

func (p params) required(path ...string) (string, error) {
	v, ok := p.str(path...)
	if !ok || v == "" {
		return "", missingParam(paramName(path))
	}
	return v, nil
}

func (p params) integer(path ...string) (int64, bool, error) {
	v, ok := p.str(path...)
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, false, &stripe.Error{Type: stripe.ErrorTypeInvalidRequest, Code: "parameter_invalid_integer",
			Param: paramName(path), Msg: "Invalid integer: " + v, HTTPStatusCode: 400}
	}
	return n, true, nil
}

func (p params) boolean(path ...string) (bool, bool, error) {
	v, ok := p.str(path...)
	if !ok {
		return false, false, nil
	}
	switch v {
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, false, &stripe.Error{Type: stripe.ErrorTypeInvalidRequest, Code: "parameter_invalid_boolean",
		Param: paramName(path), Msg: "Invalid boolean: " + v, HTTPStatusCode: 400}
}

// list returns the elements of an array parameter in index order.
func (n *node) list() []*node {
	if n == nil {
		return nil
	}
	idx := make([]int, 0, len(n.keys))
	byIdx := map[int]*node{}
	for _, k := range n.keys {
		i, err := strconv.Atoi(k)
		if err != nil {
			continue
		}
		idx = append(idx, i)
		byIdx[i] = n.kids[k]
	}
	sort.Ints(idx)
	out := make([]*node, 0, len(idx))
	for _, i := range idx {
		out = append(out, byIdx[i])
	}
	return out
}

// strings returns an array of strings such as expand[].
func (p params) strings(key string) []string {
	n := p.at(key)
	if n == nil {
		return nil
	}
	if v, ok := n.str(); ok && len(n.kids) == 0 {
		return []string{v}
	}
	var out []string
	for _, c := range n.list() {
		if v, ok := c.str(); ok {
			out = append(out, v)
		}
	}
	return out
}

// applyMetadata applies `metadata[k]=v` updates to m the way Stripe does: an
// empty value removes the key and `metadata=` clears the map.
func (p params) applyMetadata(m map[string]string, path ...string) (map[string]string, error) {
	n := p.at(path...)
	if n == nil {
		return m, nil
	}
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	if v, ok := n.str(); ok && len(n.kids) == 0 {
		if v != "" {
			return nil, invalidRequest(paramName(path), "Invalid object")
		}
		return map[string]string{}, nil
	}
	for _, k := range n.keys {
		v, ok := n.kids[k].str()
		if !ok {
			return nil, invalidRequest(paramName(append(path, k)), "Invalid metadata value")
		}
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out, nil
}

// canonicalForm is the parameters in a stable order, for comparing two
// requests made with the same idempotency key.
func canonicalForm(v url.Values) string { return v.Encode() }
