package webhook

import (
	"errors"
	"net/http"
)

// requestErr is an error caused by the request itself: retrying the same
// request can never succeed.
type requestErr struct {
	status int
	msg    string
	err    error
}

func (e *requestErr) Error() string {
	if e.err != nil {
		return e.msg + ": " + e.err.Error()
	}
	return e.msg
}

func (e *requestErr) Unwrap() error { return e.err }

func requestError(msg string, err error) error {
	return &requestErr{status: http.StatusBadRequest, msg: msg, err: err}
}

var (
	errMethod   = &requestErr{status: http.StatusMethodNotAllowed, msg: "only POST is accepted"}
	errTooLarge = &requestErr{status: http.StatusRequestEntityTooLarge, msg: "body too large"}
)

// statusOf is the one place errors become status codes: the request's own
// faults are 4xx; everything else (store, Stripe, timeouts) is 5xx, so that
// Stripe delivers the event again.
func statusOf(err error) int {
	if err == nil {
		return http.StatusOK
	}
	var re *requestErr
	if errors.As(err, &re) {
		return re.status
	}
	return http.StatusServiceUnavailable
}

// publicMessage is what the response body may say about err: the request's
// own fault in words, never the internals of a failed dependency.
func publicMessage(err error) string {
	var re *requestErr
	if errors.As(err, &re) {
		return re.msg
	}
	return "temporarily unable to record the event; retry later"
}
