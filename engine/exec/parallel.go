package exec

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/types"
)

// Schedule assigns every transaction a wave: a transaction's wave is one
// more than the latest wave of any earlier transaction it conflicts with, so
// transactions in one wave never conflict and every conflict runs in block
// order. Deltas on one key do not conflict with each other; barriers
// (transactions that cannot declare their keys, such as EVM calls) get a
// wave of their own and fence everything after them.
func Schedule(accs [][]Access, barrier []bool) []int {
	type marks struct{ read, write, delta int }
	keys := make(map[string]*marks)
	wave := make([]int, len(accs))
	floor, top := 0, 0
	for i := range accs {
		if barrier[i] {
			wave[i] = top + 1
			floor, top = wave[i], wave[i]
			continue
		}
		w := floor + 1
		for _, a := range accs[i] {
			m := keys[a.Key]
			if m == nil {
				continue
			}
			w = max(w, m.write+1)
			if a.Mode != Read {
				w = max(w, m.read+1)
			}
			if a.Mode != Delta {
				w = max(w, m.delta+1)
			}
		}
		for _, a := range accs[i] {
			m := keys[a.Key]
			if m == nil {
				m = &marks{}
				keys[a.Key] = m
			}
			switch a.Mode {
			case Read:
				m.read = max(m.read, w)
			case Write:
				m.write = max(m.write, w)
			case Delta:
				m.delta = max(m.delta, w)
			}
		}
		wave[i], top = w, max(top, w)
	}
	return wave
}

// ExecuteParallel applies txs over blk on all cores and returns exactly what
// ExecuteSerial would: the same receipts and the same final state, byte for
// byte. Each wave runs in parallel over the state left by the waves before
// it (which nothing writes during the wave); the wave's views are then
// folded into blk in block order. Every declared transaction runs behind a
// guard that enforces its declaration; barriers run alone, unguarded.
func (x *Executor) ExecuteParallel(bc *BlockContext, blk state.Writer, txs []*types.Tx, senders []common.Address, workers int) ([]*types.Receipt, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	accs, barrier := x.declare(txs, senders, workers)
	receipts := make([]*types.Receipt, len(txs))
	for _, idx := range waves(Schedule(accs, barrier)) {
		if len(idx) == 1 && barrier[idx[0]] {
			r, err := x.ApplyTx(bc, blk, txs[idx[0]], senders[idx[0]])
			if err != nil {
				return nil, fmt.Errorf("tx %d: %w", idx[0], err)
			}
			receipts[idx[0]] = r
			continue
		}
		x.parallelWave(bc, blk, txs, senders, accs, idx, receipts, workers)
	}
	return receipts, nil
}

// declare decodes every transaction's declared accesses, on all workers:
// decoding is pure, and serial it would be most of the scheduler's cost.
func (x *Executor) declare(txs []*types.Tx, senders []common.Address, workers int) ([][]Access, []bool) {
	accs := make([][]Access, len(txs))
	barrier := make([]bool, len(txs))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(txs); i += workers {
				var ok bool
				accs[i], ok = x.Conflicts(txs[i], senders[i])
				barrier[i] = !ok
			}
		}()
	}
	wg.Wait()
	return accs, barrier
}

// waves groups transaction indexes by wave, each group in block order.
func waves(wave []int) [][]int {
	top := 0
	for _, w := range wave {
		top = max(top, w)
	}
	out := make([][]int, top)
	for i, w := range wave {
		out[w-1] = append(out[w-1], i)
	}
	return out
}

func (x *Executor) parallelWave(bc *BlockContext, blk state.Writer, txs []*types.Tx, senders []common.Address,
	accs [][]Access, idx []int, receipts []*types.Receipt, workers int) {
	views := make([]*state.TxView, len(idx))
	var next atomic.Int64
	var wg sync.WaitGroup
	var crash atomic.Value
	for w := 0; w < min(workers, len(idx)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					crash.Store(fmt.Sprint(p))
				}
			}()
			for k := int(next.Add(1)) - 1; k < len(idx); k = int(next.Add(1)) - 1 {
				i := idx[k]
				guard := newGuard(blk, accs[i], i)
				receipts[i], views[k] = x.run(bc, guard, txs[i], senders[i])
			}
		}()
	}
	wg.Wait()
	if p := crash.Load(); p != nil {
		panic(p) // a broken invariant in a worker stops the caller, as it would serially
	}
	for k, i := range idx {
		if views[k] != nil {
			views[k].Rebase(blk)
		}
		commitView(receipts[i], views[k])
	}
}

// guard is a transaction's window on the block during a parallel wave: it
// reads through to the block and panics on any key the transaction did not
// declare, because an undeclared access would let parallel and serial
// execution differ. Writes never reach it (views are rebased before folding).
type guard struct {
	blk     state.Reader
	allowed map[string]bool
	tx      int
}

func newGuard(blk state.Reader, accs []Access, tx int) *guard {
	g := &guard{blk: blk, allowed: make(map[string]bool, len(accs)), tx: tx}
	for _, a := range accs {
		g.allowed[a.Key] = true
	}
	return g
}

func (g *guard) Get(key []byte) []byte {
	if !g.allowed[string(key)] {
		panic(fmt.Sprintf("exec: tx %d read undeclared key %q: its precompile's Keys is wrong", g.tx, key))
	}
	return g.blk.Get(key)
}

func (g *guard) Set(key, _ []byte) {
	panic(fmt.Sprintf("exec: tx %d wrote key %q through the guard", g.tx, key))
}
