package stripelocal

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/stripe/stripe-go/v76"
)

// Errors are *stripe.Error values throughout, so that the Go methods return
// what a stripe-go caller would get and the HTTP layer renders them in
// Stripe's shape from one place (writeError).

func notFound(kind, id, param string) *stripe.Error {
	return &stripe.Error{Type: stripe.ErrorTypeInvalidRequest, Code: stripe.ErrorCodeResourceMissing, Param: param,
		Msg: fmt.Sprintf("No such %s: '%s'", kind, id), HTTPStatusCode: http.StatusNotFound}
}

// missingRef is a parameter naming an object that does not exist: Stripe
// answers 400 (the request is wrong), not 404 (the URL is).
func missingRef(kind, id, param string) *stripe.Error {
	e := notFound(kind, id, param)
	e.HTTPStatusCode = http.StatusBadRequest
	return e
}

func missingParam(param string) *stripe.Error {
	return &stripe.Error{Type: stripe.ErrorTypeInvalidRequest, Code: stripe.ErrorCodeParameterMissing, Param: param,
		Msg: "Missing required param: " + param + ".", HTTPStatusCode: http.StatusBadRequest}
}

func invalidRequest(param, msg string) *stripe.Error {
	return &stripe.Error{Type: stripe.ErrorTypeInvalidRequest, Param: param, Msg: msg, HTTPStatusCode: http.StatusBadRequest}
}

// unsupported is a request real Stripe would serve but the stand-in does
// not model; it fails loudly rather than pretend.
func unsupported(param, what string) *stripe.Error {
	return invalidRequest(param, "stripelocal does not support "+what)
}

func cardDeclined() *stripe.Error {
	return &stripe.Error{Type: stripe.ErrorTypeCard, Code: stripe.ErrorCodeCardDeclined, DeclineCode: "generic_decline",
		Msg: "Your card was declined.", HTTPStatusCode: http.StatusPaymentRequired}
}

func unauthorized(msg string) *stripe.Error {
	return &stripe.Error{Type: stripe.ErrorTypeInvalidRequest, Msg: msg, HTTPStatusCode: http.StatusUnauthorized}
}

func idempotencyMismatch(key string) *stripe.Error {
	return &stripe.Error{Type: stripe.ErrorTypeIdempotency,
		Msg: fmt.Sprintf("Keys for idempotent requests can only be used with the same parameters they were first used with. "+
			"Try using a key other than '%s' if you meant to execute a different request.", key),
		HTTPStatusCode: http.StatusBadRequest}
}

// injectedError is what FailNextRequests makes the API answer.
func injectedError(status int) *stripe.Error {
	switch status {
	case http.StatusTooManyRequests:
		return &stripe.Error{Type: stripe.ErrorTypeInvalidRequest, Code: stripe.ErrorCodeRateLimit,
			Msg: "Request rate limit exceeded. (stripelocal injected)", HTTPStatusCode: status}
	case http.StatusConflict:
		return &stripe.Error{Type: stripe.ErrorTypeInvalidRequest, Code: stripe.ErrorCodeLockTimeout,
			Msg:            "This object cannot be accessed right now because another API request or Stripe process is currently accessing it. (stripelocal injected)",
			HTTPStatusCode: status}
	}
	return &stripe.Error{Type: stripe.ErrorTypeAPI, Msg: "An unknown error occurred (stripelocal injected)", HTTPStatusCode: status}
}

// asStripeError turns any error into the Stripe error the API answers with;
// an error that is not a *stripe.Error is a bug in the stand-in: 500.
func asStripeError(err error) *stripe.Error {
	var se *stripe.Error
	if errors.As(err, &se) {
		return se
	}
	return &stripe.Error{Type: stripe.ErrorTypeAPI, Msg: "stripelocal: " + err.Error(), HTTPStatusCode: http.StatusInternalServerError}
}

// errorBody renders an error as Stripe's API does.
func errorBody(e *stripe.Error, requestID string) []byte {
	inner := map[string]any{"type": e.Type, "message": e.Msg}
	if e.Code != "" {
		inner["code"] = e.Code
		inner["doc_url"] = "https://stripe.com/docs/error-codes/" + string(e.Code)
	}
	if e.Param != "" {
		inner["param"] = e.Param
	}
	if e.DeclineCode != "" {
		inner["decline_code"] = e.DeclineCode
	}
	if requestID != "" {
		inner["request_log_url"] = "https://dashboard.stripe.com/test/logs/" + requestID
	}
	b, _ := json.Marshal(map[string]any{"error": inner})
	return b
}

func statusOf(e *stripe.Error) int {
	if e.HTTPStatusCode == 0 {
		return http.StatusBadRequest
	}
	return e.HTTPStatusCode
}
