package simulation

import (
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/api/pb"
)

// TestTrackerExpiredIsNotLost: an admitted transaction that never commits
// is lost while the chain's head is below its block limit, and expired once
// the head reaches it (the chain drops it by rule); drain waits only for the
// first kind.
func TestTrackerExpiredIsNotLost(t *testing.T) {
	tr := newTracker(time.Now())
	tr.track(common.Hash{1}, "u1", "pay", 100, time.Now())
	tr.track(common.Hash{2}, "u1", "pay", 300, time.Now())
	tr.track(common.Hash{3}, "u2", "pay", 50, time.Now())
	head := func(chain string, h uint64) { tr.block(chain, &pb.Block{Header: &pb.Header{Height: h}}, time.Now()) }
	head("u1", 99)
	head("u2", 10)
	lost, expired := tr.lostByChain()
	if lost["u1"] != 2 || expired["u1"] != 0 || lost["u2"] != 1 || tr.unresolved() != 3 {
		t.Fatalf("heads below every limit: lost %v expired %v unresolved %d", lost, expired, tr.unresolved())
	}
	head("u1", 100) // reaches the first limit: that transaction can no longer commit
	head("u2", 50)
	lost, expired = tr.lostByChain()
	if lost["u1"] != 1 || expired["u1"] != 1 || lost["u2"] != 0 || expired["u2"] != 1 || tr.unresolved() != 1 {
		t.Fatalf("heads at the limits: lost %v expired %v unresolved %d", lost, expired, tr.unresolved())
	}
}
