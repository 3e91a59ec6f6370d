package userchain_test

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
	"github.com/tallyhq/tally/userchain"
)

type mapBackend map[string][]byte

func (m mapBackend) Get(k []byte) []byte { return m[string(k)] }

// hotVsDistinct builds 10,000 funded senders and two blocks: every sender
// pays one hot merchant's shadow, or every sender transfers to a distinct user.
func hotVsDistinct(b *testing.B) (mapBackend, []*types.Tx, []*types.Tx, []common.Address) {
	const n = 10_000
	base := mapBackend{}
	blk := state.NewBlock(base)
	admin, merchant, op := common.HexToAddress("0xad"), common.HexToAddress("0xfeed"), common.HexToAddress("0x0b")
	system.GrantGenesis(blk, system.RoleAdmin, admin)
	sh, l := userchain.New(), ledger.New()
	x := exec.NewExecutor(nil, append(system.Contracts(), l, sh)...)
	bc := &exec.BlockContext{ChainID: "u", Height: 1, Suite: crypto.Secp256k1()}
	reg := tx(b, sh, 0, "registerMerchant", merchant, op, "CNY")
	if r, _ := x.ApplyTx(bc, blk, reg, admin); r.Status != types.StatusOK {
		b.Fatalf("register: %v", r.Status)
	}
	senders := make([]common.Address, n)
	pays, transfers := make([]*types.Tx, n), make([]*types.Tx, n)
	for i := range senders {
		senders[i] = common.BigToAddress(big.NewInt(int64(1_000_000 + i)))
		ledger.IssueGenesis(blk, "CNY", senders[i], uint256.NewInt(1000))
		pays[i] = tx(b, sh, i+1, "pay", merchant, "CNY", big.NewInt(7), [32]byte{})
		transfers[i] = tx(b, l, n+i+1, "transfer", "CNY", common.BigToAddress(big.NewInt(int64(2_000_000+i))), big.NewInt(7))
	}
	for _, c := range blk.Changes() {
		base[string(c.Key)] = c.Value
	}
	return base, pays, transfers, senders
}

func tx(b *testing.B, c *exec.Contract, i int, method string, args ...any) *types.Tx {
	data, err := c.Pack(method, args...)
	if err != nil {
		b.Fatal(err)
	}
	t := &types.Tx{ChainID: "u", BlockLimit: 10, To: &c.Addr, Gas: 100_000, Data: data}
	big.NewInt(int64(i)).FillBytes(t.Nonce[:])
	t.Hash(crypto.Secp256k1())
	return t
}

// BenchmarkHotAccount: 10,000 payments into one merchant's shadow versus
// 10,000 transfers between distinct users, both on the parallel scheduler.
// The hot account must not be the bottleneck: compare ns/op in one run.
func BenchmarkHotAccount(b *testing.B) {
	base, pays, transfers, senders := hotVsDistinct(b)
	x := exec.NewExecutor(nil, append(system.Contracts(), ledger.New(), userchain.New())...)
	bc := &exec.BlockContext{ChainID: "u", Height: 2, Suite: crypto.Secp256k1()}
	for _, c := range []struct {
		name string
		txs  []*types.Tx
	}{{"pay-one-merchant", pays}, {"transfer-distinct", transfers}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				rs, err := x.ExecuteParallel(bc, state.NewBlock(base), c.txs, senders, 0)
				if err != nil || rs[0].Status != types.StatusOK || rs[len(rs)-1].Status != types.StatusOK {
					b.Fatalf("execution failed: %v", err)
				}
			}
			b.ReportMetric(float64(len(c.txs))*float64(b.N)/b.Elapsed().Seconds(), "tx/s")
		})
	}
}
