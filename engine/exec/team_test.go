package exec

import (
	"sync/atomic"
	"testing"
)

// TestTeamRunsEveryWorker checks that each job of a team runs once on each
// of its workers, and that run returns only after all of them.
func TestTeamRunsEveryWorker(t *testing.T) {
	for n := 1; n <= 4; n++ {
		tm := newTeam(n)
		for job := 0; job < 200; job++ {
			ran := make([]atomic.Int32, n)
			tm.run(func(w int) { ran[w].Add(1) })
			for w := range ran {
				if got := ran[w].Load(); got != 1 {
					t.Fatalf("team of %d, job %d: worker %d ran %d times", n, job, w, got)
				}
			}
			var sum atomic.Int64
			tm.parallelFor(1000, func(_, lo, hi int) {
				for i := lo; i < hi; i++ {
					sum.Add(int64(i))
				}
			})
			if sum.Load() != 999*1000/2 {
				t.Fatalf("team of %d, job %d: parallelFor covered a sum of %d", n, job, sum.Load())
			}
		}
		tm.close()
	}
}

// TestTeamRaisesPanics checks that a panic in any worker comes out of run.
func TestTeamRaisesPanics(t *testing.T) {
	for n := 1; n <= 3; n++ {
		for bad := 0; bad < n; bad++ {
			func() {
				tm := newTeam(n)
				defer tm.close()
				defer func() {
					if recover() == nil {
						t.Fatalf("team of %d: worker %d's panic was lost", n, bad)
					}
				}()
				tm.run(func(w int) {
					if w == bad {
						panic("boom")
					}
				})
			}()
		}
	}
}
