// Package stripelocal is a stateful local stand-in for the part of the
// Stripe API the billing functions use, for offline development and for
// tests that need memory: products and prices, customers, Checkout, the
// subscriptions and invoices Checkout starts, the billing portal, and the
// signed webhook events all of these emit.
//
// stripe-mock answers with fixtures and remembers nothing, so it can check
// shapes but not flows. The stand-in keeps state, runs a clock that tests
// advance (renewals, failed payments and their retries, trials, cancellation
// at period end), records every event it emits as the truth to compare a
// receiver's database with, and delivers those events the way Stripe does:
// signed, at least once, in any order, concurrently, at the endpoint's API
// version.
//
// # Use
//
// A *Stripe is an http.Handler. Serve it (httptest.NewServer, or the
// stripe-local command) and point stripe-go's API backend at it, or call
// Client for a stripe-go client wired to it in process:
//
//	s := stripelocal.New(stripelocal.Options{Seed: 1})
//	sc := s.Client()                                   // or any client with URL = server URL, key sk_test_…
//	cs, _ := sc.CheckoutSessions.New(params)           // as the checkout function does
//	s.CompleteCheckout(cs.ID, stripelocal.OutcomePaid) // the buyer pays
//	s.SetPaymentFails(customerID, true)                // their card starts to decline
//	s.Advance(31 * 24 * time.Hour)                     // renewal fails: past_due, retries scheduled
//	s.AddEndpoint(stripelocal.Endpoint{URL: u, Secret: whsec})
//	rep := s.Deliver(ctx, stripelocal.DeliveryOptions{Duplicates: 0.3, Shuffle: true, Concurrency: 4})
//	truth := s.Subscriptions()                         // compare with what the receiver stored
//
// # API
//
// Requests are form-encoded as Stripe's (a[b][c]=, items[0][price]=,
// expand[]=, metadata[k]=, an empty metadata value unsets the key) and need
// `Authorization: Bearer sk_test_…` (sk_live_ with Options.Livemode; Basic
// auth as curl -u sends it works too). POSTs honour Idempotency-Key: the
// same key and parameters replay the first answer (Idempotent-Replayed:
// true), the same key with other parameters or on another endpoint is a 400
// idempotency_error. Errors have Stripe's shape and status: 400
// invalid_request_error (parameter_missing, parameter_unknown,
// resource_missing for a referenced object), 401, 402 card_error, 404
// resource_missing, and 409, 429, 5xx when injected with FailNextRequests.
// Parameters the stand-in does not know are rejected as Stripe rejects
// them; parameters of features it does not model (price_data, setup mode,
// item changes) are rejected with a message saying so, rather than ignored.
//
// Answers are rendered at API version 2023-10-16 with every key of
// stripe-go v76's struct; expandable fields are ids unless expand[] asks
// (customer, subscription, latest_invoice, invoice, items.data.price.product,
// line_items, data.* on lists). A Stripe-Version header of 2025-03-31.basil
// or later gets the newer shapes (see BasilVersion).
//
// Served: customers (create, retrieve, update, delete, list by email),
// products and prices (create, retrieve, update, list; a product's
// default_price is set by update and expands), Checkout sessions
// (create in payment or subscription mode, retrieve, list, line_items,
// expire), subscriptions (retrieve, list, update cancel_at_period_end,
// pause_collection, metadata, description; cancel; resume), invoices
// (retrieve, list, pay, void, mark_uncollectible), billing portal sessions
// (create) and events (retrieve, list).
//
// # Control
//
// The lifecycle methods (CompleteCheckout, ExpireCheckout, Advance,
// SetPaymentFails, Recover, VoidInvoice, CancelAtPeriodEnd, CancelNow,
// Pause, Resume, DeleteCustomer) are also served under /_local/ as JSON
// (see control.go), and a session's url opens a local Checkout page with a
// button per outcome that redirects to success_url; a portal session's url
// opens a page with the customer's subscriptions and the portal's actions.
//
// # Events
//
// Every change to an object is followed by an event carrying the object as
// it then is, with previous_attributes on *.updated events, created at the
// stand-in's clock. The sequences, in order:
//
//	checkout, subscription mode, paid:   [customer.created] customer.subscription.created (incomplete),
//	                                     invoice.created, invoice.finalized, invoice.paid,
//	                                     invoice.payment_succeeded, customer.subscription.updated (active),
//	                                     checkout.session.completed
//	  with a trial:                      as paid, but trialing, a free invoice, no updated event,
//	                                     payment_status no_payment_required
//	  async_pending, then succeeded:     … invoice.finalized, checkout.session.completed (unpaid);
//	                                     invoice.paid, invoice.payment_succeeded, customer.subscription.updated,
//	                                     checkout.session.async_payment_succeeded
//	  async_failed:                      invoice.payment_failed, checkout.session.async_payment_failed;
//	                                     23 h after creation: invoice.voided, customer.subscription.updated
//	                                     (incomplete_expired)
//	checkout, payment mode:              checkout.session.completed [, .async_payment_succeeded|failed]
//	declined:                            nothing; a 402 card_error; the session stays open
//	session expiry (24 h, or Expire):    checkout.session.expired
//	renewal:                             customer.subscription.updated, invoice.created, invoice.finalized,
//	                                     then invoice.paid, invoice.payment_succeeded
//	                                     or invoice.payment_failed, customer.subscription.updated (past_due)
//	retry (Options.RetrySchedule):       invoice.paid, invoice.payment_succeeded, customer.subscription.updated
//	                                     (active), or invoice.payment_failed; after the last:
//	                                     [invoice.marked_uncollectible] then customer.subscription.deleted and
//	                                     invoice.updated (collection stopped), or customer.subscription.updated
//	                                     (unpaid)
//	Recover:                             invoice.paid, invoice.payment_succeeded, customer.subscription.updated
//	trial:                               customer.subscription.trial_will_end 3 days before the end (trials
//	                                     over 3 days), then a renewal with the status going trialing → active
//	CancelAtPeriodEnd:                   customer.subscription.updated; at the period's end
//	                                     customer.subscription.deleted
//	CancelNow:                           customer.subscription.deleted [, invoice.updated]
//	Pause / Resume:                      customer.subscription.paused, customer.subscription.updated /
//	                                     customer.subscription.resumed, customer.subscription.updated and a
//	                                     renewal's invoice events (the cycle restarts now)
//	pause_collection (API update):       customer.subscription.updated; renewals then go invoice.voided,
//	                                     invoice.marked_uncollectible, or stay drafts (invoice.created only);
//	                                     at resumes_at: customer.subscription.updated
//	DeleteCustomer:                      customer.subscription.deleted for each live subscription,
//	                                     customer.deleted
//	API creates and updates:             customer.created|updated|deleted, product.created|updated,
//	                                     price.created|updated, billing_portal.session.created
//
// Several events about one object often share a second, as with Stripe; a
// receiver that orders views by the event's created time cannot tell them
// apart, and must read the object back (or compare fields) to converge.
//
// # Not modeled
//
// Payment intents, charges and payment methods are ids only (not
// retrievable, not expandable), so there are no payment_intent.* or
// charge.* events; there are no invoice items, prorations, discounts,
// taxes, quantity changes, schedules, test clocks or Connect; Checkout
// supports prices only (no price_data), hosted UI, payment and subscription
// modes; invoice.payment_action_required (3-D Secure) never happens; a
// renewal invoice is finalized at once rather than an hour later; the clock
// has one-second resolution and only moves forward.
package stripelocal
