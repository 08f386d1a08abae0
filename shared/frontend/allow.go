package frontend

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Origins are the web origins (scheme://host[:port]) allowed to call the
// frontend functions from a browser.
type Origins []string

// ParseOrigins reads a comma-separated list; each must be a bare origin.
func ParseOrigins(list string) (Origins, error) {
	var out Origins
	for _, o := range splitList(list) {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return nil, fmt.Errorf("allowed origin %q is not scheme://host[:port]", o)
		}
		out = append(out, u.Scheme+"://"+strings.ToLower(u.Host))
	}
	return out, nil
}

// Allows reports whether a request's Origin header is allowed.
func (o Origins) Allows(origin string) bool {
	for _, a := range o {
		if strings.EqualFold(a, origin) {
			return true
		}
	}
	return false
}

// Redirects are the URL prefixes Stripe may send the buyer back to.
type Redirects []*url.URL

// ParseRedirects reads a comma-separated list of absolute URL prefixes such
// as https://courses.example.com/billing/.
func ParseRedirects(list string) (Redirects, error) {
	var out Redirects
	for _, s := range splitList(list) {
		u, err := parseRedirect(s)
		if err != nil {
			return nil, fmt.Errorf("allowed redirect %q: %w", s, err)
		}
		out = append(out, u)
	}
	return out, nil
}

func parseRedirect(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return nil, errors.New("not a URL")
	case u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())):
		return nil, errors.New("not https (plain http only for localhost)")
	case u.Host == "" || u.User != nil || u.Opaque != "":
		return nil, errors.New("not an absolute URL with a host")
	case hasDotSegment(u.Path):
		// A browser resolves them, so /billing/../admin is not under
		// /billing/ whatever its prefix says.
		return nil, errors.New("a path with . or .. segments")
	}
	return u, nil
}

func hasDotSegment(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// Check returns an error unless raw is under one of the allowed prefixes:
// same scheme and host, and a path that starts with the prefix's path at a
// segment boundary. Query and fragment are the caller's.
func (rs Redirects) Check(raw string) error {
	u, err := parseRedirect(raw)
	if err != nil {
		return fmt.Errorf("redirect URL %q is %w", raw, err)
	}
	for _, a := range rs {
		if !strings.EqualFold(a.Scheme, u.Scheme) || !strings.EqualFold(a.Host, u.Host) {
			continue
		}
		prefix := a.EscapedPath()
		path := u.EscapedPath()
		if prefix == "" || prefix == "/" || path == prefix ||
			strings.HasPrefix(path, strings.TrimSuffix(prefix, "/")+"/") {
			return nil
		}
	}
	return fmt.Errorf("redirect URL %q is not on the allowlist", raw)
}

// Pick returns raw if it is allowed, or def when raw is empty.
func (rs Redirects) Pick(raw, def, field string) (string, error) {
	if raw == "" {
		if def == "" {
			return "", BadRequest("bad_redirect", field+" is required")
		}
		return def, nil
	}
	if len(raw) > 2048 {
		return "", BadRequest("bad_redirect", field+" is too long")
	}
	if err := rs.Check(raw); err != nil {
		return "", BadRequest("bad_redirect", field+": "+err.Error())
	}
	return raw, nil
}

func splitList(list string) []string {
	var out []string
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
