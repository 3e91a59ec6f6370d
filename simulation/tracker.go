package simulation

import (
	"context"
	"math/big"
	"sort"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/api/pb"
	"github.com/tallyhq/tally/engine/settlement"
	"github.com/tallyhq/tally/engine/types"
	"github.com/tallyhq/tally/hubchain"
)

// sentTx is what the tracker knows of a transaction the workload sent.
type sentTx struct {
	at         time.Time
	chain      string
	kind       string
	blockLimit uint64 // the chain drops it, uncommitted, once its head reaches this
}

// pos is a transaction's place in a chain.
type pos struct {
	height uint64
	index  int
}

func (a pos) before(b pos) bool {
	return a.height < b.height || (a.height == b.height && a.index < b.index)
}

type payment struct {
	at  time.Time
	pos pos
}

// tracker follows every chain's committed blocks and the hub's bookings and
// turns them into throughput, latency and settlement lag.
type tracker struct {
	mu        sync.Mutex
	start     time.Time
	sent      map[common.Hash]sentTx
	pending   int
	committed map[string]int         // per kind, status OK
	failed    map[string]int         // per receipt status text
	rejected  map[string]int         // per admission error code
	perSecond map[string]map[int]int // chain → second → committed
	latencies []time.Duration
	payments  map[string][]payment      // chain → payments in commit order
	settles   map[string]map[uint64]pos // chain → epoch → settle position
	booked    map[string]map[uint64]time.Time
	heads     map[string]uint64 // chain → highest block seen
	changed   chan struct{}
}

func newTracker(start time.Time) *tracker {
	return &tracker{start: start, sent: make(map[common.Hash]sentTx), committed: map[string]int{}, failed: map[string]int{}, rejected: map[string]int{},
		perSecond: map[string]map[int]int{}, payments: map[string][]payment{}, settles: map[string]map[uint64]pos{},
		booked: map[string]map[uint64]time.Time{}, heads: map[string]uint64{}, changed: make(chan struct{}, 1)}
}

func (t *tracker) track(hash common.Hash, chain, kind string, blockLimit uint64, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sent[hash] = sentTx{at: at, chain: chain, kind: kind, blockLimit: blockLimit}
	t.pending++
}

// refused forgets a transaction the node did not admit.
func (t *tracker) refused(hash common.Hash) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.sent[hash]; ok {
		delete(t.sent, hash)
		t.pending--
	}
}

func (t *tracker) reject(code string, n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rejected[code] += n
}

func (t *tracker) outstanding() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pending
}

// block records a committed user-chain block.
func (t *tracker) block(chain string, b *pb.Block, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	h := b.Header.Height
	t.heads[chain] = max(t.heads[chain], h)
	for i, raw := range b.Receipts {
		r, err := types.DecodeReceipt(raw)
		if err != nil {
			continue
		}
		t.receipt(chain, r, pos{h, i}, at)
	}
	select {
	case t.changed <- struct{}{}:
	default:
	}
}

func (t *tracker) receipt(chain string, r *types.Receipt, p pos, at time.Time) {
	for _, l := range r.Logs {
		if l.Address == settlement.ShadowAddress && l.Topics[0] == settlement.EvEpochSettled.ID {
			if t.settles[chain] == nil {
				t.settles[chain] = map[uint64]pos{}
			}
			t.settles[chain][new(big.Int).SetBytes(l.Topics[1][:]).Uint64()] = p
		}
	}
	s, ok := t.sent[r.TxHash]
	if !ok {
		return
	}
	delete(t.sent, r.TxHash)
	t.pending--
	if r.Status != types.StatusOK {
		t.failed[s.kind+": "+r.Status.String()]++
		return
	}
	t.committed[s.kind]++
	t.latencies = append(t.latencies, at.Sub(s.at))
	if t.perSecond[chain] == nil {
		t.perSecond[chain] = map[int]int{}
	}
	t.perSecond[chain][int(at.Sub(t.start)/time.Second)]++
	if s.kind == opPay {
		t.payments[chain] = append(t.payments[chain], payment{at: at, pos: p})
	}
}

// hubBlock records the hub's bookings.
func (t *tracker) hubBlock(b *pb.Block, at time.Time) {
	ev := hubchain.New().Events["SummaryBooked"]
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, raw := range b.Receipts {
		r, err := types.DecodeReceipt(raw)
		if err != nil || r.Status != types.StatusOK {
			continue
		}
		for _, l := range r.Logs {
			if l.Address != hubchain.Address || l.Topics[0] != ev.ID {
				continue
			}
			vals, err := ev.Inputs.NonIndexed().Unpack(l.Data)
			if err != nil {
				continue
			}
			chain := vals[0].(string)
			if t.booked[chain] == nil {
				t.booked[chain] = map[uint64]time.Time{}
			}
			t.booked[chain][new(big.Int).SetBytes(l.Topics[1][:]).Uint64()] = at
		}
	}
}

// settlementLags pairs each payment with the first booked epoch whose
// settle comes after it.
func (t *tracker) settlementLags() []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var lags []time.Duration
	for chain, pays := range t.payments {
		type ep struct {
			seq uint64
			p   pos
		}
		var eps []ep
		for seq, p := range t.settles[chain] {
			eps = append(eps, ep{seq, p})
		}
		sort.Slice(eps, func(i, j int) bool { return eps[i].seq < eps[j].seq })
		k := 0
		for _, py := range pays {
			for k < len(eps) && !py.pos.before(eps[k].p) {
				k++
			}
			if k == len(eps) {
				break
			}
			if at, ok := t.booked[chain][eps[k].seq]; ok {
				lags = append(lags, at.Sub(py.at))
			}
		}
	}
	return lags
}

// follow streams a chain's blocks into fn, resuming after a broken stream
// (a restarted node) from the next height.
func follow(ctx context.Context, c *Chain, fn func(*pb.Block, time.Time)) {
	next := uint64(1)
	for ctx.Err() == nil {
		stream, err := c.Client.RPC().SubscribeBlocks(ctx, &pb.SubscribeBlocksRequest{ChainId: c.ID, FromHeight: next, WithReceipts: true})
		for err == nil {
			var b *pb.Block
			if b, err = stream.Recv(); err == nil {
				fn(b, time.Now())
				next = b.Header.Height + 1
			}
		}
		sleepCtx(ctx, 50*time.Millisecond)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (t *tracker) committedTotal() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, c := range t.committed {
		n += c
	}
	return n
}

// lostByChain counts, per chain, the admitted transactions that never
// committed: lost ones, and expired ones (the chain's head passed their
// block limit while they waited, so the chain dropped them by its rules; a
// client would sign them again).
func (t *tracker) lostByChain() (lost, expired map[string]int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	lost, expired = map[string]int{}, map[string]int{}
	for _, s := range t.sent {
		if s.blockLimit <= t.heads[s.chain] {
			expired[s.chain]++
		} else {
			lost[s.chain]++
		}
	}
	return lost, expired
}

// unresolved counts the admitted transactions that are neither committed
// nor expired.
func (t *tracker) unresolved() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, s := range t.sent {
		if s.blockLimit > t.heads[s.chain] {
			n++
		}
	}
	return n
}
