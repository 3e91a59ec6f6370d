package evm

import (
	"bytes"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/types"
)

// mixedWorld has Ledger money on plain accounts and on a contract, a
// token and a counter, so that EVM barriers and Ledger transfers in one
// block read and write the same keys.
type mixedWorld struct {
	*world
	accts             []common.Address
	fwd, tok, counter common.Address
	hot               common.Address
}

func newMixedWorld(t *testing.T) *mixedWorld {
	w := &mixedWorld{world: newWorld(t, Options{})}
	for i := range 8 {
		w.accts = append(w.accts, common.BigToAddress(big.NewInt(int64(0x100+i))))
	}
	w.hot = w.accts[7]
	w.fwd = w.deploy(forwarderCode())
	w.counter = w.deploy(counterCode())
	r, _ := w.send(deployer, nil, tokenInit(big.NewInt(1_000_000)), 1_000_000)
	w.tok = r.ContractAddress
	blk := state.NewBlock(w.base)
	for _, a := range append(w.accts[:6], w.fwd) {
		check(t, ledger.IssueGenesis(blk, "CNY", a, u256(60)))
	}
	w.base.apply(blk.Changes())
	for _, a := range w.accts[:6] {
		w.call(deployer, w.tok, transferData(a, 1000))
	}
	return w
}

// randomTx is a Ledger transfer (often to the hot account), a contract
// paying through the Ledger, a token transfer, a counter bump, a failing
// or starving EVM call, or a deployment.
func (w *mixedWorld) randomTx(rng *rand.Rand) (*types.Tx, common.Address) {
	from, to := w.accts[rng.IntN(6)], w.accts[rng.IntN(len(w.accts))]
	amt := big.NewInt(int64(rng.IntN(25) + 1))
	var dst common.Address
	var data []byte
	gas := uint64(300_000)
	switch k := rng.IntN(100); {
	case k < 30:
		dst, data = ledger.Address, must(w.ledger.Pack("transfer", "CNY", to, amt))
	case k < 45:
		dst, data = ledger.Address, must(w.ledger.Pack("transfer", "CNY", w.hot, amt))
	case k < 58:
		mode := []uint64{fwdCall, fwdCall, fwdCallThenFail, fwdCatch}[rng.IntN(4)]
		dst, data = w.fwd, concat(word(mode), must(w.ledger.Pack("transfer", "CNY", to, amt)))
	case k < 72:
		dst, data = w.tok, transferData(to, amt.Uint64()*30)
	case k < 82:
		dst = w.counter
	case k < 88:
		dst, data, gas = w.tok, transferData(to, 1), 21_000+16*68 // starves
	case k < 92:
		dst, data = ledger.Address, must(w.ledger.Pack("balanceOf", "CNY", w.fwd))
	default:
		return w.tx(nil, initCode(counterCode()), 500_000), []common.Address{deployer, from}[rng.IntN(2)]
	}
	return w.tx(&dst, data, gas), from
}

func encodeBlock(t *testing.T, rs []*types.Receipt, blk *state.Block) []byte {
	b, err := rlp.EncodeToBytes([]any{rs, blk.Changes()})
	check(t, err)
	return b
}

// TestParallelMatchesSerialWithEVM: blocks mixing EVM barriers with Ledger
// transfers give the same receipts and change set on the DAG scheduler as
// serially, byte for byte.
func TestParallelMatchesSerialWithEVM(t *testing.T) {
	blocks := 2000
	if testing.Short() {
		blocks = 60
	}
	w := newMixedWorld(t)
	okEVM := 0
	for seed := range blocks {
		rng := rand.New(rand.NewPCG(uint64(seed), 5))
		n := 1 + rng.IntN(60)
		txs, senders := make([]*types.Tx, n), make([]common.Address, n)
		for i := range txs {
			txs[i], senders[i] = w.randomTx(rng)
		}
		serial, par := state.NewBlock(w.base), state.NewBlock(w.base)
		rs, err := w.x.ExecuteSerial(w.bc, serial, txs, senders)
		check(t, err)
		rp, err := w.x.ExecuteParallel(w.bc, par, txs, senders, 1+seed%4)
		check(t, err)
		if !bytes.Equal(encodeBlock(t, rs, serial), encodeBlock(t, rp, par)) {
			for i := range rs {
				if !bytes.Equal(rs[i].Encode(), rp[i].Encode()) {
					t.Fatalf("seed %d tx %d (to %v): serial %s, parallel %s", seed, i, txs[i].To, describe(rs[i]), describe(rp[i]))
				}
			}
			t.Fatalf("seed %d: state differs", seed)
		}
		for i, r := range rs {
			if txs[i].To != nil && *txs[i].To != ledger.Address && r.Status == types.StatusOK {
				okEVM++
			}
		}
		w.base.apply(serial.Changes()) // blocks build on each other
		w.bc.Height++
	}
	if okEVM < blocks {
		t.Fatalf("only %d successful EVM calls in %d blocks: the test is not exercising the EVM", okEVM, blocks)
	}
}
