package exec

import (
	"hash/maphash"
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
// result included, in sc when sc is not nil: the keys are hashed on all
// workers, then assignWaves runs.
func schedule(txs int, accs func(i int) []Access, barrier func(i int) bool, t *team, sc *scheduleScratch) []int {
	if sc == nil {
		sc = new(scheduleScratch)
	}
	sc.decl.reset(txs)
	t.parallelFor(txs, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			sc.decl.set(i, accs(i), barrier(i))
		}
	})
	return sc.assignWaves(txs, accs)
}

// assignWaves assigns the waves of the txs transactions in sc.decl, in one
// pass in block order, which looks each key up once in an open-addressing
// table of per-key marks; accs gives the accesses of a transaction with
// more than inlineAccs.
//
// Keys are compared by a 64-bit hash: two keys with one hash (which takes
// luck beyond reckoning) would only be kept in order as if they were one
// key, never run together, so the results do not depend on it.
func (sc *scheduleScratch) assignWaves(txs int, accs func(i int) []Access) []int {
	d := &sc.decl
	n := 0 // at most the distinct keys
	for i, c := range d.n {
		switch c {
		case declBarrier:
		case declMany:
			n += len(accs(i))
		default:
			n += int(c)
		}
	}
	tab := &sc.tab
	tab.reset(n)
	wave := resize(sc.wave, txs)
	sc.wave = wave
	floor, top := int32(0), int32(0)
	for i := range txs {
		var hs []uint64
		var modes []AccessMode
		var many []Access
		switch c := d.n[i]; c {
		case declBarrier:
			wave[i] = int(top + 1)
			floor, top = top+1, top+1
			continue
		case declMany:
			many = accs(i)
			sc.over = sc.over[:0]
			for _, a := range many {
				sc.over = append(sc.over, keyHash(a.Key))
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
		w := floor + 1
		for k, h := range hs {
			m := tab.find(h)
			if m == nil {
				continue // a key no earlier transaction touched
			}
			w = max(w, m.write+1)
			if mode(k) != Read {
				w = max(w, m.read+1)
			}
			if mode(k) != Delta {
				w = max(w, m.delta+1)
			}
		}
		for k, h := range hs {
			m := tab.slot(h)
			switch mode(k) {
			case Read:
				m.read = max(m.read, w)
			case Write:
				m.write = max(m.write, w)
			case Delta:
				m.delta = max(m.delta, w)
			}
		}
		wave[i], top = int(w), max(top, w)
	}
	return wave
}

var scheduleSeed = maphash.MakeSeed()

// keyTable is an open-addressing table from key hashes to the latest waves
// that read, wrote and added to the key: a Go map costs several times more
// per key, and scheduling touches every key of the block.
type keyTable struct {
	slots []keyMarks
	mask  uint64
}

// keyMarks is one key's entry; h is 0 in an empty slot.
type keyMarks struct {
	h                  uint64
	read, write, delta int32
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
	t.mask = uint64(size - 1)
}

// find returns h's entry, or nil.
func (t *keyTable) find(h uint64) *keyMarks { return t.lookup(h, false) }

// slot returns h's entry, taking an empty one for a new hash.
func (t *keyTable) slot(h uint64) *keyMarks { return t.lookup(h, true) }

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
			return &t.slots[i]
		}
	}
}
