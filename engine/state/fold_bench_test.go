package state

import (
	"fmt"
	"testing"

	"github.com/holiman/uint256"
)

// BenchmarkFold folds a wave of 10,000 transfer-shaped views (a write and
// a delta each), serially (Commit in order) and with Fold.
func BenchmarkFold(b *testing.B) {
	for _, hot := range []bool{false, true} {
		base := mapBackend{}
		for i := 0; i < 10000; i++ {
			base[fmt.Sprintf("ledger/b/CNY/sender-%020d", i)] = EncodeUint(uint256.NewInt(1000))
		}
		mk := func(blk *Block) []*TxView {
			views := make([]*TxView, 10000)
			for i := range views {
				v := NewTxView(blk)
				v.Set([]byte(fmt.Sprintf("ledger/b/CNY/sender-%020d", i)), EncodeUint(uint256.NewInt(993)))
				to := fmt.Sprintf("ledger/b/CNY/recver-%020d", i)
				if hot {
					to = "ledger/b/CNY/merchant"
				}
				_ = v.AddUint([]byte(to), uint256.NewInt(7))
				views[i] = v
			}
			return views
		}
		name := map[bool]string{false: "distinct", true: "hot"}[hot]
		for _, workers := range []int{0, 1, 2} {
			b.Run(fmt.Sprintf("%s/workers=%d", name, workers), func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					blk := NewBlock(base)
					views := mk(blk)
					logs := make([]*FoldLog, max(workers, 1))
					for w := range logs {
						logs[w] = new(FoldLog)
						for seq := w; seq < len(views); seq += len(logs) {
							logs[w].Add(seq, views[seq])
						}
					}
					b.StartTimer()
					if workers == 0 {
						for _, v := range views {
							_ = v.Commit()
						}
					} else {
						blk.Fold(logs, workers, func(int, error) { b.Fatal("overflow") })
					}
				}
			})
		}
	}
}
