package firestore_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courseplatform/billing/shared/billing"
	"github.com/courseplatform/billing/shared/store/firestore/firestoretest"
	"github.com/courseplatform/billing/shared/store/firestore"
)

func TestZZProbe(t *testing.T) {
	s, _ := firestoretest.Open(t)
	var calls [16]atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	t1 := time.Now()
	for i := range 16 {
		wg.Go(func() {
			<-start
			_, _, err := s.ApplyEvent(context.Background(), record(fmt.Sprintf("evt_%d", i)), func(ctx context.Context, tx billing.Tx) (billing.Outcome, string, error) {
				calls[i].Add(1)
				c, err := tx.Customer(ctx, "counter")
				if err != nil {
					return "", "", err
				}
				n := 0
				if c != nil {
					n, _ = strconv.Atoi(c.Email)
				}
				return billing.Applied, "", tx.PutCustomer("counter", &billing.Customer{Email: strconv.Itoa(n + 1)})
			})
			if err != nil {
				t.Log(i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	var max int32
	for i := range calls {
		if c := calls[i].Load(); c > max {
			max = c
		}
	}
	t.Logf("max fn calls %d, attempts %d, elapsed %v", max, firestore.DebugAttempts.Load(), time.Since(t1))
}
