package exec

import (
	"fmt"
	"testing"
)

// BenchmarkSchedule10k schedules the accesses of BenchmarkBlock10k's blocks
// (a debit and a credit per transaction; distinct receivers, or one hot
// receiver taking deltas) on one and on two workers.
func BenchmarkSchedule10k(b *testing.B) {
	for _, hot := range []bool{false, true} {
		accs := make([][]Access, 10_000)
		for i := range accs {
			to := fmt.Sprintf("ledger/b/CNY/to%08d", i)
			if hot {
				to = "ledger/b/CNY/merchant"
			}
			accs[i] = []Access{{Key: fmt.Sprintf("ledger/b/CNY/from%08d", i), Mode: Write}, {Key: to, Mode: Delta}}
		}
		for _, workers := range []int{1, 2} {
			name := fmt.Sprintf("hot=%v/workers=%d", hot, workers)
			b.Run(name, func(b *testing.B) {
				t := newTeam(workers)
				defer t.close()
				var sc scheduleScratch
				for b.Loop() {
					schedule(len(accs), func(i int) []Access { return accs[i] }, func(int) bool { return false }, t, &sc)
				}
			})
		}
	}
}
