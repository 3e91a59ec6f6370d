package loadgen

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/api/pb"
)

// tracker matches sends with commits.
type tracker struct {
	mu        sync.Mutex
	index     map[common.Hash]int
	sentAt    []time.Time
	latencies []time.Duration
	last      time.Time
	blocks    int
	head      uint64 // the highest block seen
	changed   chan struct{}
}

// newTracker tracks the transfers with hashes, on a chain at head.
func newTracker(hashes []common.Hash, head uint64) *tracker {
	t := &tracker{index: make(map[common.Hash]int, len(hashes)), sentAt: make([]time.Time, len(hashes)), head: head, changed: make(chan struct{}, 1)}
	for i, h := range hashes {
		t.index[h] = i
	}
	return t
}

func (t *tracker) sent(from, to int, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := from; i < to; i++ {
		t.sentAt[i] = at
	}
}

// rehash records that transfer i, signed again, now has hash h instead of old.
func (t *tracker) rehash(i int, old, h common.Hash) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.index, old)
	t.index[h] = i
}

// latestHead is the highest block the stream has shown.
func (t *tracker) latestHead() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.head
}

func (t *tracker) committed(b *pb.Block, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.head = max(t.head, b.GetHeader().GetHeight())
	n := 0
	for _, h := range b.TxHashes {
		i, ok := t.index[common.HexToHash(h)]
		if !ok || t.sentAt[i].IsZero() {
			continue
		}
		t.latencies = append(t.latencies, at.Sub(t.sentAt[i]))
		n++
	}
	if n > 0 {
		t.last, t.blocks = at, t.blocks+1
	}
	select {
	case t.changed <- struct{}{}:
	default:
	}
}

func (t *tracker) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.latencies)
}

// wait blocks until want transactions committed.
func (t *tracker) wait(ctx context.Context, want int, subErr <-chan error, progress func(int, int)) error {
	idle := time.NewTimer(30 * time.Second)
	defer idle.Stop()
	for t.count() < want {
		select {
		case <-t.changed:
			idle.Reset(30 * time.Second)
			if progress != nil {
				progress(want, t.count())
			}
		case err := <-subErr:
			return fmt.Errorf("block stream ended: %v", err)
		case <-idle.C:
			return fmt.Errorf("only %d of %d admitted transactions committed; nothing new for 30s", t.count(), want)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (t *tracker) summarize(r *Result, start time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r.Committed, r.Blocks = len(t.latencies), t.blocks
	r.Duration = t.last.Sub(start)
	if r.Duration > 0 {
		r.TPS = float64(r.Committed) / r.Duration.Seconds()
	}
	l := append([]time.Duration(nil), t.latencies...)
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	q := func(p float64) time.Duration {
		if len(l) == 0 {
			return 0
		}
		return l[min(len(l)-1, int(p*float64(len(l))))]
	}
	r.LatencyP50, r.LatencyP95, r.LatencyP99, r.LatencyMax = q(0.50), q(0.95), q(0.99), q(1)
}

// follow streams committed blocks into the tracker.
func (r *Runner) follow(ctx context.Context, from uint64, t *tracker) error {
	stream, err := r.c.RPC().SubscribeBlocks(ctx, &pb.SubscribeBlocksRequest{ChainId: r.c.ChainID(), FromHeight: from})
	if err != nil {
		return err
	}
	for {
		b, err := stream.Recv()
		if err != nil {
			return err
		}
		t.committed(b, time.Now())
	}
}
