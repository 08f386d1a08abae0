package checkout

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/courseplatform/billing/shared/auth"
	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/frontend"
	"github.com/courseplatform/billing/shared/stripeapi"
)

// Request is the body the web app sends. It names a course and, at most,
// where to send the buyer back; never a price, an amount or a customer.
type Request struct {
	CourseID   string `json:"courseId"`
	SuccessURL string `json:"successUrl,omitempty"`
	CancelURL  string `json:"cancelUrl,omitempty"`
}

// Response is the Checkout Session to redirect the buyer to.
type Response struct {
	ID  string `json:"id"`
	URL string `json:"url"`
}

// Service creates Checkout Sessions.
type Service struct {
	frontend.Deps
	// Now and NewKey are the clock and the source of reservation keys;
	// time.Now and random keys when nil.
	Now    func() time.Time
	NewKey func() string
}

// New returns the Checkout function's handler.
func New(d frontend.Deps) http.Handler {
	return Handler(&Service{Deps: d})
}

// Handler wraps s in the frontend contract.
func Handler(s *Service) http.Handler {
	return &frontend.Handler[Request]{
		Function: EntryPoint, Origins: s.Settings.Origins, Auth: s.Auth, Logger: s.Logger,
		Project: s.Settings.Project, Timeout: s.Settings.Timeout, Serve: s.Checkout,
	}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) newKey() string {
	if s.NewKey != nil {
		return s.NewKey()
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Checkout sells req.CourseID to user.
func (s *Service) Checkout(ctx context.Context, user auth.User, req Request) (any, error) {
	if err := checkCourseID(req.CourseID); err != nil {
		return nil, err
	}
	success, err := s.Settings.Redirects.Pick(req.SuccessURL, s.Settings.SuccessURL, "successUrl")
	if err != nil {
		return nil, err
	}
	cancel, err := s.Settings.Redirects.Pick(req.CancelURL, s.Settings.CancelURL, "cancelUrl")
	if err != nil {
		return nil, err
	}

	var course *billing.Course
	var customer *billing.Customer
	err = s.Store.View(ctx, func(ctx context.Context, tx billing.Tx) error {
		var err error
		if course, err = tx.Course(ctx, req.CourseID); err != nil {
			return err
		}
		customer, err = tx.Customer(ctx, user.UID)
		return err
	})
	if err != nil {
		return nil, frontend.Unavailable(err)
	}
	switch {
	case course == nil || course.Livemode != s.Settings.Livemode:
		return nil, frontend.BadRequest("unknown_course", "there is no course "+strconv.Quote(req.CourseID))
	case !course.Sellable():
		return nil, frontend.BadRequest("course_unavailable", "this course is not on sale")
	}
	if customer != nil {
		if _, owned := customer.Entitlements[course.ID]; owned {
			return nil, frontend.Conflict("already_owned", "you already have access to this course")
		}
	}

	cus, err := s.customerFor(ctx, user)
	if err != nil {
		return nil, err
	}
	md := map[string]string{"uid": user.UID, stripeapi.CourseIDKey: course.ID}
	params := &stripe.CheckoutSessionParams{
		Mode:              stripe.String(course.Mode),
		Customer:          stripe.String(cus),
		ClientReferenceID: stripe.String(user.UID),
		LineItems:         []*stripe.CheckoutSessionLineItemParams{{Price: stripe.String(course.StripePriceID), Quantity: stripe.Int64(1)}},
		SuccessURL:        stripe.String(success),
		CancelURL:         stripe.String(cancel),
	}
	params.Metadata = md
	if course.Mode == billing.ModeSubscription {
		params.SubscriptionData = &stripe.CheckoutSessionSubscriptionDataParams{Metadata: md}
	} else {
		params.PaymentIntentData = &stripe.CheckoutSessionPaymentIntentDataParams{Metadata: md}
	}
	params.Context = ctx
	// A double click within the same minute gets the same session back.
	params.SetIdempotencyKey(sessionKey(user.UID, course, cus, success, cancel, s.now()))
	cs, err := s.Stripe.CheckoutSessions.New(params)
	if err != nil {
		return nil, frontend.StripeFailed(stripeapi.Describe(err))
	}
	if err := s.retirePrevious(ctx, user.UID, course.ID, cs); err != nil {
		return nil, err
	}
	return Response{ID: cs.ID, URL: cs.URL}, nil
}

// retirePrevious makes cs the user's one open checkout of the course: the
// session it replaces is expired, so that two tabs cannot both be paid. If
// that one was paid already (its webhook not yet applied), cs is expired
// instead and the user is told the course is theirs. A completed one still
// unpaid (a bank debit pending or failed) does not block a new attempt.
func (s *Service) retirePrevious(ctx context.Context, uid, course string, cs *stripe.CheckoutSession) error {
	var prev string
	err := s.Store.Update(ctx, func(ctx context.Context, tx billing.Tx) error {
		var err error
		prev, err = billing.RecordCheckout(ctx, tx, uid, course, cs.ID, s.now())
		return err
	})
	if err != nil {
		return frontend.Unavailable(err)
	}
	if prev == "" {
		return nil
	}
	old, err := s.Stripe.CheckoutSessions.Get(prev, &stripe.CheckoutSessionParams{Params: stripe.Params{Context: ctx}})
	switch {
	case stripeapi.IsNotFound(err):
		return nil
	case err != nil:
		return frontend.StripeFailed(stripeapi.Describe(err))
	case old.Status == stripe.CheckoutSessionStatusOpen:
		if _, err := s.Stripe.CheckoutSessions.Expire(prev, &stripe.CheckoutSessionExpireParams{Params: stripe.Params{Context: ctx}}); err != nil {
			return frontend.StripeFailed(stripeapi.Describe(err))
		}
	case old.Status == stripe.CheckoutSessionStatusComplete &&
		(old.PaymentStatus == stripe.CheckoutSessionPaymentStatusPaid || old.PaymentStatus == stripe.CheckoutSessionPaymentStatusNoPaymentRequired):
		if _, err := s.Stripe.CheckoutSessions.Expire(cs.ID, &stripe.CheckoutSessionExpireParams{Params: stripe.Params{Context: ctx}}); err != nil {
			return frontend.StripeFailed(stripeapi.Describe(err))
		}
		return frontend.Conflict("already_owned", "this course was just paid for; access follows shortly")
	}
	return nil
}

// customerFor returns the user's Stripe customer, creating exactly one the
// first time even when several checkouts race: the creation key is
// reserved in Firestore before Stripe is called, and Stripe answers every
// call made with that idempotency key with the same customer.
func (s *Service) customerFor(ctx context.Context, user auth.User) (string, error) {
	var existing, key string
	fresh := s.newKey()
	err := s.Store.Update(ctx, func(ctx context.Context, tx billing.Tx) error {
		var err error
		existing, key, err = billing.ReserveCustomer(ctx, tx, user.UID, fresh, s.now())
		return err
	})
	if err != nil {
		return "", frontend.Unavailable(err)
	}
	if existing != "" {
		return existing, nil
	}
	params := &stripe.CustomerParams{}
	if user.Email != "" {
		params.Email = stripe.String(user.Email)
	}
	params.AddMetadata("uid", user.UID)
	params.Context = ctx
	params.SetIdempotencyKey("customer-" + key + "-" + hashed(user.UID))
	c, err := s.Stripe.Customers.New(params)
	if err != nil {
		return "", frontend.StripeFailed(stripeapi.Describe(err))
	}
	var cus string
	err = s.Store.Update(ctx, func(ctx context.Context, tx billing.Tx) error {
		var err error
		cus, err = billing.AdoptCustomer(ctx, tx, user.UID, c.ID, user.Email, c.Livemode, s.now())
		return err
	})
	if err != nil {
		return "", frontend.Unavailable(err)
	}
	return cus, nil
}

func checkCourseID(id string) error {
	switch {
	case strings.TrimSpace(id) == "":
		return frontend.BadRequest("bad_body", "courseId is required")
	case len(id) > 128:
		return frontend.BadRequest("unknown_course", "there is no course with an id that long")
	case strings.ContainsRune(id, 0) || !billing.UsableID(id):
		return frontend.BadRequest("unknown_course", "there is no course "+strconv.Quote(id))
	}
	return nil
}

func sessionKey(uid string, c *billing.Course, cus, success, cancel string, now time.Time) string {
	minute := strconv.FormatInt(now.Unix()/60, 10)
	return "checkout-" + hashed(uid, c.ID, c.StripePriceID, cus, success, cancel, minute)
}

func hashed(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}
