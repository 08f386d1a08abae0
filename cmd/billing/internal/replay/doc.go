// Package replay turns captured Stripe payloads into signed webhook
// deliveries, so the billing webhook can be exercised end to end (locally,
// in CI, against staging) without Stripe sending anything.
//
// Captured payloads come in three shapes: complete events, which are sent
// byte for byte; the data member of an event ({"object": {...}}), which is
// wrapped in a deterministic envelope; and anything else, which is skipped.
// Determinism matters: replaying the same file twice must be a duplicate
// delivery of the same event, exactly as Stripe retries are.
package replay
