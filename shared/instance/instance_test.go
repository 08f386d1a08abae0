package instance

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

// waitingHook returns an onWait hook and a channel that receives once per
// caller that joins a running build.
func waitingHook() (func(), <-chan struct{}) {
	joined := make(chan struct{}, 1024)
	return func() { joined <- struct{}{} }, joined
}

// getAll calls l.Get from n goroutines at once and returns their results in
// no particular order.
func getAll[T any](l *Lazy[T], n int) ([]T, []error) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		vals  []T
		errs  []error
		start = make(chan struct{})
	)
	for range n {
		wg.Go(func() {
			<-start
			v, err := l.Get(context.Background())
			mu.Lock()
			vals, errs = append(vals, v), append(errs, err)
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return vals, errs
}

func TestGetConcurrentCallersShareOneSuccessfulBuild(t *testing.T) {
	const callers = 50
	var builds atomic.Int32
	release := make(chan struct{})
	l := NewLazy(func(context.Context) (int, error) {
		builds.Add(1)
		<-release
		return 42, nil
	})
	hook, joined := waitingHook()
	l.onWait = hook

	done := make(chan struct{})
	var vals []int
	var errs []error
	go func() {
		vals, errs = getAll(l, callers)
		close(done)
	}()
	// Hold the build until every other caller has joined it, so the test
	// proves sharing rather than luck of scheduling.
	for range callers - 1 {
		<-joined
	}
	close(release)
	<-done

	for i := range callers {
		if errs[i] != nil || vals[i] != 42 {
			t.Fatalf("Get = %d, %v; want 42, nil", vals[i], errs[i])
		}
	}
	if v, err := l.Get(context.Background()); err != nil || v != 42 {
		t.Fatalf("Get after success = %d, %v; want cached 42, nil", v, err)
	}
	if n := builds.Load(); n != 1 {
		t.Errorf("build called %d times; want 1 (success is cached)", n)
	}
}

func TestGetDoesNotCacheFailure(t *testing.T) {
	errDown := errors.New("dependency down")
	var builds atomic.Int32
	l := NewLazy(func(context.Context) (string, error) {
		if builds.Add(1) == 1 {
			return "partial", errDown
		}
		return "ok", nil
	})

	steps := []struct {
		name       string
		wantVal    string
		wantErr    error
		wantBuilds int32
	}{
		{"first call fails and returns the zero value", "", errDown, 1},
		{"second call retries and succeeds", "ok", nil, 2},
		{"third call uses the cached success", "ok", nil, 2},
	}
	for _, s := range steps {
		v, err := l.Get(context.Background())
		if v != s.wantVal || !errors.Is(err, s.wantErr) || builds.Load() != s.wantBuilds {
			t.Fatalf("%s: Get = %q, %v after %d builds; want %q, %v after %d",
				s.name, v, err, builds.Load(), s.wantVal, s.wantErr, s.wantBuilds)
		}
	}
}

func TestGetConcurrentCallersShareOneFailedBuildThenRetry(t *testing.T) {
	const callers = 20
	errDown := errors.New("dependency down")
	var builds atomic.Int32
	release := make(chan struct{})
	l := NewLazy(func(context.Context) (int, error) {
		if builds.Add(1) == 1 {
			<-release
			return 0, errDown
		}
		return 7, nil
	})
	hook, joined := waitingHook()
	l.onWait = hook

	done := make(chan struct{})
	var errs []error
	go func() {
		_, errs = getAll(l, callers)
		close(done)
	}()
	for range callers - 1 {
		<-joined
	}
	close(release)
	<-done

	for _, err := range errs {
		if !errors.Is(err, errDown) {
			t.Fatalf("Get during failing build = %v; want every caller to get %v", err, errDown)
		}
	}
	if n := builds.Load(); n != 1 {
		t.Fatalf("build called %d times during the failing attempt; want 1", n)
	}
	if v, err := l.Get(context.Background()); err != nil || v != 7 {
		t.Fatalf("Get after failed build = %d, %v; want a retry returning 7, nil", v, err)
	}
	if n := builds.Load(); n != 2 {
		t.Errorf("build called %d times; want 2 (one failure, one retry)", n)
	}
}

func TestGetWaiterWithDoneContextStopsWaiting(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	l := NewLazy(func(context.Context) (int, error) {
		close(started)
		<-release
		return 1, nil
	})

	first := make(chan error, 1)
	go func() {
		_, err := l.Get(context.Background())
		first <- err
	}()
	<-started

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Get(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get with canceled ctx while a build runs = %v; want context.Canceled", err)
	}

	close(release)
	if err := <-first; err != nil {
		t.Fatalf("Get that started the build = %v; want nil (a waiter leaving must not affect it)", err)
	}
	if v, err := l.Get(context.Background()); err != nil || v != 1 {
		t.Fatalf("Get after build = %d, %v; want 1, nil", v, err)
	}
}

func TestGetPanickingBuildReleasesWaitersAndIsRetried(t *testing.T) {
	var builds atomic.Int32
	started, release := make(chan struct{}), make(chan struct{})
	l := NewLazy(func(context.Context) (int, error) {
		if builds.Add(1) == 1 {
			close(started)
			<-release
			panic("boom")
		}
		return 3, nil
	})
	hook, joined := waitingHook()
	l.onWait = hook

	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		_, _ = l.Get(context.Background())
	}()
	<-started // the waiter must join this build, not start its own
	waiter := make(chan error, 1)
	go func() {
		_, err := l.Get(context.Background())
		waiter <- err
	}()
	<-joined
	close(release)

	if p := <-panicked; p != "boom" {
		t.Fatalf("builder goroutine recovered %v; want the build's panic to propagate", p)
	}
	if err := <-waiter; !errors.Is(err, errBuildPanicked) {
		t.Fatalf("waiter got %v; want %v", err, errBuildPanicked)
	}
	if v, err := l.Get(context.Background()); err != nil || v != 3 {
		t.Fatalf("Get after panicking build = %d, %v; want a retry returning 3, nil", v, err)
	}
}
