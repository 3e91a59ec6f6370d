package relay_test

import (
	"log/slog"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/merkle"
	"github.com/tallyhq/tally/engine/proof"
	"github.com/tallyhq/tally/engine/settlement"
	"github.com/tallyhq/tally/engine/storage"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
	"github.com/tallyhq/tally/hubchain"
	"github.com/tallyhq/tally/relay"
)

var s = crypto.Secp256k1()

// hubFixture is an in-memory hub chain with one solo validator and an admin.
type hubFixture struct {
	t     *testing.T
	c     *chain.Chain
	val   crypto.PrivateKey
	admin crypto.PrivateKey
	hub   *exec.Contract
}

func newHub(t *testing.T) *hubFixture {
	f := &hubFixture{t: t, val: key(t), admin: key(t), hub: hubchain.New()}
	gen := &chain.Genesis{ChainID: "hub", Suite: s.Name(), Consensus: chain.ConsensusSolo, App: chain.AppHub,
		Validators: []chain.GenesisValidator{{PubKey: hexutil.Encode(f.val.PublicKey())}},
		Roles:      map[string][]string{system.RoleAdmin: {f.admin.Address().Hex()}}}
	c, err := chain.Open(storage.NewMemory(), gen, relay.Executor(gen), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	return f
}

func key(t *testing.T) crypto.PrivateKey {
	k, err := s.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// send runs one call as its own block and returns the receipt and the
// number of state keys the block changed.
func (f *hubFixture) send(from crypto.PrivateKey, method string, args ...any) (*types.Receipt, int) {
	data, err := f.hub.Pack(method, args...)
	if err != nil {
		f.t.Fatal(err)
	}
	tx := types.NewTx("hub", f.c.Head().Height+10, &f.hub.Addr, 5_000_000, data)
	tx.Sign(from)
	e, rej, err := f.c.Build([]*types.Tx{tx}, chain.Proposal{Proposer: f.val.Address()})
	if err != nil || len(rej) > 0 {
		f.t.Fatalf("build: %v %v", err, rej)
	}
	if err := f.c.Commit(e, nil); err != nil {
		f.t.Fatal(err)
	}
	return e.Receipts[0], len(e.Changes)
}

// forger plays a user chain whose four validators sign whatever the test
// asks: it proves that the hub checks every field itself.
type forger struct {
	vals  []crypto.PrivateKey
	set   *types.ValidatorSet
	chain string
}

func newForger(t *testing.T, chainID string) *forger {
	f := &forger{chain: chainID}
	var vs []types.Validator
	for i := 0; i < 4; i++ {
		k := key(t)
		f.vals = append(f.vals, k)
		vs = append(vs, types.Validator{Address: k.Address(), PubKey: k.PublicKey()})
	}
	f.set, _ = types.NewValidatorSet(s, vs)
	return f
}

func (f *forger) client() []byte {
	return (&settlement.Client{ChainID: f.chain, Suite: s.Name(), Rule: uint8(types.QuorumBFT), Validators: f.set.Encode(), FromHeight: 1}).Encode()
}

// bundle makes a block at height holding one successful settle receipt
// that carries sum, certified by signers.
func (f *forger) bundle(sum *settlement.Summary, height uint64, signers []crypto.PrivateKey) *settlement.Bundle {
	r := &types.Receipt{TxHash: common.Hash{byte(height)}, Logs: []*types.Log{{Address: settlement.ShadowAddress,
		Topics: []common.Hash{settlement.EvEpochSettled.ID, common.BigToHash(new(big.Int).SetUint64(sum.Seq))},
		Data:   settlement.EncodeEventBytes(sum.Encode())}}}
	leaves := [][]byte{r.Encode()}
	h := &types.Header{ChainID: f.chain, Height: height, TxCount: 1, ReceiptRoot: merkle.Root(s.Hash, leaves),
		ValidatorsHash: f.set.Hash(s), NextValidatorsHash: f.set.Hash(s)}
	branch, _ := merkle.Prove(s.Hash, leaves, 0)
	return &settlement.Bundle{Proof: proof.Receipt{Receipt: leaves[0], Branch: branch, Header: h.Encode(), Certificate: f.cert(h, signers).Encode()}}
}

func (f *forger) cert(h *types.Header, signers []crypto.PrivateKey) *types.Certificate {
	c := &types.Certificate{ChainID: h.ChainID, Height: h.Height, Round: h.Round, BlockHash: h.Hash(s)}
	for _, k := range signers {
		sig, _ := k.Sign(types.CommitDigest(s, h.ChainID, h.Height, h.Round, c.BlockHash))
		c.Votes = append(c.Votes, types.Vote{Signer: k.Address(), Sig: sig})
	}
	return c
}

func summary(chainID string, seq uint64, prev common.Hash, from, to uint64, opening int64) *settlement.Summary {
	m := common.HexToAddress("0xabc")
	e := settlement.Entry{Merchant: m, Asset: "CNY", Opening: big.NewInt(opening), Income: big.NewInt(100), Payouts: big.NewInt(0),
		AllocIn: big.NewInt(0), SweepOut: big.NewInt(0), Closing: big.NewInt(opening + 100), PayCount: 3}
	return &settlement.Summary{ChainID: chainID, Seq: seq, PrevHash: prev, FromHeight: from, ToHeight: to, Entries: []settlement.Entry{e}}
}

// TestHubRejectsForgedBundles: every forgery is rejected with its own
// reason and the block that carries it changes no state.
func TestHubRejectsForgedBundles(t *testing.T) {
	h := newHub(t)
	fg := newForger(t, "user-1")
	if r, _ := h.send(h.admin, "registerChain", "user-1", fg.client()); r.Status != types.StatusOK {
		t.Fatalf("register: %s", reason(r))
	}
	first := summary("user-1", 1, common.Hash{}, 1, 5, 0)
	if r, _ := h.send(h.admin, "book", fg.bundle(first, 5, fg.vals[:3]).Encode()); r.Status != types.StatusOK {
		t.Fatalf("honest first summary rejected: %s", reason(r))
	}
	good := func() *settlement.Summary { return summary("user-1", 2, first.Hash(s), 5, 9, 100) }
	outsider := key(t)
	cases := []struct {
		name  string
		build func() []byte
		want  string
	}{
		{"one signature short of quorum", func() []byte { return fg.bundle(good(), 9, fg.vals[:2]).Encode() }, types.ErrQuorum.Error()},
		{"signature by a non-validator", func() []byte {
			return fg.bundle(good(), 9, []crypto.PrivateKey{fg.vals[0], fg.vals[1], outsider}).Encode()
		}, types.ErrNotValidator.Error()},
		{"duplicate signer counted twice", func() []byte {
			return fg.bundle(good(), 9, []crypto.PrivateKey{fg.vals[0], fg.vals[1], fg.vals[1]}).Encode()
		}, types.ErrDuplicateSigner.Error()},
		{"tampered summary entry", func() []byte {
			b := fg.bundle(good(), 9, fg.vals[:3])
			b.Proof.Receipt = []byte(strings.Replace(string(b.Proof.Receipt), "CNY", "CNZ", 1))
			return b.Encode()
		}, merkle.ErrBadProof.Error()},
		{"wrong Merkle branch", func() []byte {
			b := fg.bundle(good(), 9, fg.vals[:3])
			b.Proof.Branch = &merkle.Proof{Index: 0, Size: 1, Path: []common.Hash{{1}}}
			return b.Encode()
		}, merkle.ErrProofSize.Error()},
		{"header differs from the certified hash", func() []byte {
			b := fg.bundle(good(), 9, fg.vals[:3])
			hdr, _ := types.DecodeHeader(b.Proof.Header)
			hdr.Timestamp++
			b.Proof.Header = hdr.Encode()
			return b.Encode()
		}, types.ErrCertMismatch.Error()},
		{"wrong chain id in the summary", func() []byte {
			bad := good()
			bad.ChainID = "user-2"
			return fg.bundle(bad, 9, fg.vals[:3]).Encode()
		}, settlement.ErrWrongChain.Error()},
		{"unregistered chain", func() []byte {
			other := newForger(t, "user-9")
			return other.bundle(summary("user-9", 1, common.Hash{}, 1, 3, 0), 3, other.vals[:3]).Encode()
		}, "not registered"},
		{"seq gap", func() []byte {
			bad := good()
			bad.Seq = 3
			return fg.bundle(bad, 9, fg.vals[:3]).Encode()
		}, hubchain.ErrSeqGap.Error()},
		{"prevHash mismatch", func() []byte {
			bad := good()
			bad.PrevHash = common.Hash{7}
			return fg.bundle(bad, 9, fg.vals[:3]).Encode()
		}, hubchain.ErrPrevHash.Error()},
		{"entry arithmetic does not hold", func() []byte {
			bad := good()
			bad.Entries[0].Closing = big.NewInt(999)
			return fg.bundle(bad, 9, fg.vals[:3]).Encode()
		}, settlement.ErrArithmetic.Error()},
		{"opening differs from booked closing", func() []byte {
			bad := summary("user-1", 2, first.Hash(s), 5, 9, 50)
			return fg.bundle(bad, 9, fg.vals[:3]).Encode()
		}, hubchain.ErrOpening.Error()},
		{"garbage", func() []byte { return []byte{0xde, 0xad} }, "malformed"},
	}
	for _, c := range cases {
		r, changed := h.send(h.admin, "book", c.build())
		if r.Status == types.StatusOK || !strings.Contains(reason(r), c.want) {
			t.Errorf("%s: status %v, reason %q, want %q", c.name, r.Status, reason(r), c.want)
		}
		if changed != 0 {
			t.Errorf("%s: rejected booking changed %d state keys", c.name, changed)
		}
	}
	if r, _ := h.send(h.admin, "book", fg.bundle(good(), 9, fg.vals[1:4]).Encode()); r.Status != types.StatusOK {
		t.Fatalf("honest second summary rejected after the forgeries: %s", reason(r))
	}
}

func reason(r *types.Receipt) string {
	s, _ := exec.RevertReason(r.Output)
	return s
}
