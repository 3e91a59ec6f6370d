package chain_test

import (
	"fmt"
	"log/slog"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/storage"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
)

const benchSenders = 256

// BenchmarkBuildCommit builds and commits blocks of N Ledger transfers on
// badger with durable (fsynced) writes: admission checks, execution, roots,
// the solo certificate and the atomic block write. Signing is outside the
// timer, and the pool would have cached the senders. One op is one block.
func BenchmarkBuildCommit(b *testing.B) {
	for _, s := range []crypto.Suite{crypto.Secp256k1(), crypto.SM()} {
		for _, n := range []int{100, 1000, 5000} {
			b.Run(fmt.Sprintf("%s/txs=%d", s.Name(), n), func(b *testing.B) {
				benchBuildCommit(b, s, n)
			})
		}
	}
}

func benchBuildCommit(b *testing.B, s crypto.Suite, n int) {
	val := benchKey(b, s, 0)
	keys := make([]crypto.PrivateKey, benchSenders)
	gen := &chain.Genesis{
		ChainID: "bench", Suite: s.Name(), Consensus: chain.ConsensusSolo,
		Validators: []chain.GenesisValidator{{PubKey: hexutil.Encode(val.PublicKey())}},
	}
	for i := range keys {
		keys[i] = benchKey(b, s, i+1)
		gen.Balances = append(gen.Balances, chain.GenesisBalance{Asset: "CNY", Address: keys[i].Address().Hex(), Amount: "1000000000000"})
	}
	db, err := storage.OpenBadger(b.TempDir(), storage.DefaultBadgerOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	x := exec.NewExecutor(nil, system.NewSystemConfig(), system.NewRoles(), ledger.New())
	c, err := chain.Open(db, gen, x, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	l := ledger.New()
	to := ledger.Address
	sign := func() []*types.Tx {
		txs := make([]*types.Tx, n)
		head := c.Head().Height
		for i := range txs {
			data, err := l.Pack("transfer", "CNY", keys[(i+1)%benchSenders].Address(), big.NewInt(1))
			if err != nil {
				b.Fatal(err)
			}
			tx := types.NewTx(gen.ChainID, head+100, &to, 100_000, data)
			if err := tx.Sign(keys[i%benchSenders]); err != nil { // Sign caches the sender, as the pool does
				b.Fatal(err)
			}
			txs[i] = tx
		}
		return txs
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		txs := sign()
		b.StartTimer()
		e, rej, err := c.Build(txs, chain.Proposal{Proposer: val.Address(), TimestampMs: 1 + c.Head().Timestamp})
		if err != nil || len(rej) > 0 || len(e.Block.Txs) != n {
			b.Fatalf("build: %v, %d rejected, %d in", err, len(rej), len(e.Block.Txs))
		}
		h := e.Block.Header
		hash := h.Hash(s)
		sig, err := val.Sign(types.CommitDigest(s, h.ChainID, h.Height, h.Round, hash))
		if err != nil {
			b.Fatal(err)
		}
		cert := &types.Certificate{ChainID: h.ChainID, Height: h.Height, Round: h.Round, BlockHash: hash,
			Votes: []types.Vote{{Signer: val.Address(), Sig: sig}}}
		if err := c.Commit(e, cert); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if r := benchHeadStatus(b, c); r != types.StatusOK {
		b.Fatalf("last block's first receipt: %v", r)
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "tx/s")
}

// benchHeadStatus is the status of the head block's first receipt: the transfers ran.
func benchHeadStatus(b *testing.B, c *chain.Chain) types.Status {
	rs, err := c.Receipts(c.Head().Height)
	if err != nil || len(rs) == 0 {
		b.Fatalf("receipts of the head: %v", err)
	}
	return rs[0].Status
}

func benchKey(b *testing.B, s crypto.Suite, i int) crypto.PrivateKey {
	k := make([]byte, 32)
	k[0], k[30], k[31] = 0x33, byte(i>>8), byte(i+1)
	key, err := s.PrivateKeyFromBytes(k)
	if err != nil {
		b.Fatal(err)
	}
	return key
}
