package portal

import (
	"context"
	"net/http"

	"github.com/stripe/stripe-go/v76"

	"github.com/courseplatform/billing/shared/auth"
	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/frontend"
	"github.com/courseplatform/billing/shared/stripeapi"
)

// Request may name where the portal sends the user back.
type Request struct {
	ReturnURL string `json:"returnUrl,omitempty"`
}

// Response is the portal session to redirect the user to.
type Response struct {
	URL string `json:"url"`
}

// Service creates Billing Portal sessions.
type Service struct {
	frontend.Deps
}

// New returns the Portal function's handler.
func New(d frontend.Deps) http.Handler {
	s := &Service{Deps: d}
	return &frontend.Handler[Request]{
		Function: EntryPoint, Origins: d.Settings.Origins, Auth: d.Auth, Logger: d.Logger,
		Project: d.Settings.Project, Timeout: d.Settings.Timeout, Serve: s.Portal,
	}
}

// Portal opens the billing portal for user's own customer only: the
// customer comes from customers/{uid}, never from the request.
func (s *Service) Portal(ctx context.Context, user auth.User, req Request) (any, error) {
	ret, err := s.Settings.Redirects.Pick(req.ReturnURL, s.Settings.ReturnURL, "returnUrl")
	if err != nil {
		return nil, err
	}
	var customer *billing.Customer
	err = s.Store.View(ctx, func(ctx context.Context, tx billing.Tx) error {
		var err error
		customer, err = tx.Customer(ctx, user.UID)
		return err
	})
	if err != nil {
		return nil, frontend.Unavailable(err)
	}
	if customer == nil || customer.StripeCustomerID == "" {
		return nil, frontend.NotFound("no_billing_account", "there is no billing account to manage yet")
	}
	params := &stripe.BillingPortalSessionParams{
		Customer:  stripe.String(customer.StripeCustomerID),
		ReturnURL: stripe.String(ret),
	}
	params.Context = ctx
	ps, err := s.Stripe.BillingPortalSessions.New(params)
	if err != nil {
		return nil, frontend.StripeFailed(stripeapi.Describe(err))
	}
	return Response{URL: ps.URL}, nil
}
