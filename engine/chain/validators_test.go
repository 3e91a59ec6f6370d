package chain_test

import (
	"testing"

	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/storage"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
)

func adminTx(f *fixture, c *exec.Contract, method string, args ...any) *types.Tx {
	data, err := c.Pack(method, args...)
	if err != nil {
		f.t.Fatal(err)
	}
	tx := types.NewTx(f.gen.ChainID, f.c.Head().Height+100, &c.Addr, 200_000, data)
	if err := tx.Sign(f.admin); err != nil {
		f.t.Fatal(err)
	}
	return tx
}

// TestValidatorChangeTakesEffectNextBlock: a validator added in block h is in
// h's NextValidatorsHash and certifies h+1 on; a solo chain refuses changes.
func TestValidatorChangeTakesEffectNextBlock(t *testing.T) {
	f := newFixture(t, crypto.Secp256k1())
	ca := system.NewConsensusAdmin()
	newcomer := mustKey(t, f.suite)
	e, _ := f.commit(adminTx(f, ca, "addValidator", newcomer.PublicKey()))
	if e.Receipts[0].Status != types.StatusPermissionDenied && e.Receipts[0].Status != types.StatusInvalidArgument {
		t.Fatalf("solo chain accepted a validator change: %v", e.Receipts[0].Status)
	}
	g := *f.gen
	g.ChainID, g.Consensus = "bft", chain.ConsensusPBFT
	f.gen = &g
	f.db = storage.NewMemory()
	f.open()
	e, _ = f.commit(adminTx(f, ca, "addValidator", newcomer.PublicKey()))
	if e.Receipts[0].Status != types.StatusOK {
		t.Fatalf("addValidator: %v %s", e.Receipts[0].Status, reasonOf(e.Receipts[0]))
	}
	h := e.Block.Header
	vs, _ := f.c.Validators()
	if !vs.Contains(newcomer.Address()) || h.NextValidatorsHash != vs.Hash(f.suite) || h.ValidatorsHash == h.NextValidatorsHash {
		t.Fatalf("header does not commit to the new set")
	}
	next, _ := f.commit(adminTx(f, ca, "removeValidator", f.val.Address()))
	if next.Block.Header.ValidatorsHash != h.NextValidatorsHash {
		t.Fatal("the next block is not certified by the new set")
	}
	if vs, _ := f.c.Validators(); vs.Contains(f.val.Address()) || vs.Len() != 1 {
		t.Fatalf("removeValidator did not take effect: %d validators", vs.Len())
	}
	last, _ := f.commit(adminTx(f, ca, "removeValidator", newcomer.Address()))
	if last.Receipts[0].Status == types.StatusOK {
		t.Fatal("removed the last validator")
	}
}

func reasonOf(r *types.Receipt) string {
	s, _ := exec.RevertReason(r.Output)
	return s
}
