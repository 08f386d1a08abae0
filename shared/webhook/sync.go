package webhook

import (
	"context"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/courseplatform/billing/shared/billing"
)

// ProcessorFunc adapts a function to Processor.
type ProcessorFunc func(ctx context.Context, ev *stripe.Event) (billing.ApplyFunc, error)

// Prepare implements Processor.
func (f ProcessorFunc) Prepare(ctx context.Context, ev *stripe.Event) (billing.ApplyFunc, error) {
	return f(ctx, ev)
}

// Sync is the processor of every event whose effect is "store the current
// view of its object": view reads the object (from the payload or from
// Stripe), apply writes it in the event's transaction.
func Sync[T any](
	view func(context.Context, *stripe.Event) (T, time.Time, error),
	apply func(context.Context, billing.Tx, T, billing.Change) (billing.Outcome, string, error),
	now func() time.Time,
) Processor {
	return ProcessorFunc(func(ctx context.Context, ev *stripe.Event) (billing.ApplyFunc, error) {
		obj, asOf, err := view(ctx, ev)
		if err != nil {
			return nil, err
		}
		ch := billing.Change{
			EventID:   ev.ID,
			EventType: string(ev.Type),
			AsOf:      asOf,
			Livemode:  ev.Livemode,
			Now:       now().UTC().Truncate(time.Microsecond),
		}
		return func(ctx context.Context, tx billing.Tx) (billing.Outcome, string, error) {
			return apply(ctx, tx, obj, ch)
		}, nil
	})
}

// Routes maps each of a group's event types to one processor.
func Routes(g billing.Group, p Processor) map[string]Processor {
	m := make(map[string]Processor, len(g.Types))
	for _, t := range g.Types {
		m[t] = p
	}
	return m
}
