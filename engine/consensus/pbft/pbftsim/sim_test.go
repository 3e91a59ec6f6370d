package pbftsim

import (
	"flag"
	"testing"
	"time"
)

var seeds = flag.Int("seeds", 0, "run this many seeds per validator count instead of the default")

// seedCount is the default number of seeds for n validators, smaller under
// the race detector.
func seedCount(n int) int {
	if *seeds > 0 {
		return *seeds
	}
	if raceEnabled {
		return 6
	}
	if testing.Short() {
		return 20
	}
	return 300
}

// TestSimulation is the safety-then-liveness check: for every seed, no two
// honest validators commit different blocks at a height, every commit
// carries a certificate types.VerifyCertificate accepts (Chain.Apply checks
// it), and after the faults stop every honest validator commits new blocks
// within LivenessTicks. A failing seed is printed and replays exactly:
// go test -run 'TestSimulation/n=4' -seed N.
func TestSimulation(t *testing.T) {
	for _, n := range []int{4, 7} {
		t.Run(map[int]string{4: "n=4", 7: "n=7"}[n], func(t *testing.T) {
			runSeeds(t, n, seedCount(n))
		})
	}
}

var onlySeed = flag.Uint64("seed", 0, "run only this seed (to replay a failure)")

func runSeeds(t *testing.T, n, count int) {
	start, blocks := time.Now(), uint64(0)
	first, last := uint64(1), uint64(count)
	if *onlySeed != 0 {
		first, last = *onlySeed, *onlySeed
	}
	for seed := first; seed <= last; seed++ {
		res, err := Run(DefaultConfig(seed, n))
		if err != nil {
			t.Fatalf("%v\nreplay: go test ./engine/consensus/pbft/pbftsim -run 'TestSimulation/n=%d' -seed %d", err, n, seed)
		}
		blocks += res.Heights[0]
	}
	t.Logf("%d seeds, n=%d: %d blocks at validator 0, %v", last-first+1, n, blocks, time.Since(start))
}

// TestDeterminism runs one seed twice: same seed, same trace.
func TestDeterminism(t *testing.T) {
	for _, n := range []int{4, 7} {
		cfg := DefaultConfig(42, n)
		a, errA := Run(cfg)
		b, errB := Run(cfg)
		if (errA == nil) != (errB == nil) || a.TraceHash != b.TraceHash {
			t.Fatalf("n=%d: seed 42 diverged: %x vs %x (%v, %v)", n, a.TraceHash, b.TraceHash, errA, errB)
		}
		c, _ := Run(DefaultConfig(43, n))
		if c.TraceHash == a.TraceHash {
			t.Fatalf("n=%d: seeds 42 and 43 gave one trace: the hash covers nothing", n)
		}
	}
}
