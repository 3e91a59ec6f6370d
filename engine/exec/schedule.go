package exec

import (
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// Schedule assigns every transaction a wave: a transaction's wave is one
// more than the latest wave of any earlier transaction it conflicts with, so
// transactions in one wave never conflict and every conflict runs in block
// order. Deltas on one key do not conflict with each other; barriers
// (transactions that cannot declare their keys, such as EVM calls) get a
// wave of their own and fence everything after them.
func Schedule(accs [][]Access, barrier []bool) []int {
	return schedule(len(accs), func(i int) []Access { return accs[i] }, func(i int) bool { return barrier[i] }, newTeam(1), nil)
}

// scheduleScratch holds schedule's working arrays from one block to the
// next: for a large block they weigh megabytes, which allocating anew
// would clear and have collected every block.
type scheduleScratch struct {
	decl declared
	tab  keyTable
	over []uint64 // the hashes of one transaction with many accesses
	wave []int
	top  int           // the latest wave in wave
	done []atomic.Bool // per chunk of transactions: declared
}

// resize returns s with length n, reusing its memory when it is large
// enough; the elements are not cleared.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// declared is what the schedule needs of a block's transactions, in compact
// arrays that its serial pass reads in sequence: the number of accesses of
// each (or that it is a barrier, or has more than inlineAccs), and the key
// hash and mode of each access. The executor fills it while it decodes the
// calls, on all workers, with the keys still in cache; the schedule's one
// pass in block order then touches neither the calls nor the key strings.
type declared struct {
	n    []uint8      // per transaction: its access count, declBarrier or declMany
	h    []uint64     // the hash of access k of transaction i at i*inlineAccs+k
	mode []AccessMode // its mode, at the same index
}

// inlineAccs is how many accesses of a transaction declared holds; the
// schedule hashes the keys of a transaction with more itself.
const inlineAccs = 4

const (
	declBarrier = 0xff // the transaction is a barrier
	declMany    = 0xfe // more than inlineAccs accesses: see accs(i)
)

// reset sizes d for txs transactions.
func (d *declared) reset(txs int) {
	d.n = resize(d.n, txs)
	d.h = resize(d.h, txs*inlineAccs)
	d.mode = resize(d.mode, txs*inlineAccs)
}

// set records transaction i's accesses, or that it is a barrier.
func (d *declared) set(i int, acc []Access, barrier bool) {
	switch {
	case barrier:
		d.n[i] = declBarrier
	case len(acc) > inlineAccs:
		d.n[i] = declMany
	default:
		d.n[i] = uint8(len(acc))
		for k, a := range acc {
			d.h[i*inlineAccs+k] = keyHash(a.Key)
			d.mode[i*inlineAccs+k] = a.Mode
		}
	}
}

// keyHash is the schedule's hash of a key.
func keyHash(key string) uint64 { return maphash.String(scheduleSeed, key) }

// schedule is Schedule on the workers of t, with its working arrays, the
// result included, in sc when sc is not nil.
func schedule(txs int, accs func(i int) []Access, barrier func(i int) bool, t *team, sc *scheduleScratch) []int {
	if sc == nil {
		sc = new(scheduleScratch)
	}
	return sc.declareAndAssign(t, txs, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			sc.decl.set(i, accs(i), barrier(i))
		}
	}, accs)
}

// declareAndAssign runs declare over [0, txs) in chunks on the workers of
// t, and assigns the waves while it runs. declare(w, lo, hi) must set
// sc.decl for transactions lo to hi-1 (it may do more of the block's work
// there); accs gives the accesses of a transaction with more than
// inlineAccs, once declare has run for it.
//
// The assignment is one pass in block order, and would be serial after the
// declarations: instead, a worker that has declared a chunk takes the pass
// on as far as the chunks declared so far reach, unless another worker has
// it; the caller finishes it. So it overlaps the declarations of later
// chunks on the other workers, and costs the block little more than its
// share of the work.
func (sc *scheduleScratch) declareAndAssign(t *team, txs int, declare func(w, lo, hi int), accs func(i int) []Access) []int {
	sc.decl.reset(txs)
	sc.tab.reset(2 * txs) // a transfer's two keys; the table grows for more
	sc.wave = resize(sc.wave, txs)
	a := waveAssigner{sc: sc, accs: accs}
	chunk := t.chunk(txs)
	chunks := (txs + chunk - 1) / chunk
	done := resize(sc.done, chunks)
	sc.done = done
	for c := range done {
		done[c].Store(false)
	}
	var mu sync.Mutex // held by the worker taking the pass on
	next := 0         // the first chunk not assigned yet, under mu
	t.parallelForChunks(txs, chunk, func(w, lo, hi int) {
		declare(w, lo, hi)
		done[lo/chunk].Store(true)
		if !mu.TryLock() {
			return // another worker has the pass; it or the caller will reach this chunk
		}
		for ; next < chunks && done[next].Load(); next++ {
			a.assign(next*chunk, min((next+1)*chunk, txs))
		}
		mu.Unlock()
	})
	for ; next < chunks; next++ { // every chunk is declared now
		a.assign(next*chunk, min((next+1)*chunk, txs))
	}
	sc.top = int(a.top)
	return sc.wave
}

// waveAssigner assigns waves to the transactions declared in sc.decl, in
// block order, a range at a time, looking each key up once in an
// open-addressing table of per-key marks; accs gives the accesses of a
// transaction with more than inlineAccs.
//
// Keys are compared by a 64-bit hash: two keys with one hash (which takes
// luck beyond reckoning) would only be kept in order as if they were one
// key, never run together, so the results do not depend on it.
type waveAssigner struct {
	sc         *scheduleScratch
	accs       func(i int) []Access
	floor, top uint64 // the latest barrier's wave, and the latest wave
	touched    uint64 // see touch
	marks      []*keyMarks
}

// assign assigns the waves of transactions lo to hi-1, the transactions
// before them having theirs.
func (a *waveAssigner) assign(lo, hi int) {
	sc := a.sc
	d, tab, wave := &sc.decl, &sc.tab, sc.wave
	a.touch(lo, hi)
	for i := lo; i < hi; i++ {
		var hs []uint64
		var modes []AccessMode
		var many []Access
		switch c := d.n[i]; c {
		case declBarrier:
			if a.top+1 > maxWave {
				panic(fmt.Sprintf("exec: a block of more than %d conflicting transactions cannot be scheduled", maxWave))
			}
			wave[i] = int(a.top + 1)
			a.floor, a.top = a.top+1, a.top+1
			continue
		case declMany:
			many = a.accs(i)
			sc.over = sc.over[:0]
			for _, acc := range many {
				sc.over = append(sc.over, keyHash(acc.Key))
			}
			hs = sc.over
		default:
			hs = d.h[i*inlineAccs : i*inlineAccs+int(c)]
			modes = d.mode[i*inlineAccs : i*inlineAccs+int(c)]
		}
		mode := func(k int) AccessMode {
			if many != nil {
				return many[k].Mode
			}
			return modes[k]
		}
		// Each key's entry, looked up once: a key no earlier transaction
		// touched gets empty marks, which delay nothing.
		ms := a.marks[:0]
		tab.reserve(len(hs))
		for _, h := range hs {
			ms = append(ms, tab.lookup(h, true))
		}
		a.marks = ms[:0]
		w := a.floor + 1
		for k, m := range ms {
			w = max(w, m.get(markWrite)+1)
			if mode(k) != Read {
				w = max(w, m.get(markRead)+1)
			}
			if mode(k) != Delta {
				w = max(w, m.get(markDelta)+1)
			}
		}
		if w > maxWave {
			panic(fmt.Sprintf("exec: a block of more than %d conflicting transactions cannot be scheduled", maxWave))
		}
		for k, m := range ms {
			switch mode(k) {
			case Read:
				m.raise(markRead, w)
			case Write:
				m.raise(markWrite, w)
			case Delta:
				m.raise(markDelta, w)
			}
		}
		wave[i], a.top = int(w), max(a.top, w)
	}
}

// touch loads the table slots where the keys of transactions lo to hi-1
// start their probes, before assign looks them up one by one. The table is
// out of the core's cache by the time a block is scheduled (executing the
// block before evicted it), and the slots are at random: looked up in
// turn, each key waits for its own miss, whereas these loads depend on
// nothing and go to memory together. The sum only keeps the compiler from
// dropping them.
func (a *waveAssigner) touch(lo, hi int) {
	d, tab := &a.sc.decl, &a.sc.tab
	var sum uint64
	for i := lo; i < hi; i++ {
		c := int(d.n[i])
		if c > inlineAccs {
			continue // a barrier, or hashed later
		}
		for _, h := range d.h[i*inlineAccs : i*inlineAccs+c] {
			sum += tab.slots[(max(h, 1)>>32)&tab.mask].h
		}
	}
	a.touched += sum
}

var scheduleSeed = maphash.MakeSeed()

// keyTable is an open-addressing table from key hashes to the latest waves
// that read, wrote and added to the key: a Go map costs several times more
// per key, and scheduling touches every key of the block, in no order the
// cache can follow. An entry is 16 bytes, so that the table of a large
// block stays in a core's cache as far as it can. It is kept at most half
// full, growing as it fills.
type keyTable struct {
	slots []keyMarks
	mask  uint64
	used  int
}

// keyMarks is one key's entry; h is 0 in an empty slot. waves packs the
// latest read, write and delta waves, markBits bits each.
type keyMarks struct {
	h     uint64
	waves uint64
}

// markBits is the width of one packed wave: waves go up to maxWave, more
// than a block of any size the chain accepts has transactions.
const (
	markBits = 21
	maxWave  = 1<<markBits - 1
)

// The marks packed in keyMarks.waves, by shift.
const (
	markRead  = 0
	markWrite = markBits
	markDelta = 2 * markBits
)

func (m *keyMarks) get(mark uint) uint64 { return m.waves >> mark & maxWave }

// raise sets a mark to w if w is later.
func (m *keyMarks) raise(mark uint, w uint64) {
	if w > m.get(mark) {
		m.waves = m.waves&^(maxWave<<mark) | w<<mark
	}
}

// reset empties t and sizes it for n hashes, reusing its memory when it
// is the right size.
func (t *keyTable) reset(n int) {
	size := 16
	for size < 2*n {
		size *= 2
	}
	if len(t.slots) != size {
		t.slots = make([]keyMarks, size)
	} else {
		clear(t.slots)
	}
	t.mask, t.used = uint64(size-1), 0
}

// grow doubles the table, keeping its entries.
func (t *keyTable) grow() {
	old := t.slots
	t.slots = make([]keyMarks, 2*len(old))
	t.mask = uint64(len(t.slots) - 1)
	for _, m := range old {
		if m.h != 0 {
			*t.lookup(m.h, true) = m
		}
	}
}

// reserve makes room for n new hashes, so that the entries lookup returns
// for them stay where they are until then.
func (t *keyTable) reserve(n int) {
	for 2*(t.used+n) > len(t.slots) {
		t.grow()
	}
}

// lookup returns h's entry; when h has none it takes an empty slot if add,
// and returns nil otherwise. Hash 0 is taken as hash 1 (the same rule as a
// collision: more order, never less).
func (t *keyTable) lookup(h uint64, add bool) *keyMarks {
	h = max(h, 1)
	for i := (h >> 32) & t.mask; ; i = (i + 1) & t.mask {
		switch t.slots[i].h {
		case h:
			return &t.slots[i]
		case 0:
			if !add {
				return nil
			}
			t.slots[i].h = h
			t.used++
			return &t.slots[i]
		}
	}
}
