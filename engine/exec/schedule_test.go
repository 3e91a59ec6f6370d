package exec

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// scheduleReference is the plain Schedule: every key in a map by name.
func scheduleReference(accs [][]Access, barrier []bool) []int {
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

// TestScheduleMatchesReference checks the hashed, pruned, partitioned
// schedule against the plain one on random blocks: few or many keys, hot
// keys, keys repeated within a transaction, transactions with more accesses
// than the compact declaration holds (and blocks of them with more keys
// than the key table is first sized for), barriers, 1 to 4 workers.
func TestScheduleMatchesReference(t *testing.T) {
	sc := new(scheduleScratch) // reused across blocks, as the executor does
	for seed := 0; seed < 400; seed++ {
		rng := rand.New(rand.NewPCG(uint64(seed), 3))
		n := rng.IntN(5000) + 1
		keys := []int{3, 50, 5000, 100000}[rng.IntN(4)]
		accs := make([][]Access, n)
		barrier := make([]bool, n)
		for i := range accs {
			barrier[i] = rng.IntN(200) == 0
			width := 2 * inlineAccs
			if seed%5 == 0 {
				width = 40 // wide transactions: the key table grows during the pass
			}
			for k := rng.IntN(width); k > 0; k-- {
				key := rng.IntN(keys)
				if rng.IntN(4) == 0 {
					key = rng.IntN(3) // hot keys
				}
				accs[i] = append(accs[i], Access{Key: fmt.Sprintf("key/%d", key), Mode: AccessMode(rng.IntN(3) + 1)})
			}
		}
		want := scheduleReference(accs, barrier)
		tm := newTeam(1 + seed%4)
		if got := schedule(len(accs), func(i int) []Access { return accs[i] }, func(i int) bool { return barrier[i] }, tm, sc); !slices.Equal(got, want) {
			t.Fatalf("seed %d: waves differ from the reference", seed)
		}
		tm.close()
	}
}

// TestDeclareAndAssignAnyOrder has chunks declared slowly and out of order
// (random pauses) on 2 to 4 workers, so that the pass in block order is
// taken on by different workers, waits for chunks, and is left for the
// caller to finish: the waves must still be the reference's.
func TestDeclareAndAssignAnyOrder(t *testing.T) {
	sc := new(scheduleScratch)
	for seed := 0; seed < 60; seed++ {
		rng := rand.New(rand.NewPCG(uint64(seed), 5))
		n := 200 + rng.IntN(2000)
		accs := make([][]Access, n)
		barrier := make([]bool, n)
		pause := make([]time.Duration, n)
		for i := range accs {
			barrier[i] = rng.IntN(300) == 0
			for k := rng.IntN(inlineAccs + 2); k > 0; k-- {
				accs[i] = append(accs[i], Access{Key: fmt.Sprintf("k%d", rng.IntN(n/4+1)), Mode: AccessMode(rng.IntN(3) + 1)})
			}
			if rng.IntN(40) == 0 {
				pause[i] = time.Duration(rng.IntN(300)) * time.Microsecond
			}
		}
		want := scheduleReference(accs, barrier)
		tm := newTeam(2 + seed%3)
		got := sc.declareAndAssign(tm, n, func(_, lo, hi int) {
			for i := lo; i < hi; i++ {
				time.Sleep(pause[i])
				sc.decl.set(i, accs[i], barrier[i])
			}
		}, func(i int) []Access { return accs[i] })
		tm.close()
		if !slices.Equal(got, want) {
			t.Fatalf("seed %d: waves differ from the reference", seed)
		}
	}
}
