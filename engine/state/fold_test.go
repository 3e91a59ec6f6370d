package state

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/holiman/uint256"
)

// randomViews builds views over blk that write, add to and revert keys
// from a small pool, so that views share keys in every combination
// (including ones the scheduler would never put in one wave). huge makes
// some values large enough for additions to overflow.
func randomViews(rng *rand.Rand, blk *Block, huge bool) []*TxView {
	views := make([]*TxView, rng.IntN(40))
	keys := rng.IntN(30) + 1
	if huge {
		keys = rng.IntN(4) + 1
	}
	for i := range views {
		if rng.IntN(8) == 0 {
			continue // a failed transaction
		}
		v := NewTxView(blk)
		for n := rng.IntN(12); n > 0; n-- {
			k := []byte(fmt.Sprintf("k%d", rng.IntN(keys)))
			switch op := rng.IntN(10); {
			case op < 4:
				amt := uint256.NewInt(uint64(rng.IntN(1000)))
				if huge && rng.IntN(4) == 0 {
					amt = new(uint256.Int).Lsh(uint256.NewInt(uint64(rng.IntN(3)+1)), 254)
				}
				_ = v.AddUint(k, amt)
			case op < 7:
				var val []byte
				switch rng.IntN(4) {
				case 0: // delete
				case 1:
					val = []byte{byte(rng.IntN(256)), 7, 7} // not an integer's form
				default:
					val = EncodeUint(uint256.NewInt(uint64(rng.IntN(1000))))
				}
				v.Set(k, val)
			case op < 9:
				s := v.Snapshot()
				v.Set(k, []byte{1})
				_ = v.AddUint(k, uint256.NewInt(5))
				v.RevertToSnapshot(s - rng.IntN(s+1))
			default:
				v.Get(k)
			}
		}
		views[i] = v
	}
	return views
}

// toLogs records views in 1 to 3 logs, as workers taking views in turn would.
func toLogs(rng *rand.Rand, views []*TxView) []*FoldLog {
	logs := make([]*FoldLog, rng.IntN(3)+1)
	for i := range logs {
		logs[i] = new(FoldLog)
	}
	for seq, v := range views {
		if v != nil {
			logs[rng.IntN(len(logs))].Add(seq, v)
		}
	}
	return logs
}

// TestFoldMatchesCommitLoop is the differential test of Fold: on random
// views it leaves the block as committing each view in order does, and
// reports the same failed views with the same errors, whether it folds
// in parallel or (when an addition might overflow) runs the loop.
func TestFoldMatchesCommitLoop(t *testing.T) {
	parallel, serial, hugeParallel := 0, 0, 0
	for seed := 0; seed < 3000; seed++ {
		rng := rand.New(rand.NewPCG(uint64(seed), 5))
		huge := seed%3 == 0
		base := mapBackend{}
		for i := 0; i < 10; i++ {
			if rng.IntN(2) == 0 {
				base[fmt.Sprintf("k%d", rng.IntN(30))] = EncodeUint(uint256.NewInt(uint64(rng.IntN(100))))
			}
		}
		if huge {
			base["k0"] = EncodeUint(new(uint256.Int).Sub(new(uint256.Int).SetAllOne(), uint256.NewInt(800)))
			base["k3"] = EncodeUint(new(uint256.Int).Lsh(uint256.NewInt(3), 253)) // below 2^255, but not far
		}
		// Some keys already written in the block before this wave.
		pre := func(b *Block) {
			b.Set([]byte("k1"), EncodeUint(uint256.NewInt(3)))
			b.Set([]byte("k2"), nil)
		}
		loop, fold := NewBlock(base), NewBlock(base)
		pre(loop)
		pre(fold)
		// The same views, built twice from the same seed over each block.
		vs := randomViews(rand.New(rand.NewPCG(uint64(seed), 6)), loop, huge)
		vp := randomViews(rand.New(rand.NewPCG(uint64(seed), 6)), fold, huge)
		var want, got []string
		for seq, v := range vs {
			if v != nil {
				if err := v.Commit(); err != nil {
					want = append(want, fmt.Sprintf("%d: %v", seq, err))
				}
			}
		}
		logs := toLogs(rng, vp)
		if foldSafe(logs) {
			parallel++
			if huge {
				hugeParallel++
			}
			if len(want) > 0 {
				t.Fatalf("seed %d: Fold would fold in parallel views whose commit overflows: %v", seed, want)
			}
		} else {
			serial++
			if !huge {
				t.Fatalf("seed %d: Fold refused to fold in parallel views whose values are all far below 2^255", seed)
			}
		}
		fold.Fold(logs, 1+seed%5, func(seq int, err error) { got = append(got, fmt.Sprintf("%d: %v", seq, err)) })
		for _, l := range logs {
			if !reflect.DeepEqual(*l, *emptied(l)) {
				t.Fatalf("seed %d: Fold left a log not empty", seed)
			}
		}
		if a, b := loop.Changes(), fold.Changes(); !sameChanges(a, b) {
			t.Fatalf("seed %d: Fold gives\n%v\nthe commit loop\n%v", seed, b, a)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("seed %d: Fold reports failures %v, the commit loop %v", seed, got, want)
		}
	}
	if parallel == 0 || serial == 0 || hugeParallel == 0 {
		t.Fatalf("%d parallel folds (%d with huge values), %d serial: the test misses a case", parallel, hugeParallel, serial)
	}
}

// emptied is l as Reset leaves it: no records, its memory kept.
func emptied(l *FoldLog) *FoldLog {
	e := new(FoldLog)
	for s := range l.shards {
		e.shards[s] = l.shards[s][:0]
	}
	return e
}

func sameChanges(a, b []Change) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i].Key, b[i].Key) || !bytes.Equal(a[i].Value, b[i].Value) || (a[i].Value == nil) != (b[i].Value == nil) {
			return false
		}
	}
	return true
}

// TestFoldRefusesOverflow pins the cases the overflow bound must catch:
// a sum of additions from several views that overflows only with the
// value it starts from, and a value at or above 2^255.
func TestFoldRefusesOverflow(t *testing.T) {
	pow := func(n uint) *uint256.Int { return new(uint256.Int).Lsh(uint256.NewInt(1), n) }
	for name, c := range map[string]struct {
		base *uint256.Int
		adds []*uint256.Int
	}{
		"sum":  {new(uint256.Int).Lsh(uint256.NewInt(3), 253), []*uint256.Int{pow(255), pow(254)}},
		"base": {new(uint256.Int).Sub(new(uint256.Int).SetAllOne(), uint256.NewInt(10)), []*uint256.Int{uint256.NewInt(6), uint256.NewInt(6)}},
	} {
		blk := NewBlock(mapBackend{"k": EncodeUint(c.base)})
		log := new(FoldLog)
		for seq, a := range c.adds {
			v := NewTxView(blk)
			if err := v.AddUint([]byte("k"), a); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			log.Add(seq, v)
		}
		if foldSafe([]*FoldLog{log}) {
			t.Fatalf("%s: Fold would add in parallel what overflows", name)
		}
		var failed []int
		blk.Fold([]*FoldLog{log}, 2, func(seq int, err error) { failed = append(failed, seq) })
		if len(failed) != 1 || failed[0] != 1 {
			t.Fatalf("%s: failed views %v, want [1]", name, failed)
		}
	}
}
