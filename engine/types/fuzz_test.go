package types_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	gethcrypto "github.com/ethereum/go-ethereum/crypto"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/types"
)

// The decoders are the engine's front door: every byte a peer or a client
// sends goes through one of them. Beyond never panicking, each fuzz target
// checks that the decoder accepts exactly one byte form per object: whatever
// it accepts re-encodes to the same bytes, and hashes to the suite hash of
// those bytes.

var suites = []crypto.Suite{crypto.Secp256k1(), crypto.SM()}

// seedKey derives a fixed key, so the seed corpus is the same on every run.
func seedKey(tb testing.TB, s crypto.Suite, n byte) crypto.PrivateKey {
	tb.Helper()
	b := bytes.Repeat([]byte{n}, 32)
	k, err := s.PrivateKeyFromBytes(b)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// seedTxs returns signed transactions of every shape for both suites.
func seedTxs(tb testing.TB) []*types.Tx {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	to := common.HexToAddress("0x5001")
	var out []*types.Tx
	for i, s := range suites {
		k := seedKey(tb, s, byte(i+1))
		for j, tx := range []*types.Tx{
			{ChainID: "dev", BlockLimit: 500, To: &to, Gas: 200_000, Data: []byte{0xa9, 0x05, 0x9c, 0xbb, 0, 1, 2}},
			{ChainID: "dev", BlockLimit: 1, To: nil, Gas: 21_000}, // a creation, no data
			{ChainID: "a-much-longer-chain-id.v2", BlockLimit: 1 << 40, To: &common.Address{}, Gas: 1 << 62, Data: make([]byte, 300)},
		} {
			for k := range tx.Nonce {
				tx.Nonce[k] = byte(rng.Uint32())
			}
			if j == 1 {
				tx.Nonce = common.Hash{}
			}
			if err := tx.Sign(k); err != nil {
				tb.Fatal(err)
			}
			out = append(out, tx)
		}
	}
	return out
}

func seedHeader() *types.Header {
	return &types.Header{
		ChainID: "dev", Height: 7, ParentHash: common.HexToHash("0x01"), Timestamp: 1_700_000_000_000,
		TxCount: 3, TxRoot: common.HexToHash("0x02"), ReceiptRoot: common.HexToHash("0x03"),
		StateRoot: common.HexToHash("0x04"), GasUsed: 63_000, Proposer: common.HexToAddress("0x05"), Round: 2,
		ValidatorsHash: common.HexToHash("0x06"), NextValidatorsHash: common.HexToHash("0x07"),
	}
}

func seedReceipts() []*types.Receipt {
	return []*types.Receipt{
		{TxHash: common.HexToHash("0xaa"), Status: types.StatusOK, GasUsed: 31_000},
		{TxHash: common.HexToHash("0xbb"), Status: types.StatusInsufficientBalance, GasUsed: 40_000,
			Output: []byte{0x08, 0xc3, 0x79, 0xa0, 1, 2, 3},
			Logs: []*types.Log{{Address: common.HexToAddress("0x5001"), Topics: []common.Hash{{1}, {2}}, Data: []byte("x")},
				{Address: common.HexToAddress("0x1005")}}},
		{TxHash: common.HexToHash("0xcc"), Status: types.Status(99), ContractAddress: common.HexToAddress("0xdd")},
	}
}

// addMutations adds b and a few damaged copies of it to the corpus.
func addMutations(f *testing.F, b []byte) {
	f.Add(b)
	if len(b) == 0 {
		return
	}
	f.Add(b[:len(b)-1])
	f.Add(append(bytes.Clone(b), 0))
	flipped := bytes.Clone(b)
	flipped[len(b)/2] ^= 0x80
	f.Add(flipped)
	lenByte := bytes.Clone(b)
	lenByte[0]++
	f.Add(lenByte)
}

func addJunk(f *testing.F) {
	for _, b := range [][]byte{nil, {0x80}, {0xc0}, {0xc1, 0x80}, {0xf8, 0x00}, {0xb8, 0x01, 0x00}, {0xff, 0xff, 0xff, 0xff}} {
		f.Add(b)
	}
}

func FuzzDecodeTx(f *testing.F) {
	for _, tx := range seedTxs(f) {
		addMutations(f, tx.Encode())
	}
	addJunk(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		tx, err := types.DecodeTx(b)
		if err != nil {
			return
		}
		if re := tx.Encode(); !bytes.Equal(re, b) {
			t.Fatalf("DecodeTx accepted %x, which re-encodes as %x", b, re)
		}
		if tx.Size() != len(b) {
			t.Fatalf("Size %d, encoding has %d bytes", tx.Size(), len(b))
		}
		for _, s := range suites {
			// A fresh copy for each suite: Hash and Sender cache their
			// answers whatever the suite (a transaction belongs to one chain).
			cp, err := types.DecodeTx(b)
			if err != nil {
				t.Fatalf("second decode failed: %v", err)
			}
			if h := cp.Hash(s); h != s.Hash(b) {
				t.Fatalf("%s: Hash %x is not the hash of the canonical bytes", s.Name(), h)
			}
			if from, err := cp.Sender(s); err == nil {
				if s.TxCarriesPubKey() {
					if want, _ := s.Address(cp.PubKey); want != from {
						t.Fatalf("sm Sender %s, public key's address %s", from, want)
					}
				}
				if !s.Verify(pubOf(t, s, cp, from), cp.SigningHash(s), cp.Sig) {
					t.Fatalf("%s: Sender accepted a signature Verify rejects", s.Name())
				}
			}
		}
	})
}

// pubOf returns the public key that signed tx: carried (sm) or recovered.
func pubOf(t *testing.T, s crypto.Suite, tx *types.Tx, from common.Address) []byte {
	if s.TxCarriesPubKey() {
		return tx.PubKey
	}
	pub, err := recoverSecp(tx.SigningHash(s), tx.Sig)
	if err != nil {
		t.Fatalf("Sender accepted %x but it does not recover: %v", tx.Sig, err)
	}
	if a, _ := s.Address(pub); a != from {
		t.Fatalf("Sender %s, recovered key's address %s", from, a)
	}
	return pub
}

func recoverSecp(digest common.Hash, sig []byte) ([]byte, error) {
	return gethcrypto.Ecrecover(digest[:], sig)
}

// FuzzTxRoundTrip builds transactions from arbitrary fields: every one must
// encode to bytes that DecodeTx accepts and that give back the same fields.
func FuzzTxRoundTrip(f *testing.F) {
	for _, tx := range seedTxs(f) {
		to := []byte(nil)
		if tx.To != nil {
			to = tx.To[:]
		}
		f.Add(tx.ChainID, tx.Nonce[:], tx.BlockLimit, tx.To != nil, to, tx.Gas, tx.Data, tx.PubKey, tx.Sig)
	}
	f.Fuzz(func(t *testing.T, chainID string, nonce []byte, limit uint64, hasTo bool, to []byte, gas uint64, data, pub, sig []byte) {
		tx := &types.Tx{ChainID: chainID, BlockLimit: limit, Gas: gas, Data: data, PubKey: pub, Sig: sig}
		copy(tx.Nonce[:], nonce)
		if hasTo {
			a := common.BytesToAddress(to)
			tx.To = &a
		}
		b := tx.Encode()
		dec, err := types.DecodeTx(b)
		if err != nil {
			t.Fatalf("DecodeTx rejects Encode's output: %v", err)
		}
		switch {
		case dec.ChainID != tx.ChainID, dec.Nonce != tx.Nonce, dec.BlockLimit != tx.BlockLimit, dec.Gas != tx.Gas,
			(dec.To == nil) != (tx.To == nil), dec.To != nil && *dec.To != *tx.To,
			!bytes.Equal(dec.Data, tx.Data), !bytes.Equal(dec.PubKey, tx.PubKey), !bytes.Equal(dec.Sig, tx.Sig):
			t.Fatalf("round trip changed the transaction: %+v -> %+v", tx, dec)
		}
		for _, s := range suites {
			if dec.SigningHash(s) != tx.SigningHash(s) || s.Hash(dec.Encode()) != s.Hash(b) {
				t.Fatalf("%s: round trip changed a hash", s.Name())
			}
		}
	})
}

func FuzzDecodeBlock(f *testing.F) {
	txs := seedTxs(f)
	h := seedHeader()
	for _, n := range []int{0, 1, 3, len(txs)} {
		hh := h.Copy()
		hh.TxCount = uint64(n)
		addMutations(f, (&types.Block{Header: hh, Txs: txs[:n]}).Encode())
	}
	f.Add((&types.Block{}).Encode()) // no header
	addJunk(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		blk, err := types.DecodeBlock(b)
		if err != nil {
			return
		}
		if blk.Header == nil {
			t.Fatal("DecodeBlock returned a block without a header")
		}
		if re := blk.Encode(); !bytes.Equal(re, b) {
			t.Fatalf("DecodeBlock accepted %x, which re-encodes as %x", b, re)
		}
		for _, s := range suites {
			fresh, _ := types.DecodeBlock(b) // hashes are cached whatever the suite
			if fresh.Hash(s) != s.Hash(blk.Header.Encode()) {
				t.Fatalf("%s: block hash is not the hash of its header's bytes", s.Name())
			}
		}
		// Every part of a canonical block is canonical on its own.
		if _, err := types.DecodeHeader(blk.Header.Encode()); err != nil {
			t.Fatalf("header of an accepted block does not decode alone: %v", err)
		}
		for i, tx := range blk.Txs {
			if tx == nil {
				t.Fatalf("tx %d is nil", i)
			}
			if _, err := types.DecodeTx(tx.Encode()); err != nil {
				t.Fatalf("tx %d of an accepted block does not decode alone: %v", i, err)
			}
		}
		if _, err := types.DecodeTxs(types.EncodeTxs(blk.Txs)); err != nil {
			t.Fatalf("body of an accepted block does not decode alone: %v", err)
		}
	})
}

func FuzzDecodeHeader(f *testing.F) {
	h := seedHeader()
	addMutations(f, h.Encode())
	addMutations(f, (&types.Header{}).Encode())
	max := h.Copy()
	max.Height, max.Timestamp, max.TxCount, max.GasUsed, max.Round = ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)
	addMutations(f, max.Encode())
	addJunk(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := types.DecodeHeader(b)
		if err != nil {
			return
		}
		if re := h.Encode(); !bytes.Equal(re, b) {
			t.Fatalf("DecodeHeader accepted %x, which re-encodes as %x", b, re)
		}
		if re := h.Copy().Encode(); !bytes.Equal(re, b) {
			t.Fatal("Copy changed the header")
		}
		for _, s := range suites {
			fresh, _ := types.DecodeHeader(b) // hashes are cached whatever the suite
			if fresh.Hash(s) != s.Hash(b) {
				t.Fatalf("%s: Hash is not the hash of the canonical bytes", s.Name())
			}
		}
	})
}

func FuzzDecodeReceipt(f *testing.F) {
	for _, r := range seedReceipts() {
		addMutations(f, r.Encode())
	}
	addMutations(f, types.EncodeReceipts(seedReceipts())) // a list is not a receipt
	addJunk(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if rs, err := types.DecodeReceipts(b); err == nil {
			if re := types.EncodeReceipts(rs); !bytes.Equal(re, b) {
				t.Fatalf("DecodeReceipts accepted %x, which re-encodes as %x", b, re)
			}
		}
		r, err := types.DecodeReceipt(b)
		if err != nil {
			return
		}
		if re := r.Encode(); !bytes.Equal(re, b) {
			t.Fatalf("DecodeReceipt accepted %x, which re-encodes as %x", b, re)
		}
		if r.Status.String() == "" {
			t.Fatal("status without a name")
		}
		for i, l := range r.Logs {
			if l == nil {
				t.Fatalf("log %d is nil", i)
			}
		}
	})
}

// certFixture is a header certified by a quorum of a four-validator set.
type certFixture struct {
	s    crypto.Suite
	vs   *types.ValidatorSet
	h    *types.Header
	keys []crypto.PrivateKey
}

func newCertFixture(tb testing.TB, s crypto.Suite) *certFixture {
	fx := &certFixture{s: s, h: seedHeader()}
	var vals []types.Validator
	for i := range 4 {
		k := seedKey(tb, s, byte(10+i))
		fx.keys = append(fx.keys, k)
		vals = append(vals, types.Validator{Address: k.Address(), PubKey: k.PublicKey()})
	}
	vs, err := types.NewValidatorSet(s, vals)
	if err != nil {
		tb.Fatal(err)
	}
	fx.vs = vs
	fx.h.ValidatorsHash = vs.Hash(s)
	return fx
}

func (fx *certFixture) cert(tb testing.TB, signers int) *types.Certificate {
	h := fx.h
	c := &types.Certificate{ChainID: h.ChainID, Height: h.Height, Round: h.Round, BlockHash: h.Hash(fx.s)}
	d := types.CommitDigest(fx.s, c.ChainID, c.Height, c.Round, c.BlockHash)
	for _, k := range fx.keys[:signers] {
		sig, err := k.Sign(d)
		if err != nil {
			tb.Fatal(err)
		}
		c.Votes = append(c.Votes, types.Vote{Signer: k.Address(), Sig: sig})
	}
	return c
}

func FuzzDecodeCertificate(f *testing.F) {
	fxs := []*certFixture{newCertFixture(f, suites[0]), newCertFixture(f, suites[1])}
	for i, fx := range fxs {
		for _, n := range []int{0, 2, 3, 4} {
			f.Add(byte(i), fx.cert(f, n).Encode())
		}
		c := fx.cert(f, 3)
		c.Votes = append(c.Votes, c.Votes[0]) // a signer twice
		f.Add(byte(i), c.Encode())
		c = fx.cert(f, 3)
		c.Round++
		f.Add(byte(i), c.Encode())
	}
	f.Add(byte(0), []byte{0xc0})
	f.Fuzz(func(t *testing.T, which byte, b []byte) {
		fx := fxs[int(which)%len(fxs)]
		c, err := types.DecodeCertificate(b)
		if err != nil {
			return
		}
		if re := c.Encode(); !bytes.Equal(re, b) {
			t.Fatalf("DecodeCertificate accepted %x, which re-encodes as %x", b, re)
		}
		if err := types.VerifyCertificate(fx.s, fx.vs, types.QuorumBFT, fx.h, c); err != nil {
			return
		}
		// Accepted: it must be for this header, by a quorum of distinct
		// validators, each with a valid signature on the commit digest.
		if c.ChainID != fx.h.ChainID || c.Height != fx.h.Height || c.BlockHash != fx.h.Hash(fx.s) || c.Round < fx.h.Round {
			t.Fatalf("certificate for another block accepted: %+v", c)
		}
		d := types.CommitDigest(fx.s, c.ChainID, c.Height, c.Round, c.BlockHash)
		seen := map[common.Address]bool{}
		for _, v := range c.Votes {
			i := fx.vs.Index(v.Signer)
			if i < 0 || seen[v.Signer] || !fx.s.Verify(fx.vs.Validators[i].PubKey, d, v.Sig) {
				t.Fatalf("accepted certificate has a bad vote by %s", v.Signer)
			}
			seen[v.Signer] = true
		}
		if len(seen) < types.QuorumBFT.Size(fx.vs.Len()) {
			t.Fatalf("accepted certificate has %d signers", len(seen))
		}
	})
}

// TestCertificateQuorum checks the fixture the fuzz target relies on: 3 of
// 4 is a quorum, 2 of 4 is not, a repeated signer and a vote over another
// round are refused.
func TestCertificateQuorum(t *testing.T) {
	for _, s := range suites {
		fx := newCertFixture(t, s)
		if err := types.VerifyCertificate(s, fx.vs, types.QuorumBFT, fx.h, fx.cert(t, 3)); err != nil {
			t.Fatalf("%s: 3 of 4: %v", s.Name(), err)
		}
		if err := types.VerifyCertificate(s, fx.vs, types.QuorumBFT, fx.h, fx.cert(t, 2)); err == nil {
			t.Fatalf("%s: 2 of 4 accepted", s.Name())
		}
		c := fx.cert(t, 2)
		c.Votes = append(c.Votes, c.Votes[0])
		if err := types.VerifyCertificate(s, fx.vs, types.QuorumBFT, fx.h, c); err == nil {
			t.Fatalf("%s: a signer counted twice", s.Name())
		}
		c = fx.cert(t, 4)
		c.Round++ // the votes signed round h.Round
		if err := types.VerifyCertificate(s, fx.vs, types.QuorumBFT, fx.h, c); err == nil {
			t.Fatalf("%s: votes for another round accepted", s.Name())
		}
	}
}

func FuzzDecodeValidatorSet(f *testing.F) {
	for i, s := range suites {
		fx := newCertFixture(f, s)
		f.Add(byte(i), fx.vs.Encode())
		unsorted := &types.ValidatorSet{Validators: []types.Validator{fx.vs.Validators[1], fx.vs.Validators[0]}}
		f.Add(byte(i), unsorted.Encode())
	}
	f.Fuzz(func(t *testing.T, which byte, b []byte) {
		s := suites[int(which)%len(suites)]
		vs, err := types.DecodeValidatorSet(s, b)
		if err != nil {
			return
		}
		if re := vs.Encode(); !bytes.Equal(re, b) {
			t.Fatalf("DecodeValidatorSet accepted %x, which re-encodes as %x", b, re)
		}
		for i, v := range vs.Validators {
			if a, err := s.Address(v.PubKey); err != nil || a != v.Address {
				t.Fatalf("validator %d: key does not match address", i)
			}
			if i > 0 && bytes.Compare(vs.Validators[i-1].Address[:], v.Address[:]) >= 0 {
				t.Fatal("validators not strictly sorted")
			}
		}
	})
}

// TestCertificateEncodingIsUnique: a certificate that verifies must be the
// one its validators produced, byte for byte. secp256k1 votes are 65-byte
// [R||S||V]; if the suite's Verify ignores V (or accepts a bare R||S), a
// flipped V or a dropped V gives a second certificate, and a second receipt
// proof, for the same block — which anything that dedups or hashes proofs
// would count twice.
func TestCertificateEncodingIsUnique(t *testing.T) {
	for _, s := range suites {
		fx := newCertFixture(t, s)
		c := fx.cert(t, 4)
		if err := types.VerifyCertificate(s, fx.vs, types.QuorumBFT, fx.h, c); err != nil {
			t.Fatal(err)
		}
		for i := range c.Votes {
			orig := c.Votes[i].Sig
			variants := map[string][]byte{"last byte ^1": append(bytes.Clone(orig[:len(orig)-1]), orig[len(orig)-1]^1)}
			if len(orig) == 65 {
				variants["without V"] = bytes.Clone(orig[:64])
			}
			for name, sig := range variants {
				c.Votes[i].Sig = sig
				if err := types.VerifyCertificate(s, fx.vs, types.QuorumBFT, fx.h, c); err == nil {
					t.Errorf("%s: vote %d with its signature's %s still verifies", s.Name(), i, name)
				}
			}
			c.Votes[i].Sig = orig
		}
	}
}
