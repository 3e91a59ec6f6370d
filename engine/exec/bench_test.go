package exec_test

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/types"
)

// benchBlock makes n Ledger transfers from n distinct funded senders, to
// distinct receivers (hot=false) or all to one account (hot=true).
func benchBlock(n int, hot bool) (mapBackend, []*types.Tx, []common.Address) {
	base := mapBackend{}
	blk := state.NewBlock(base)
	l := ledger.New()
	rng := rand.New(rand.NewPCG(1, 1))
	txs := make([]*types.Tx, n)
	senders := make([]common.Address, n)
	merchant := common.HexToAddress("0xfeed")
	for i := range txs {
		senders[i] = common.BigToAddress(big.NewInt(int64(1_000_000 + i)))
		ledger.IssueGenesis(blk, "CNY", senders[i], uint256.NewInt(1000))
		to := common.BigToAddress(big.NewInt(int64(2_000_000 + i)))
		if hot {
			to = merchant
		}
		txs[i] = newTx(rng, &l.Addr, must(l.Pack("transfer", "CNY", to, big.NewInt(7))))
		txs[i].Gas = 100_000
	}
	for _, c := range blk.Changes() {
		base[string(c.Key)] = c.Value
	}
	return base, txs, senders
}

// BenchmarkBlock10k runs a block of 10,000 transfers serially and on the
// DAG scheduler: distinct accounts, and payments into one hot account
// (commutative deltas). Compare ns/op of serial and parallel in one run.
func BenchmarkBlock10k(b *testing.B) {
	for _, hot := range []bool{false, true} {
		name := "distinct"
		if hot {
			name = "hot-account"
		}
		base, txs, senders := benchBlock(10_000, hot)
		x := exec.NewExecutor(nil, ledger.New())
		bc := &exec.BlockContext{ChainID: "t", Height: 1, Suite: crypto.Secp256k1()}
		for _, tx := range txs {
			tx.Hash(bc.Suite) // cached, as after the pool
		}
		b.Run(name+"/serial", func(b *testing.B) {
			for b.Loop() {
				if _, err := x.ExecuteSerial(bc, state.NewBlock(base), txs, senders); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/parallel", func(b *testing.B) {
			for b.Loop() {
				if _, err := x.ExecuteParallel(bc, state.NewBlock(base), txs, senders, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
