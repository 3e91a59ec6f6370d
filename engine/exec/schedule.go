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
	off    []int
	hs     []uint64
	ids    []int32
	shared []int32
	tables []hashCount
	ms     []marks
	wave   []int
}

type marks struct{ read, write, delta int32 }

// resize returns s with length n, reusing its memory when it is large
// enough; the elements are not cleared.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// schedule is Schedule on up to workers goroutines, with its working
// arrays, the result included, in sc when sc is not nil. Only its last pass,
// over the keys that more than one access touches, runs in block order on
// one core: a key touched once constrains nobody. The rest (hashing the
// keys, finding the shared ones) is spread over the workers by key hash.
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
	// ids[g] numbers access g's key among the shared keys, or is -1.
	ids := resize(sc.ids, n)
	sc.ids = ids
	parts := max(1, min(t.n, n/1024))    // key partitions, one per worker
	shared := resize(sc.shared, parts+1) // partition p numbers its keys from shared[p]
	sc.shared = shared
	shared[0] = 0
	tables := resize(sc.tables, parts)
	sc.tables = tables
	each := func(f func(p int)) {
		t.run(func(p int) {
			if p < parts {
				f(p)
			}
		})
	}
	each(func(p int) {
		t := &tables[p]
		t.reset(n/parts + 1)
		for _, h := range hs {
			if h%uint64(parts) == uint64(p) {
				t.vals[t.slot(h)]++
			}
		}
		next := int32(0)
		for i, c := range t.vals {
			if c > 1 {
				t.vals[i] = next
				next++
			} else {
				t.vals[i] = -1
			}
		}
		shared[p+1] = next
	})
	for p := range parts {
		shared[p+1] += shared[p]
	}
	each(func(p int) {
		t, base := &tables[p], shared[p]
		for g, h := range hs {
			if h%uint64(parts) == uint64(p) {
				if id := t.vals[t.slot(h)]; id >= 0 {
					ids[g] = base + id
				} else {
					ids[g] = -1
				}
			}
		}
	})

	ms := resize(sc.ms, int(shared[parts]))
	sc.ms = ms
	clear(ms)
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
		for k, a := range acc {
			id := ids[off[i]+k]
			if id < 0 {
				continue
			}
			m := &ms[id]
			w = max(w, m.write+1)
			if a.Mode != Read {
				w = max(w, m.read+1)
			}
			if a.Mode != Delta {
				w = max(w, m.delta+1)
			}
		}
		for k, a := range acc {
			id := ids[off[i]+k]
			if id < 0 {
				continue
			}
			m := &ms[id]
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

// hashCount is an open-addressing table from key hashes to counts (then to
// ids): a Go map costs several times more per key, and scheduling touches
// every key of the block.
type hashCount struct {
	keys []uint64 // 0: empty
	vals []int32
	mask uint64
}

// reset empties t and sizes it for n hashes, reusing its memory when it
// is the right size.
func (t *hashCount) reset(n int) {
	size := 16
	for size < 2*n {
		size *= 2
	}
	if len(t.keys) != size {
		t.keys, t.vals = make([]uint64, size), make([]int32, size)
	} else {
		clear(t.keys)
		clear(t.vals)
	}
	t.mask = uint64(size - 1)
}

// slot returns h's slot, taking an empty one for a new hash. Hash 0 shares
// hash 1's slot (the same rule as a collision: more order, never less).
func (t *hashCount) slot(h uint64) int {
	h = max(h, 1)
	for i := (h >> 32) & t.mask; ; i = (i + 1) & t.mask {
		switch t.keys[i] {
		case h:
			return int(i)
		case 0:
			t.keys[i] = h
			return int(i)
		}
	}
}
