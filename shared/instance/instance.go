// Package instance holds dependencies that live as long as one function
// instance.
//
// Cloud Run functions reuse an instance for many requests, so clients and
// resolved secrets are built once, on the first request that needs them,
// rather than in init() where a failure would crash the instance before it
// could answer anything. A build that fails is not remembered: the next
// request tries again, so a transient outage at cold start costs one failed
// request instead of an instance that fails until it is recycled. Requests
// that arrive while a build is running wait for that build instead of
// starting their own, so a burst of cold-start traffic does not hit Secret
// Manager or Firestore once per request.
package instance

import (
	"context"
	"errors"
	"sync"
)

// errBuildPanicked is what callers waiting on a build see if the build
// panics; the panic itself goes on up the goroutine that ran the build.
var errBuildPanicked = errors.New("instance: build panicked")

// Lazy builds a value once per instance on first use; a failed build is not
// cached. It is safe for concurrent use, and callers that arrive while a
// build is running share its result. The zero Lazy is not usable; call
// NewLazy.
type Lazy[T any] struct {
	build func(ctx context.Context) (T, error)

	mu       sync.Mutex
	built    bool
	val      T
	inflight *attempt[T]

	// onWait, if set, is called each time Get joins a build that another
	// caller started. Tests use it to know every caller is waiting before
	// they let the build finish.
	onWait func()
}

// attempt is one run of build, shared by every caller that arrived while it
// was running. done is closed once val and err are final.
type attempt[T any] struct {
	done chan struct{}
	val  T
	err  error
}

// NewLazy returns a Lazy that calls build on the first Get and again on each
// Get after a failed build.
func NewLazy[T any](build func(ctx context.Context) (T, error)) *Lazy[T] {
	return &Lazy[T]{build: build}
}

// Get returns the built value, building it first if no build has succeeded
// yet.
//
// The build runs with the context of the caller that started it. A caller
// that joins a running build stops waiting when its own ctx is done and
// returns ctx.Err(); the build goes on for the others.
func (l *Lazy[T]) Get(ctx context.Context) (T, error) {
	l.mu.Lock()
	if l.built {
		v := l.val
		l.mu.Unlock()
		return v, nil
	}
	if a := l.inflight; a != nil {
		l.mu.Unlock()
		if l.onWait != nil {
			l.onWait()
		}
		select {
		case <-a.done:
			return a.val, a.err
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
	}
	a := &attempt[T]{done: make(chan struct{})}
	l.inflight = a
	l.mu.Unlock()

	// The deferred func runs even if build panics, so waiters are released
	// and the next Get can try again.
	defer func() {
		l.mu.Lock()
		l.inflight = nil
		if a.err == nil {
			l.val, l.built = a.val, true
		}
		l.mu.Unlock()
		close(a.done)
	}()
	a.err = errBuildPanicked // replaced below unless build panics
	a.val, a.err = l.build(ctx)
	if a.err != nil {
		var zero T
		a.val = zero
	}
	return a.val, a.err
}
