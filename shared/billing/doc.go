// Package billing holds the domain of the course platform's billing: the
// documents kept in the database, the rules that derive access from them, the
// Stripe event groups each webhook function owns, and the interfaces that the
// storage and Stripe adapters implement.
//
// It does no I/O. Adapters live in their own packages (shared/store/...,
// shared/stripeapi) and the webhook functions combine them.
package billing
