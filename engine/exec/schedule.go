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
	off  []int
	hs   []uint64
	tab  keyTable
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

// schedule is Schedule on the workers of t, with its working arrays, the
// result included, in sc when sc is not nil. The keys are hashed on all
// workers; the waves are then assigned in one pass in block order, which
// looks each key up once in an open-addressing table of per-key marks.
//
// Keys are compared by a 64-bit hash: two keys with one hash (which takes
// luck beyond reckoning) would only be kept in order as if they were one
// key, never run together, so the results do not depend on it.
func schedule(txs int, accs func(i int) []Access, barrier func(i int) bool, t *team, sc *scheduleScratch) []int {
	if sc == nil {
		sc = new(scheduleScratch)
	}
	off := resize(sc.off, txs+1) // accs(i)[k] is access off[i]+k
	sc.off = off
	off[0] = 0
	for i := range txs {
		off[i+1] = off[i] + len(accs(i))
	}
	n := off[txs]
	hs := resize(sc.hs, n)
	sc.hs = hs
	t.parallelFor(txs, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			for k, a := range accs(i) {
				hs[off[i]+k] = maphash.String(scheduleSeed, a.Key)
			}
		}
	})
	tab := &sc.tab
	tab.reset(n)
	wave := resize(sc.wave, txs)
	sc.wave = wave
	floor, top := int32(0), int32(0)
	for i := range txs {
		if barrier(i) {
			wave[i] = int(top + 1)
			floor, top = top+1, top+1
			continue
		}
		w := floor + 1
		acc := accs(i)
		h := hs[off[i]:off[i+1]]
		for k, a := range acc {
			m := tab.find(h[k])
			if m == nil {
				continue // a key no earlier transaction touched
			}
			w = max(w, m.write+1)
			if a.Mode != Read {
				w = max(w, m.read+1)
			}
			if a.Mode != Delta {
				w = max(w, m.delta+1)
			}
		}
		for k, a := range acc {
			m := tab.slot(h[k])
			switch a.Mode {
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
