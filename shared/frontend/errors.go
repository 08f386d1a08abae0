package frontend

import (
	"errors"
	"net/http"
)

// Error is an answer the caller caused or can act on. Its Code and Message
// are shown to the caller as {"error":{"code":…,"message":…}}; they never
// carry secrets or internals.
type Error struct {
	Status  int
	Code    string
	Message string
	// Err is the cause, for logs only.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Message + ": " + e.Err.Error()
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// The answers of the frontend functions, one place for every status.
func BadRequest(code, msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: msg}
}

func Unauthenticated(msg string, cause error) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: "unauthenticated", Message: msg, Err: cause}
}

func Forbidden(code, msg string) *Error {
	return &Error{Status: http.StatusForbidden, Code: code, Message: msg}
}

func NotFound(code, msg string) *Error {
	return &Error{Status: http.StatusNotFound, Code: code, Message: msg}
}

func Conflict(code, msg string) *Error {
	return &Error{Status: http.StatusConflict, Code: code, Message: msg}
}

// StripeFailed is a Stripe API failure: 502, safe to retry.
func StripeFailed(cause error) *Error {
	return &Error{Status: http.StatusBadGateway, Code: "payment_provider_error",
		Message: "the payment provider did not answer as expected; try again", Err: cause}
}

// Unavailable is any other failure not caused by the request (Firestore,
// token keys): 503, safe to retry.
func Unavailable(cause error) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable",
		Message: "temporarily unavailable; try again", Err: cause}
}

// asError turns any error into the answer to give: an *Error as it is,
// anything else a 503.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Unavailable(err)
}
