package chain_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync/atomic"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/proof"
	"github.com/tallyhq/tally/engine/storage"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
)

type fixture struct {
	opts   []chain.Option // for chain.Open
	t      *testing.T
	suite  crypto.Suite
	val    crypto.PrivateKey
	admin  crypto.PrivateKey
	users  []crypto.PrivateKey
	gen    *chain.Genesis
	db     storage.DB
	c      *chain.Chain
	ledger *exec.Contract
}

func newExecutor() *exec.Executor {
	return exec.NewExecutor(nil, append(system.Contracts(), ledger.New())...)
}

func newFixture(t *testing.T, suite crypto.Suite) *fixture {
	f := &fixture{t: t, suite: suite, ledger: ledger.New(), db: storage.NewMemory()}
	f.val, f.admin = mustKey(t, suite), mustKey(t, suite)
	for i := 0; i < 3; i++ {
		f.users = append(f.users, mustKey(t, suite))
	}
	f.gen = &chain.Genesis{
		ChainID: "test-" + suite.Name(), Suite: suite.Name(), Consensus: chain.ConsensusSolo,
		Validators: []chain.GenesisValidator{{PubKey: hexutil.Encode(f.val.PublicKey())}},
		Roles:      map[string][]string{system.RoleAdmin: {f.admin.Address().Hex()}, system.RoleIssuer: {f.admin.Address().Hex()}},
		Balances:   []chain.GenesisBalance{{Asset: "CNY", Address: f.users[0].Address().Hex(), Amount: "1000"}},
	}
	f.open()
	return f
}

func (f *fixture) open() {
	c, err := chain.Open(f.db, f.gen, newExecutor(), slog.New(slog.DiscardHandler), f.opts...)
	if err != nil {
		f.t.Fatal(err)
	}
	f.c = c
}

func mustKey(t *testing.T, s crypto.Suite) crypto.PrivateKey {
	k, err := s.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (f *fixture) tx(key crypto.PrivateKey, method string, args ...any) *types.Tx {
	data, err := f.ledger.Pack(method, args...)
	if err != nil {
		f.t.Fatal(err)
	}
	to := ledger.Address
	tx := types.NewTx(f.gen.ChainID, f.c.Head().Height+100, &to, 100_000, data)
	if err := tx.Sign(key); err != nil {
		f.t.Fatal(err)
	}
	// Drop the sender cached by Sign, so the chain authenticates for real.
	dec, err := types.DecodeTx(tx.Encode())
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := dec.Sender(f.suite); err != nil {
		f.t.Fatal(err)
	}
	return dec
}

// commit builds, certifies and commits a block of txs.
func (f *fixture) commit(txs ...*types.Tx) (*chain.Executed, []chain.Rejected) {
	e, rej, err := f.c.Build(txs, chain.Proposal{Proposer: f.val.Address(), TimestampMs: 1000 + f.c.Head().Height})
	if err != nil {
		f.t.Fatal(err)
	}
	h := e.Block.Header
	digest := types.CommitDigest(f.suite, h.ChainID, h.Height, h.Round, h.Hash(f.suite))
	sig, err := f.val.Sign(digest)
	if err != nil {
		f.t.Fatal(err)
	}
	cert := &types.Certificate{ChainID: h.ChainID, Height: h.Height, Round: h.Round, BlockHash: h.Hash(f.suite),
		Votes: []types.Vote{{Signer: f.val.Address(), Sig: sig}}}
	if err := f.c.Commit(e, cert); err != nil {
		f.t.Fatal(err)
	}
	return e, rej
}

func (f *fixture) balance(who common.Address) uint64 {
	return ledger.Balance(f.c.StateReader(), "CNY", who).Uint64()
}

func suites() []crypto.Suite { return []crypto.Suite{crypto.Secp256k1(), crypto.SM()} }

func TestIssueTransferBalanceAndProof(t *testing.T) {
	for _, s := range suites() {
		t.Run(s.Name(), func(t *testing.T) {
			f := newFixture(t, s)
			u0, u1 := f.users[0], f.users[1]
			issue := f.tx(f.admin, "issue", "CNY", u1.Address(), big.NewInt(500))
			xfer := f.tx(u0, "transfer", "CNY", u1.Address(), big.NewInt(300))
			e, rej := f.commit(issue, xfer)
			if len(rej) != 0 {
				t.Fatalf("rejected: %v", rej[0].Err)
			}
			for i, r := range e.Receipts {
				if r.Status != types.StatusOK {
					reason, _ := exec.RevertReason(r.Output)
					t.Fatalf("receipt %d: %v %s", i, r.Status, reason)
				}
			}
			if f.balance(u0.Address()) != 700 || f.balance(u1.Address()) != 800 {
				t.Fatalf("balances %d, %d; want 700, 800", f.balance(u0.Address()), f.balance(u1.Address()))
			}
			p, err := f.c.ReceiptProof(xfer.Hash(s))
			if err != nil {
				t.Fatal(err)
			}
			vs, _ := f.gen.ValidatorSet(s)
			_, r, err := proof.VerifyReceipt(s, vs, types.QuorumBFT, p)
			if err != nil || r.TxHash != xfer.Hash(s) {
				t.Fatalf("proof does not verify: %v", err)
			}
			p.Receipt[len(p.Receipt)-1] ^= 1
			if _, _, err := proof.VerifyReceipt(s, vs, types.QuorumBFT, p); err == nil {
				t.Fatal("tampered receipt verified")
			}
		})
	}
}

func TestRejections(t *testing.T) {
	f := newFixture(t, crypto.Secp256k1())
	u0, u1 := f.users[0], f.users[1]
	ok := f.tx(u0, "transfer", "CNY", u1.Address(), big.NewInt(1))
	f.commit(ok)

	wrongChain := f.tx(u0, "transfer", "CNY", u1.Address(), big.NewInt(1))
	wrongChain.ChainID = "other"
	expired := f.tx(u0, "transfer", "CNY", u1.Address(), big.NewInt(1))
	expired.BlockLimit = f.c.Head().Height
	tooFar := f.tx(u0, "transfer", "CNY", u1.Address(), big.NewInt(1))
	tooFar.BlockLimit = f.c.Head().Height + 10_000
	lowGas := f.tx(u0, "transfer", "CNY", u1.Address(), big.NewInt(1))
	lowGas.Gas = 100
	cases := map[string]struct {
		tx   *types.Tx
		want error
	}{
		"replay":      {ok, chain.ErrNonceUsed},
		"wrong chain": {wrongChain, types.ErrWrongChain},
		"expired":     {expired, chain.ErrBlockLimitExpired},
		"too far":     {tooFar, chain.ErrBlockLimitTooFar},
		"low gas":     {lowGas, chain.ErrGasTooLow},
	}
	for name, c := range cases {
		if err := f.c.CheckTx(c.tx, f.c.Head().Height, f.c.Config()); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", name, err, c.want)
		}
	}
	root := f.c.Head().StateRoot
	for name, c := range cases {
		_, rej, err := f.c.Build([]*types.Tx{c.tx}, chain.Proposal{Proposer: f.val.Address()})
		if err != nil || len(rej) != 1 {
			t.Fatalf("%s: build left it in: %v", name, err)
		}
	}
	if f.c.Head().StateRoot != root {
		t.Fatal("rejected transactions changed state")
	}
}

func TestReceiptStatuses(t *testing.T) {
	f := newFixture(t, crypto.Secp256k1())
	u0, u1 := f.users[0], f.users[1]
	badData := f.tx(u0, "transfer", "CNY", u1.Address(), big.NewInt(1))
	badData.Data = badData.Data[:10]
	badData.Sign(u0)
	unknown := f.tx(u0, "transfer", "CNY", u1.Address(), big.NewInt(1))
	unknown.Data = append([]byte{1, 2, 3, 4}, unknown.Data[4:]...)
	unknown.Sign(u0)
	cases := []struct {
		tx   *types.Tx
		want types.Status
	}{
		{f.tx(u1, "transfer", "CNY", u0.Address(), big.NewInt(1)), types.StatusInsufficientBalance},
		{f.tx(u0, "issue", "CNY", u0.Address(), big.NewInt(1)), types.StatusPermissionDenied},
		{f.tx(u0, "transfer", "cny", u1.Address(), big.NewInt(1)), types.StatusInvalidArgument},
		{f.tx(u0, "transfer", "CNY", u1.Address(), big.NewInt(0)), types.StatusInvalidArgument},
		{badData, types.StatusBadInput},
		{unknown, types.StatusUnknownMethod},
	}
	txs := make([]*types.Tx, len(cases))
	for i, c := range cases {
		txs[i] = c.tx
	}
	before := fmt.Sprint(f.balance(u0.Address()), f.balance(u1.Address()))
	e, _ := f.commit(txs...)
	for i, c := range cases {
		if got := e.Receipts[i].Status; got != c.want {
			t.Errorf("case %d: status %v, want %v", i, got, c.want)
		}
	}
	if after := fmt.Sprint(f.balance(u0.Address()), f.balance(u1.Address())); after != before {
		t.Fatalf("failed transactions moved money: %s -> %s", before, after)
	}
}

func TestReopenKeepsHeadAndNonces(t *testing.T) {
	dir := t.TempDir()
	db, err := storage.OpenBadger(dir, storage.DefaultBadgerOptions())
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, crypto.SM())
	f.db = db
	f.open()
	x := f.tx(f.users[0], "transfer", "CNY", f.users[1].Address(), big.NewInt(5))
	f.commit(x)
	head := f.c.Head().Hash(f.suite)
	db.Close()
	if f.db, err = storage.OpenBadger(dir, storage.DefaultBadgerOptions()); err != nil {
		t.Fatal(err)
	}
	f.open()
	defer f.db.Close()
	if f.c.Head().Hash(f.suite) != head {
		t.Fatal("head changed across reopen")
	}
	if err := f.c.CheckTx(x, f.c.Head().Height, f.c.Config()); !errors.Is(err, chain.ErrNonceUsed) {
		t.Fatalf("replay after restart: %v", err)
	}
	other := *f.gen
	other.ChainID = "other"
	if _, err := chain.Open(f.db, &other, newExecutor(), slog.New(slog.DiscardHandler)); !errors.Is(err, chain.ErrGenesisMismatch) {
		t.Fatalf("opened with another genesis: %v", err)
	}
}

// stateReadCounter counts the state reads made on the database itself, not
// through a snapshot.
type stateReadCounter struct {
	storage.DB
	direct atomic.Int64
	snaps  atomic.Int64
}

func (c *stateReadCounter) Get(key []byte) ([]byte, error) {
	if bytes.HasPrefix(key, storage.StateKey(nil)) {
		c.direct.Add(1)
	}
	return c.DB.Get(key)
}

func (c *stateReadCounter) Snapshot() (storage.Snapshot, error) {
	c.snaps.Add(1)
	return c.DB.Snapshot()
}

// TestBlockReadsThroughASnapshot: executing a block reads its state through
// one snapshot of the database, whatever the number of transactions.
func TestBlockReadsThroughASnapshot(t *testing.T) {
	f := newFixture(t, crypto.Secp256k1())
	counter := &stateReadCounter{DB: f.db}
	f.db = counter
	f.open()
	var txs []*types.Tx
	for i := range 50 {
		txs = append(txs, f.tx(f.admin, "issue", "CNY", f.users[i%3].Address(), big.NewInt(int64(i+1))))
	}
	counter.direct.Store(0)
	f.commit(txs...)
	if n := counter.snaps.Load(); n != 1 {
		t.Fatalf("the block took %d snapshots", n)
	}
	if n := counter.direct.Load(); n > 10 {
		t.Fatalf("building a block of %d transactions read the state %d times outside its snapshot", len(txs), n)
	}
	if got := f.balance(f.users[0].Address()); got != 1000+1+4+7+10+13+16+19+22+25+28+31+34+37+40+43+46+49 {
		t.Fatalf("balance %d", got)
	}
}
