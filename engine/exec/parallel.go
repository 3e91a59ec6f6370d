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
	sc := x.scratch.get()
	defer x.scratch.put(sc)
	plans := x.declare(txs, senders, workers, sc)
	accs := resize(sc.accs, len(txs))
	barrier := resize(sc.barrier, len(txs))
	sc.accs, sc.barrier = accs, barrier
	for i := range plans {
		accs[i], barrier[i] = plans[i].call.acc, plans[i].barrier
	}
	receipts := newReceipts(len(txs))
	ws := sc.waves(schedule(accs, barrier, workers, &sc.sched))
	clear(accs) // the plans keep what the guards need
	for _, idx := range ws {
		if len(idx) == 1 && barrier[idx[0]] {
			i := idx[0]
			if err := commitView(receipts[i], x.run(bc, blk, txs[i], senders[i], &plans[i], receipts[i], new(txFrame))); err != nil {
				return nil, fmt.Errorf("tx %d: %w", i, err)
			}
			continue
		}
		x.parallelWave(bc, blk, txs, senders, plans, idx, receipts, workers)
	}
	return receipts, nil
}

// declare decodes every transaction's call and declared accesses, on all
// workers: decoding is pure, and serial it would be most of the scheduler's
// cost. The decoded calls are run as they are, not decoded again.
func (x *Executor) declare(txs []*types.Tx, senders []common.Address, workers int, sc *blockScratch) []txPlan {
	plans := resize(sc.plans, len(txs))
	sc.plans = plans
	parallelFor(len(txs), workers, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			plans[i] = x.plan(txs[i], senders[i])
		}
	})
	return plans
}

// parallelFor runs f over [0, n) in chunks on up to workers goroutines (one
// of them the caller's), handing chunks out in increasing order as workers
// free up; f's first argument is the worker's number. A panic in a worker
// is raised again in the caller, as it would be serially.
func parallelFor(n, workers int, f func(w, lo, hi int)) {
	workers = min(workers, n)
	if workers <= 1 {
		if n > 0 {
			f(0, 0, n)
		}
		return
	}
	chunk := min(max(n/(workers*16), 1), 64)
	var next atomic.Int64
	var crash atomic.Value
	work := func(w int) {
		defer func() {
			if p := recover(); p != nil {
				crash.CompareAndSwap(nil, fmt.Sprint(p))
				next.Store(int64(n)) // the others stop at their next chunk
			}
		}()
		for {
			lo := int(next.Add(int64(chunk))) - chunk
			if lo >= n {
				return
			}
			f(w, lo, min(lo+chunk, n))
		}
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(w)
		}()
	}
	work(0)
	wg.Wait()
	if p := crash.Load(); p != nil {
		panic(p) // a broken invariant in a worker stops the caller, as it would serially
	}
}

// waves groups transaction indexes by wave, each group in block order.
func (sc *blockScratch) waves(wave []int) [][]int {
	top := 0
	for _, w := range wave {
		top = max(top, w)
	}
	start := resize(sc.waveStart, top+1) // then out[w] is flat[start[w]:start[w+1]]
	sc.waveStart = start
	clear(start)
	for _, w := range wave {
		start[w]++
	}
	for w := 1; w <= top; w++ {
		start[w] += start[w-1]
	}
	flat := resize(sc.waveIdx, len(wave))
	sc.waveIdx = flat
	out := resize(sc.waveOut, top)
	sc.waveOut = out
	for w := range out {
		out[w] = flat[start[w]:start[w]:start[w+1]]
	}
	for i, w := range wave {
		out[w-1] = append(out[w-1], i)
	}
	return out
}

// blockScratch is the working memory of a parallel block, kept by the
// executor for the next block: its arrays are long, and allocating them
// anew would clear them and have them collected every block.
type blockScratch struct {
	plans     []txPlan
	accs      [][]Access
	barrier   []bool
	sched     scheduleScratch
	waveStart []int
	waveIdx   []int
	waveOut   [][]int
}

// scratchPool keeps blockScratch values for the next block (a sync.Pool
// would drop them at every collection).
type scratchPool struct {
	mu   sync.Mutex
	free []*blockScratch
}

func (p *scratchPool) get() *blockScratch {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		sc := p.free[n-1]
		p.free = p.free[:n-1]
		return sc
	}
	return new(blockScratch)
}

// put keeps sc, dropping its references to the block's calls.
func (p *scratchPool) put(sc *blockScratch) {
	clear(sc.plans)
	clear(sc.accs)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free = append(p.free, sc)
}

// parallelWave runs one wave's transactions on all workers, each over a
// guard on blk, then folds their writes into blk as committing them in
// block order would: in parallel by key shard when blk is a state.Block
// (see state.Block.Fold), one by one otherwise.
func (x *Executor) parallelWave(bc *BlockContext, blk state.Writer, txs []*types.Tx, senders []common.Address,
	plans []txPlan, idx []int, receipts []*types.Receipt, workers int) {
	b, fold := blk.(*state.Block)
	workers = min(workers, len(idx))
	var views []*state.TxView // when not folding
	logs := make([]*state.FoldLog, workers)
	frames := make([]*txFrame, workers)
	guards := make([]guard, workers)
	if fold {
		for w := range logs {
			logs[w], frames[w] = x.logs.get(), new(txFrame)
		}
		defer x.logs.put(logs)
	} else {
		views = make([]*state.TxView, len(idx))
	}
	parallelFor(len(idx), workers, func(w, lo, hi int) {
		g := &guards[w] // a view reads through its guard only while it runs
		for k := lo; k < hi; k++ {
			i := idx[k]
			g.init(blk, plans[i].call.acc, i)
			if !fold {
				views[k] = x.run(bc, g, txs[i], senders[i], &plans[i], receipts[i], new(txFrame))
			} else if v := x.run(bc, g, txs[i], senders[i], &plans[i], receipts[i], frames[w]); v != nil {
				logs[w].Add(k, v) // the frame, view included, is reused for the next transaction
			}
			plans[i] = txPlan{} // done with: let the collector have it
		}
	})
	if fold {
		b.Fold(logs, workers, func(k int, err error) { failCommit(receipts[idx[k]], err) })
		return
	}
	for k, i := range idx {
		if views[k] != nil {
			views[k].Rebase(blk)
		}
		commitView(receipts[i], views[k])
	}
}

// logPool keeps the fold logs of parallel waves for the next wave: they
// grow to a wave's size, and a sync.Pool would drop them at every
// collection, several times a block.
type logPool struct {
	mu   sync.Mutex
	free []*state.FoldLog
}

func (p *logPool) get() *state.FoldLog {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		l := p.free[n-1]
		p.free = p.free[:n-1]
		return l
	}
	return new(state.FoldLog)
}

func (p *logPool) put(logs []*state.FoldLog) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range logs {
		l.Reset()
		p.free = append(p.free, l)
	}
}

// guard is a transaction's window on the block during a parallel wave: it
// reads through to the block and panics on any key the transaction did not
// declare, because an undeclared access would let parallel and serial
// execution differ. Writes never reach it (views are folded into the block).
//
// A worker's guard lives for a wave and remembers the last keys it read:
// nothing writes to the block during a wave, and in a block of payments
// into one account every transaction reads that account.
type guard struct {
	blk     state.Reader
	kblk    state.KeyReader // blk, when it is one
	accs    []Access
	allowed map[string]bool // for long declarations
	tx      int
	recent  [2]struct {
		key string
		val []byte
	}
	next int // the recent entry to replace
}

func (g *guard) init(blk state.Reader, accs []Access, tx int) {
	g.blk, g.accs, g.tx, g.allowed = blk, accs, tx, nil
	g.kblk, _ = blk.(state.KeyReader)
	if len(accs) > 8 {
		g.allowed = make(map[string]bool, len(accs))
		for _, a := range accs {
			g.allowed[a.Key] = true
		}
	}
}

func (g *guard) declared(key string) bool {
	if g.allowed != nil {
		return g.allowed[key]
	}
	for i := range g.accs {
		if g.accs[i].Key == key {
			return true
		}
	}
	return false
}

func (g *guard) Get(key []byte) []byte {
	if !g.declared(string(key)) {
		panic(fmt.Sprintf("exec: tx %d read undeclared key %q: its precompile's Keys is wrong", g.tx, key))
	}
	return g.blk.Get(key)
}

// GetKey is Get with a string key.
func (g *guard) GetKey(key string) []byte {
	if !g.declared(key) {
		panic(fmt.Sprintf("exec: tx %d read undeclared key %q: its precompile's Keys is wrong", g.tx, key))
	}
	for i := range g.recent {
		if r := &g.recent[i]; r.key == key && r.key != "" {
			return r.val
		}
	}
	var val []byte
	if g.kblk != nil {
		val = g.kblk.GetKey(key)
	} else {
		val = g.blk.Get([]byte(key))
	}
	g.recent[g.next].key, g.recent[g.next].val = key, val
	g.next = (g.next + 1) % len(g.recent)
	return val
}

func (g *guard) Set(key, _ []byte) {
	panic(fmt.Sprintf("exec: tx %d wrote key %q through the guard", g.tx, key))
}
