package loadgen

import (
	"bytes"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/types"
)

// runner makes a Runner of n transfers among three keys, signed at head,
// without a node (refresh and sign need none).
func runner(t *testing.T, n int, head, window uint64) *Runner {
	t.Helper()
	s := crypto.Secp256k1()
	r := &Runner{cfg: Config{Txs: n, Accounts: 3, Batch: 10, Workers: 1, Asset: "CNY", Seed: 1}, suite: s, chainID: "lg", ahead: aheadFor(window)}
	for range 3 {
		k, err := s.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		r.keys = append(r.keys, k)
	}
	if err := r.sign(head); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRefreshSignsAgainNearTheBlockLimit: a transfer the chain has come
// within half its signing distance of is signed again with a fresh limit (same
// sender, receiver and call), and the tracker follows its new hash; the
// others are sent as signed.
func TestRefreshSignsAgainNearTheBlockLimit(t *testing.T) {
	for _, window := range []uint64{600, 5000, 40} {
		testRefresh(t, window)
	}
}

func testRefresh(t *testing.T, window uint64) {
	const head0 = 100
	r := runner(t, 20, head0, window)
	signAhead, refreshMargin := r.ahead, r.margin()
	if signAhead > window || signAhead > maxAhead || signAhead < min(window, maxAhead) {
		t.Fatalf("window %d: signing %d blocks ahead", window, signAhead)
	}
	for i, l := range r.limits {
		if l != head0+signAhead {
			t.Fatalf("transfer %d signed with limit %d, want %d", i, l, head0+signAhead)
		}
	}
	tr := newTracker(r.hash, head0)
	before := append([][]byte(nil), r.txs...)
	oldHash := append([]common.Hash(nil), r.hash...)

	// Still refreshMargin blocks of validity left: nothing to do.
	fresh := head0 + signAhead - refreshMargin
	if n, err := r.refresh(0, 20, fresh, tr); err != nil || n != 0 {
		t.Fatalf("refresh with %d blocks left: %d signed again, %v", signAhead-(fresh-head0), n, err)
	}
	// One block fewer: transfers [5, 15) are due.
	head := fresh + 1
	n, err := r.refresh(5, 15, head, tr)
	if err != nil || n != 10 {
		t.Fatalf("refresh: %d signed again (want 10), %v", n, err)
	}
	for i := range 20 {
		due := i >= 5 && i < 15
		if !due {
			if !bytes.Equal(r.txs[i], before[i]) || r.hash[i] != oldHash[i] || tr.index[oldHash[i]] != i {
				t.Fatalf("transfer %d outside the range changed", i)
			}
			continue
		}
		if r.limits[i] != head+signAhead {
			t.Fatalf("transfer %d: limit %d, want %d", i, r.limits[i], head+signAhead)
		}
		nt, err := types.DecodeTx(r.txs[i])
		if err != nil {
			t.Fatal(err)
		}
		ot, _ := types.DecodeTx(before[i])
		from, err := nt.Sender(r.suite)
		if err != nil {
			t.Fatalf("transfer %d signed again does not verify: %v", i, err)
		}
		ofrom, _ := ot.Sender(r.suite)
		if from != ofrom || !bytes.Equal(nt.Data, ot.Data) || *nt.To != *ot.To || nt.BlockLimit != head+signAhead {
			t.Fatalf("transfer %d signed again is another transfer", i)
		}
		if nt.Hash(r.suite) != r.hash[i] || r.hash[i] == oldHash[i] {
			t.Fatalf("transfer %d: hash not updated", i)
		}
		if j, ok := tr.index[r.hash[i]]; !ok || j != i {
			t.Fatalf("tracker does not map the new hash of transfer %d", i)
		}
		if _, ok := tr.index[oldHash[i]]; ok {
			t.Fatalf("tracker still maps the old hash of transfer %d", i)
		}
	}
}
