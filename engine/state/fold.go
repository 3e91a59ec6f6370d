package state

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/holiman/uint256"
)

// A FoldLog records the changes of transaction views compactly, in the
// order one worker ran them, for Block.Fold. Taking a view's changes while
// they are in the worker's cache, into memory read in sequence, is what
// makes the fold cheap; the view itself can then be reused. The records
// are kept by key shard, so that each of Fold's workers reads only its own,
// and what Fold must know before folding in parallel (that no addition can
// overflow) is summed up as they are added, on the worker's core.
type FoldLog struct {
	shards [blockShards][]foldRec
	runs   [blockShards]int // runs of records with one key, per shard: at least the keys

	unsafe   bool        // some value an addition starts from is at or above 2^255
	total    uint256.Int // the sum of the additions
	overflow bool        // total overflowed
}

// foldRec is one changed key of one view: what Commit would fold.
type foldRec struct {
	key string
	// val is the view's plain write when hasWrite; otherwise, when hasRead,
	// the value the view read from its parent (what its delta adds to).
	val      []byte
	delta    uint256.Int
	seq      int32 // the view's position in its wave
	pos      int32 // the record's position among its view's, in Commit's order
	hasWrite bool
	hasDelta bool
	hasRead  bool
}

// Add records the changes of v, the seq-th view of its wave, in the order
// Commit would fold them. One log's views must come in increasing seq.
func (l *FoldLog) Add(seq int, v *TxView) {
	pos := int32(0)
	for i := range v.entries {
		e := &v.entries[i]
		if !e.hasWrite && !e.hasDelta {
			continue
		}
		sh := l.shards[e.shard]
		if len(sh) == 0 || sh[len(sh)-1].key != e.key {
			l.runs[e.shard]++
		}
		// Fill the record in place, field by field: copying a whole record
		// in costs a bulk write barrier while the collector runs.
		sh = append(sh, foldRec{})
		l.shards[e.shard] = sh
		r := &sh[len(sh)-1]
		r.key, r.seq, r.pos, r.hasWrite, r.hasDelta = e.key, int32(seq), pos, e.hasWrite, e.hasDelta
		pos++
		if e.hasWrite {
			r.val = e.write
		} else if e.hasRead {
			r.val, r.hasRead = e.read, true
		}
		if e.hasDelta {
			r.delta = e.delta
		}
		// What foldSafe needs: see there.
		if e.hasWrite && !below255(e.write) {
			l.unsafe = true
		}
		if e.hasDelta {
			if !e.hasWrite && (!e.hasRead || !below255(e.read)) {
				l.unsafe = true
			}
			if _, overflow := l.total.AddOverflow(&l.total, &e.delta); overflow {
				l.overflow = true
			}
		}
	}
}

// Reset empties the log, keeping its memory.
func (l *FoldLog) Reset() {
	for s := range l.shards {
		l.resetShard(s)
	}
	l.unsafe, l.overflow = false, false
	l.total.Clear()
}

// resetShard empties the log's records of shard s.
func (l *FoldLog) resetShard(s int) {
	clear(l.shards[s]) // drop references to keys and values
	l.shards[s], l.runs[s] = l.shards[s][:0], 0
}

// Fold commits the views recorded in logs into b, with the result of
// calling Commit on each in seq order (seqs are distinct across logs);
// failed is called, in seq order, for each view whose Commit would fail
// (an addition overflowing), and that view's changes are left as Commit
// leaves them. The views must have run over b as it is now (directly or
// through a read-only window on it, as in a parallel wave), and b must not
// have changed since: Fold reuses the values they read.
//
// Fold is the parallel twin of the commit loop: the work is spread over
// workers goroutines by key shard, and each worker replays, in seq order,
// the writes and additions on the keys of the shards it takes, so every
// key goes through the same values as in the loop; runs of additions to
// one key are summed before the key is written back. It does so only when
// no addition can overflow (no value an addition starts from, and not the
// sum of all additions, reaches 2^255), and otherwise runs the loop itself.
//
// Fold leaves the logs empty, as Reset does (each worker empties what it
// has folded), ready for another wave.
func (b *Block) Fold(logs []*FoldLog, workers int, failed func(seq int, err error)) {
	workers = max(1, min(workers, blockShards))
	b.FoldWith(logs, func(job func(w int)) { each(workers, job) }, failed)
}

// FoldWith is Fold on the workers of run, which runs job on each of them
// (some number, which need not be known) and returns when all have
// returned; a panic in job must come out of run.
func (b *Block) FoldWith(logs []*FoldLog, run func(job func(w int)), failed func(seq int, err error)) {
	if !foldSafe(logs) {
		b.foldSerial(logs, failed)
		for _, l := range logs {
			l.Reset()
		}
		return
	}
	for _, l := range logs {
		l.unsafe, l.overflow = false, false
		l.total.Clear()
	}
	var next atomic.Int32
	run(func(int) {
		for {
			s := int(next.Add(1)) - 1
			if s >= blockShards {
				return
			}
			b.foldShard(logs, s)
			for _, l := range logs {
				l.resetShard(s)
			}
		}
	})
}

// foldSafe reports that no addition in logs can overflow: every value an
// addition starts from (a value read from b, or written by a view) is below
// 2^255, and so is the sum of all additions, so no running sum reaches 2^256.
func foldSafe(logs []*FoldLog) bool {
	var total uint256.Int
	for _, l := range logs {
		if l.unsafe || l.overflow {
			return false
		}
		if _, overflow := total.AddOverflow(&total, &l.total); overflow {
			return false
		}
	}
	return total[3]>>63 == 0
}

// below255 reports whether the integer DecodeUint reads from b is below 2^255.
func below255(b []byte) bool {
	return len(b) < 32 || b[len(b)-32] < 0x80
}

// foldSerial is the commit loop over the logged views, in seq order and,
// within a view, in Commit's order. It runs only when an addition might
// overflow, which amount bounds make rare: it sorts the records first.
func (b *Block) foldSerial(logs []*FoldLog, failed func(seq int, err error)) {
	var recs []*foldRec
	for _, l := range logs {
		for s := range l.shards {
			for i := range l.shards[s] {
				recs = append(recs, &l.shards[s][i])
			}
		}
	}
	slices.SortFunc(recs, func(x, y *foldRec) int {
		return cmp.Or(cmp.Compare(x.seq, y.seq), cmp.Compare(x.pos, y.pos))
	})
	broken := int32(-1) // the view whose commit failed: skip the rest of it
	for _, r := range recs {
		if r.seq == broken {
			continue
		}
		s := shardOf(r.key)
		if r.hasWrite {
			b.setShard(s, r.key, r.val)
		}
		if r.hasDelta {
			sum, err := addBytes(b.getShard(s, r.key), &r.delta)
			if err != nil {
				broken = r.seq
				failed(int(r.seq), fmt.Errorf("%w at key %q", err, r.key))
				continue
			}
			b.setShard(s, r.key, sum)
		}
	}
}

// mergedShard calls f for each record of shard s in logs, in seq order.
// Each log's records of s are in seq order already; a view has at most one
// record per key, so the order of one view's records does not matter.
func mergedShard(logs []*FoldLog, s int, f func(r *foldRec)) {
	switch len(logs) {
	case 1:
		for i := range logs[0].shards[s] {
			f(&logs[0].shards[s][i])
		}
		return
	case 2:
		a, c := logs[0].shards[s], logs[1].shards[s]
		i, j := 0, 0
		for i < len(a) && j < len(c) {
			if a[i].seq < c[j].seq {
				f(&a[i])
				i++
			} else {
				f(&c[j])
				j++
			}
		}
		for ; i < len(a); i++ {
			f(&a[i])
		}
		for ; j < len(c); j++ {
			f(&c[j])
		}
		return
	}
	pos := make([]int, len(logs))
	for {
		next := -1
		for j, l := range logs {
			if pos[j] < len(l.shards[s]) && (next < 0 || l.shards[s][pos[j]].seq < logs[next].shards[s][pos[next]].seq) {
				next = j
			}
		}
		if next < 0 {
			return
		}
		f(&logs[next].shards[s][pos[next]])
		pos[next]++
	}
}

// foldShard is Fold's work on shard s, whose keys no other worker reads
// or writes.
func (b *Block) foldShard(logs []*FoldLog, s int) {
	n := 0 // at least the keys the shard gets, at most its records
	for _, l := range logs {
		n += l.runs[s]
	}
	if n == 0 {
		return
	}
	if len(b.dirty[s]) == 0 {
		b.dirty[s] = make(map[string][]byte, n)
	}
	dirty := b.dirty[s]
	// Running sums of the keys added to last; a key's sum is written back
	// when it is evicted, overwritten, or at the end.
	var sums [4]struct {
		key  string
		sum  uint256.Int
		used bool
	}
	victim := 0
	mergedShard(logs, s, func(r *foldRec) {
		c := -1
		for j := range sums {
			if sums[j].used && sums[j].key == r.key {
				c = j
				break
			}
		}
		if r.hasWrite {
			if c >= 0 {
				sums[c].used = false // the write replaces the sum
			}
			if !r.hasDelta {
				setValue(dirty, r.key, r.val)
				return
			}
		} else if c >= 0 {
			sums[c].sum.Add(&sums[c].sum, &r.delta)
			return
		}
		// Start a running sum from the value the addition applies to.
		var cur []byte
		if r.hasWrite {
			cur = r.val
		} else if x, ok := dirty[r.key]; ok {
			cur = x
		} else if r.hasRead {
			cur = r.val // what b's base held when the view read it
		} else {
			cur = b.base.Get(keyBytes(r.key))
		}
		c = -1
		for j := range sums {
			if !sums[j].used {
				c = j
				break
			}
		}
		if c < 0 {
			c, victim = victim, (victim+1)%len(sums)
			setValue(dirty, sums[c].key, EncodeUint(&sums[c].sum))
		}
		sums[c].key, sums[c].used = r.key, true
		sums[c].sum.SetBytes(cur)
		sums[c].sum.Add(&sums[c].sum, &r.delta)
	})
	for j := range sums {
		if sums[j].used {
			setValue(dirty, sums[j].key, EncodeUint(&sums[j].sum))
		}
	}
}

// setValue is Block.setShard on the shard's map m.
func setValue(m map[string][]byte, key string, value []byte) {
	if len(value) == 0 {
		value = nil
	}
	m[key] = value
}

// each runs f(0..n-1) on n goroutines (one of them the caller's) and
// re-raises a worker's panic in the caller, as a serial loop would.
func each(n int, f func(w int)) {
	if n == 1 {
		f(0)
		return
	}
	var wg sync.WaitGroup
	var once sync.Once
	var crash any
	for w := 1; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					once.Do(func() { crash = p })
				}
			}()
			f(w)
		}()
	}
	func() {
		defer func() {
			if p := recover(); p != nil {
				once.Do(func() { crash = p })
			}
		}()
		f(0)
	}()
	wg.Wait()
	if crash != nil {
		panic(crash)
	}
}
