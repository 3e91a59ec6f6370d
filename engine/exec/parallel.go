package exec

import (
	"fmt"
	"runtime"
	"sync"

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
	if len(txs) >= maxWave {
		// Beyond any block the chain accepts: the schedule's marks would
		// not hold its waves.
		return x.ExecuteSerial(bc, blk, txs, senders)
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, len(txs)))
	t := newTeam(workers)
	defer t.close()
	sc := x.scratch.get()
	defer x.scratch.put(sc)
	receipts := make([]*types.Receipt, len(txs))
	plans, wave := x.declare(t, txs, senders, receipts, sc)
	ws := sc.waves(wave, sc.sched.top)
	for _, idx := range ws {
		if len(idx) == 1 && plans[idx[0]].barrier {
			i := idx[0]
			err := commitView(receipts[i], x.run(bc, blk, txs[i], senders[i], &plans[i], receipts[i], new(txFrame)))
			plans[i] = txPlan{} // done with: let the collector have it
			if err != nil {
				return nil, fmt.Errorf("tx %d: %w", i, err)
			}
			continue
		}
		x.parallelWave(t, bc, blk, txs, senders, plans, idx, receipts)
	}
	sc.done = true // every plan has been cleared
	return receipts, nil
}

// declare decodes every transaction's call and declared accesses, on all
// workers, and schedules the block while it does (see declareAndAssign):
// decoding is pure, and serial it would be most of the scheduler's cost.
// The decoded calls are run as they are, not decoded again. It also hashes
// the declared keys for the schedule while they are in cache, and
// allocates the receipts, chunk by chunk, on the same workers. It returns
// the plans and every transaction's wave.
func (x *Executor) declare(t *team, txs []*types.Tx, senders []common.Address, receipts []*types.Receipt, sc *blockScratch) ([]txPlan, []int) {
	plans := resize(sc.plans, len(txs))
	sc.plans = plans
	decl := &sc.sched.decl
	wave := sc.sched.declareAndAssign(t, len(txs), func(_, lo, hi int) {
		fillReceipts(receipts[lo:hi])
		for i := lo; i < hi; i++ {
			p := &plans[i]
			*p = x.plan(txs[i], senders[i])
			decl.set(i, p.call.acc, p.barrier)
		}
	}, func(i int) []Access { return plans[i].call.acc })
	return plans, wave
}

// waves groups transaction indexes by wave, each group in block order;
// top is the latest wave. A block of independent transactions (transfers
// and payments into hot accounts) is one wave, which takes no grouping.
func (sc *blockScratch) waves(wave []int, top int) [][]int {
	flat := resize(sc.waveIdx, len(wave))
	sc.waveIdx = flat
	out := resize(sc.waveOut, top)
	sc.waveOut = out
	if top == 1 {
		for i := range flat {
			flat[i] = i
		}
		out[0] = flat
		return out
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
	done      bool // the block ran to its end, and cleared its plans
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
	if !sc.done {
		clear(sc.plans) // the block stopped half-way
	}
	sc.done = false
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free = append(p.free, sc)
}

// parallelWave runs one wave's transactions on all workers, each over a
// guard on blk, then folds their writes into blk as committing them in
// block order would: in parallel by key shard when blk is a state.Block
// (see state.Block.Fold), one by one otherwise.
func (x *Executor) parallelWave(t *team, bc *BlockContext, blk state.Writer, txs []*types.Tx, senders []common.Address,
	plans []txPlan, idx []int, receipts []*types.Receipt) {
	b, fold := blk.(*state.Block)
	workers := t.n
	var views []*state.TxView // when not folding
	logs := make([]*state.FoldLog, workers)
	// Each worker's guard and frame in an allocation of its own: workers
	// write them at every transaction, and neighbours in one array would
	// share cache lines.
	ws := make([]*waveWorker, workers)
	for w := range ws {
		ws[w] = new(waveWorker)
		ws[w].g.setBlock(blk)
	}
	if fold {
		for w := range logs {
			logs[w] = x.logs.get()
		}
		defer x.logs.put(logs)
	} else {
		views = make([]*state.TxView, len(idx))
	}
	t.parallelFor(len(idx), func(w, lo, hi int) {
		ww := ws[w]
		g := &ww.g // a view reads through its guard only while it runs
		for k := lo; k < hi; k++ {
			i := idx[k]
			g.init(plans[i].call.acc, i)
			if !fold {
				views[k] = x.run(bc, g, txs[i], senders[i], &plans[i], receipts[i], new(txFrame))
			} else if v := x.run(bc, g, txs[i], senders[i], &plans[i], receipts[i], &ww.f); v != nil {
				logs[w].Add(k, v) // the frame, view included, is reused for the next transaction
			}
			plans[i] = txPlan{} // done with: let the collector have it
		}
	})
	if fold {
		b.FoldWith(logs, t.run, func(k int, err error) { failCommit(receipts[idx[k]], err) })
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
	next int // the recent entry to replace (of two, the one not used last)
}

// waveWorker is what one worker of a parallel wave reuses from one
// transaction to the next.
type waveWorker struct {
	g guard
	f txFrame
}

// setBlock points the guard at the block for the wave.
func (g *guard) setBlock(blk state.Reader) {
	g.blk = blk
	g.kblk, _ = blk.(state.KeyReader)
}

// init readies the guard for transaction tx, which declared accs.
func (g *guard) init(accs []Access, tx int) {
	g.accs, g.tx, g.allowed = accs, tx, nil
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
			g.next = (i + 1) % len(g.recent) // least recently used next: a hot key stays
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
