package loadgen

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tallyhq/tally/engine/api/pb"
)

// send pushes every prepared transaction: closed-loop with Workers senders,
// or open-loop at RatePerSec in 10 ms slices.
func (r *Runner) send(ctx context.Context, t *tracker, res *Result, progress func(int, int)) error {
	var mu sync.Mutex
	record := func(results []*pb.TxResult) {
		mu.Lock()
		defer mu.Unlock()
		for _, x := range results {
			res.Sent++
			if x.Code == pb.ErrorCode_OK {
				res.Admitted++
			} else {
				res.Rejected[x.Code.String()]++
			}
		}
	}
	var resigned atomic.Int64
	batch := func(ctx context.Context, t *tracker, from, to int, record func([]*pb.TxResult)) error {
		n, err := r.refresh(from, to, t.latestHead(), t)
		resigned.Add(int64(n))
		if err != nil {
			return err
		}
		return r.sendBatch(ctx, t, from, to, record)
	}
	defer func() { res.Resigned = int(resigned.Load()) }()
	if r.cfg.RatePerSec > 0 {
		return r.sendOpen(ctx, t, record, batch)
	}
	return r.sendClosed(ctx, t, record, batch)
}

// batchFunc sends transfers [from, to).
type batchFunc func(ctx context.Context, t *tracker, from, to int, record func([]*pb.TxResult)) error

func (r *Runner) sendBatch(ctx context.Context, t *tracker, from, to int, record func([]*pb.TxResult)) error {
	t.sent(from, to, time.Now())
	res, err := r.c.SendRaw(ctx, r.txs[from:to])
	if err != nil {
		return err
	}
	record(res)
	return nil
}

func (r *Runner) sendClosed(ctx context.Context, t *tracker, record func([]*pb.TxResult), batch batchFunc) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, r.cfg.Workers)
	for w := 0; w < r.cfg.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				from := int(next.Add(int64(r.cfg.Batch))) - r.cfg.Batch
				if from >= len(r.txs) {
					return
				}
				if err := batch(ctx, t, from, min(from+r.cfg.Batch, len(r.txs)), record); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func (r *Runner) sendOpen(ctx context.Context, t *tracker, record func([]*pb.TxResult), batch batchFunc) error {
	const slice = 10 * time.Millisecond
	perSlice := max(1, r.cfg.RatePerSec/100)
	tick := time.NewTicker(slice)
	defer tick.Stop()
	var wg sync.WaitGroup
	errs := make(chan error, len(r.txs)/perSlice+1)
	for from := 0; from < len(r.txs); from += perSlice {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
		to := min(from+perSlice, len(r.txs))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := batch(ctx, t, from, to, record); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}
