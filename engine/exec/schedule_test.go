package exec

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
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
// than the compact declaration holds, barriers, 1 to 4 workers.
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
			for k := rng.IntN(2 * inlineAccs); k > 0; k-- {
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
