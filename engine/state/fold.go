package state

import (
	"fmt"
	"sync"

	"github.com/holiman/uint256"
)

// A FoldLog records the changes of transaction views compactly, in the
// order one worker ran them, for Block.Fold. Taking a view's changes while
// they are in the worker's cache, into memory read in sequence, is what
// makes the fold cheap; the view itself can then be reused.
type FoldLog struct {
	recs   []foldRec
	counts [blockShards]int // records per shard
}

// foldRec is one changed key of one view: what Commit would fold.
type foldRec struct {
	key      string
	write    []byte
	read     []byte // the value the view read from its parent, if hasRead
	delta    uint256.Int
	seq      int32 // the view's position in its wave
	shard    uint8
	hasWrite bool
	hasDelta bool
	hasRead  bool
}

// Add records the changes of v, the seq-th view of its wave, in the order
// Commit would fold them. One log's views must come in increasing seq.
func (l *FoldLog) Add(seq int, v *TxView) {
	for i := range v.entries {
		e := &v.entries[i]
		if !e.hasWrite && !e.hasDelta {
			continue
		}
		l.recs = append(l.recs, foldRec{key: e.key, write: e.write, read: e.read, delta: e.delta, seq: int32(seq),
			shard: e.shard, hasWrite: e.hasWrite, hasDelta: e.hasDelta, hasRead: e.hasRead})
		l.counts[e.shard]++
	}
}

// Reset empties the log, keeping its memory.
func (l *FoldLog) Reset() {
	clear(l.recs) // drop references to keys and values
	l.recs, l.counts = l.recs[:0], [blockShards]int{}
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
// the writes and additions on the keys of its own shards, so every key goes
// through the same values as in the loop; runs of additions to one key are
// summed before the key is written back. It does so only when no addition
// can overflow (no value an addition starts from, and not the sum of all
// additions, reaches 2^255), and otherwise runs the loop itself.
func (b *Block) Fold(logs []*FoldLog, workers int, failed func(seq int, err error)) {
	if !foldSafe(logs) {
		b.foldSerial(logs, failed)
		return
	}
	workers = max(1, min(workers, blockShards))
	each(workers, func(w int) { b.foldShards(logs, w, workers) })
}

// foldSafe reports that no addition in logs can overflow: every value an
// addition starts from (a value read from b, or written by a view) is below
// 2^255, and so is the sum of all additions, so no running sum reaches 2^256.
func foldSafe(logs []*FoldLog) bool {
	var total uint256.Int
	for _, l := range logs {
		for i := range l.recs {
			r := &l.recs[i]
			if r.hasWrite && !below255(r.write) {
				return false
			}
			if r.hasDelta {
				if !r.hasWrite && (!r.hasRead || !below255(r.read)) {
					return false
				}
				if _, overflow := total.AddOverflow(&total, &r.delta); overflow {
					return false
				}
			}
		}
	}
	return total[3]>>63 == 0
}

// below255 reports whether the integer DecodeUint reads from b is below 2^255.
func below255(b []byte) bool {
	return len(b) < 32 || b[len(b)-32] < 0x80
}

// merged calls f for each record of logs in seq order (and, within a view,
// in log order).
func merged(logs []*FoldLog, f func(r *foldRec)) {
	pos := make([]int, len(logs))
	for {
		next := -1
		for j, l := range logs {
			if pos[j] < len(l.recs) && (next < 0 || l.recs[pos[j]].seq < logs[next].recs[pos[next]].seq) {
				next = j
			}
		}
		if next < 0 {
			return
		}
		l := logs[next]
		seq := l.recs[pos[next]].seq
		for pos[next] < len(l.recs) && l.recs[pos[next]].seq == seq {
			f(&l.recs[pos[next]])
			pos[next]++
		}
	}
}

// foldSerial is the commit loop over the logged views.
func (b *Block) foldSerial(logs []*FoldLog, failed func(seq int, err error)) {
	broken := int32(-1) // the view whose commit failed: skip the rest of it
	merged(logs, func(r *foldRec) {
		if r.seq == broken {
			return
		}
		s := int(r.shard)
		if r.hasWrite {
			b.setShard(s, r.key, r.write)
		}
		if r.hasDelta {
			sum, err := addBytes(b.getShard(s, r.key), &r.delta)
			if err != nil {
				broken = r.seq
				failed(int(r.seq), fmt.Errorf("%w at key %q", err, r.key))
				return
			}
			b.setShard(s, r.key, sum)
		}
	})
}

// foldShards is worker w's share of Fold: the keys of the shards s with
// s % workers == w, which no other worker reads or writes.
func (b *Block) foldShards(logs []*FoldLog, w, workers int) {
	for s := w; s < blockShards; s += workers {
		n := 0
		for _, l := range logs {
			n += l.counts[s]
		}
		if n > 0 && len(b.dirty[s]) == 0 {
			b.dirty[s] = make(map[string][]byte, n)
		}
	}
	// Running sums of the keys added to last; a key's sum is written back
	// when it is evicted, overwritten, or at the end.
	var sums [4]struct {
		key   string
		shard int
		sum   uint256.Int
		used  bool
	}
	victim := 0
	merged(logs, func(r *foldRec) {
		s := int(r.shard)
		if s%workers != w {
			return
		}
		c := -1
		for j := range sums {
			if sums[j].used && sums[j].shard == s && sums[j].key == r.key {
				c = j
				break
			}
		}
		if r.hasWrite {
			if c >= 0 {
				sums[c].used = false // the write replaces the sum
			}
			if !r.hasDelta {
				b.setShard(s, r.key, r.write)
				return
			}
		} else if c >= 0 {
			sums[c].sum.Add(&sums[c].sum, &r.delta)
			return
		}
		// Start a running sum from the value the addition applies to.
		var cur []byte
		if r.hasWrite {
			cur = r.write
		} else if x, ok := b.dirty[s][r.key]; ok {
			cur = x
		} else if r.hasRead {
			cur = r.read // what b's base held when the view read it
		} else {
			cur = b.base.Get([]byte(r.key))
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
			b.setShard(sums[c].shard, sums[c].key, EncodeUint(&sums[c].sum))
		}
		sums[c].key, sums[c].shard, sums[c].used = r.key, s, true
		sums[c].sum.SetBytes(cur)
		sums[c].sum.Add(&sums[c].sum, &r.delta)
	})
	for j := range sums {
		if sums[j].used {
			b.setShard(sums[j].shard, sums[j].key, EncodeUint(&sums[j].sum))
		}
	}
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
