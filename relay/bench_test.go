package relay_test

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/settlement"
	"github.com/tallyhq/tally/engine/types"
)

// bigSummary has n entries, one per merchant, continuing prev.
func bigSummary(seq uint64, prev *settlement.Summary, n int) *settlement.Summary {
	out := &settlement.Summary{ChainID: "user-1", Seq: seq, FromHeight: 1, ToHeight: seq * 10}
	if prev != nil {
		out.PrevHash, out.FromHeight = prev.Hash(s), prev.ToHeight
	}
	for i := 0; i < n; i++ {
		open := big.NewInt(0)
		if prev != nil {
			open = prev.Entries[i].Closing
		}
		out.Entries = append(out.Entries, settlement.Entry{Merchant: common.BigToAddress(big.NewInt(int64(i + 1))), Asset: "CNY",
			Opening: open, Income: big.NewInt(1000), Payouts: big.NewInt(10), AllocIn: big.NewInt(0), SweepOut: big.NewInt(0),
			Closing: new(big.Int).Add(open, big.NewInt(990)), PayCount: 7, PayoutCount: 1})
	}
	return out
}

// BenchmarkHubBooking measures summaries of 100 entries verified (quorum
// certificate of 3 of 4 validators, Merkle branch, arithmetic, order) and
// booked per second, through the hub chain's own block building and
// atomic commit, in blocks of 50 bookings.
func BenchmarkHubBooking(b *testing.B) {
	t := &testing.T{}
	h := newHub(t)
	fg := newForger(t, "user-1")
	h.send(h.admin, "registerChain", "user-1", fg.client())
	const perBlock = 50
	var prev *settlement.Summary
	seq := uint64(0)
	b.ResetTimer()
	for booked := 0; booked < b.N; {
		b.StopTimer()
		var txs []*types.Tx
		for i := 0; i < perBlock && booked+i < b.N; i++ {
			seq++
			sum := bigSummary(seq, prev, 100)
			prev = sum
			data, _ := h.hub.Pack("book", fg.bundle(sum, sum.ToHeight, fg.vals[:3]).Encode())
			tx := types.NewTx("hub", h.c.Head().Height+10, &h.hub.Addr, 5_000_000, data)
			tx.Sign(h.admin)
			tx.Sender(s)
			txs = append(txs, tx)
		}
		b.StartTimer()
		e, rej, err := h.c.Build(txs, chain.Proposal{Proposer: h.val.Address()})
		if err != nil || len(rej) > 0 {
			b.Fatalf("build: %v %v", err, rej)
		}
		for i, r := range e.Receipts {
			if r.Status != types.StatusOK {
				b.Fatalf("booking %d failed: %s", i, reason(r))
			}
		}
		if err := h.c.Commit(e, nil); err != nil {
			b.Fatal(err)
		}
		booked += len(txs)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "summaries/s")
}
