package api_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/tallyhq/tally/engine/api"
	"github.com/tallyhq/tally/engine/api/pb"
	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/node"
	"github.com/tallyhq/tally/engine/storage"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/txpool"
	"github.com/tallyhq/tally/engine/types"
)

// fixture is one chain behind an api.Server, sealed by hand: nothing
// commits unless the test calls seal, so "pending" stays pending.
type fixture struct {
	t      testing.TB
	suite  crypto.Suite
	val    crypto.PrivateKey
	admin  crypto.PrivateKey // ADMIN and ISSUER
	alice  crypto.PrivateKey // funded
	bob    crypto.PrivateKey // holds nothing
	gen    *chain.Genesis
	chain  *chain.Chain
	pool   *txpool.Pool
	srv    *api.Server
	ledger *exec.Contract
}

// Backend: the fixture's one chain.
func (f *fixture) Lookup(id string) (*chain.Chain, *txpool.Pool, error) {
	if id != "" && id != f.chain.ID() {
		return nil, nil, fmt.Errorf("%w: %q", api.ErrUnknownChain, id)
	}
	return f.chain, f.pool, nil
}
func (f *fixture) ChainIDs() []string { return []string{f.chain.ID()} }
func (f *fixture) NodeID() string     { return "test" }

const (
	fxMaxTxBytes = 2048
	fxAliceFunds = 1_000_000
)

func fixedKey(t testing.TB, s crypto.Suite, n byte) crypto.PrivateKey {
	t.Helper()
	b := make([]byte, 32)
	b[31], b[0] = n, 0x11
	k, err := s.PrivateKeyFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newFixture(t testing.TB, s crypto.Suite, poolCfg txpool.Config) *fixture {
	t.Helper()
	f := &fixture{t: t, suite: s, ledger: ledger.New()}
	f.val, f.admin, f.alice, f.bob = fixedKey(t, s, 1), fixedKey(t, s, 2), fixedKey(t, s, 3), fixedKey(t, s, 4)
	f.gen = &chain.Genesis{
		ChainID: "api-" + s.Name(), Suite: s.Name(), Consensus: chain.ConsensusSolo,
		Validators: []chain.GenesisValidator{{PubKey: hexutil.Encode(f.val.PublicKey())}},
		Roles:      map[string][]string{system.RoleAdmin: {f.admin.Address().Hex()}, system.RoleIssuer: {f.admin.Address().Hex()}},
		Balances:   []chain.GenesisBalance{{Asset: "CNY", Address: f.alice.Address().Hex(), Amount: fmt.Sprint(fxAliceFunds)}},
		Config:     map[string]uint64{system.CfgMaxTxBytes: fxMaxTxBytes, system.CfgTxWindow: 100, system.CfgTxGasLimit: 1_000_000},
	}
	c, err := chain.Open(storage.NewMemory(), f.gen, node.BaseExecutor(f.gen), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	f.chain, f.pool = c, txpool.New(c, poolCfg)
	f.srv = api.NewServer(f, "test")
	return f
}

// tx makes a signed transaction to a; edit may change it before signing.
func (f *fixture) tx(key crypto.PrivateKey, to common.Address, data []byte, edit func(*types.Tx)) *types.Tx {
	tx := types.NewTx(f.chain.ID(), f.chain.Head().Height+50, &to, 200_000, data)
	if edit != nil {
		edit(tx)
	}
	if err := tx.Sign(key); err != nil {
		f.t.Fatal(err)
	}
	return tx
}

func (f *fixture) pack(method string, args ...any) []byte {
	b, err := f.ledger.Pack(method, args...)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// transfer is a valid Ledger transfer of amount from alice to bob.
func (f *fixture) transfer(amount int64, edit func(*types.Tx)) *types.Tx {
	return f.tx(f.alice, ledger.Address, f.pack("transfer", "CNY", f.bob.Address(), big.NewInt(amount)), edit)
}

// send submits raw transactions through the server.
func (f *fixture) send(raws ...[]byte) []*pb.TxResult {
	f.t.Helper()
	resp, err := f.srv.SendTransactions(context.Background(), &pb.SendTransactionsRequest{Txs: raws})
	if err != nil {
		f.t.Fatalf("SendTransactions: %v", err)
	}
	if len(resp.Results) != len(raws) {
		f.t.Fatalf("%d results for %d transactions", len(resp.Results), len(raws))
	}
	return resp.Results
}

// seal commits one block of everything pending, as the solo driver does.
func (f *fixture) seal() *chain.Executed {
	f.t.Helper()
	e, rej, err := f.chain.Build(f.pool.Pending(1<<20), chain.Proposal{Proposer: f.val.Address(), TimestampMs: 1000 + f.chain.Head().Height})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, r := range rej {
		f.t.Fatalf("build rejected a pooled transaction: %v", r.Err)
	}
	h := e.Block.Header
	sig, err := f.val.Sign(types.CommitDigest(f.suite, h.ChainID, h.Height, h.Round, h.Hash(f.suite)))
	if err != nil {
		f.t.Fatal(err)
	}
	cert := &types.Certificate{ChainID: h.ChainID, Height: h.Height, Round: h.Round, BlockHash: h.Hash(f.suite),
		Votes: []types.Vote{{Signer: f.val.Address(), Sig: sig}}}
	if err := f.chain.Commit(e, cert); err != nil {
		f.t.Fatal(err)
	}
	f.pool.Remove(e.Block.Txs)
	return e
}

func (f *fixture) balance(a common.Address) *big.Int {
	return ledger.Balance(f.chain.StateReader(), "CNY", a).ToBig()
}
