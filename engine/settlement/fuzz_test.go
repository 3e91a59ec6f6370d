package settlement_test

import (
	"bytes"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/merkle"
	"github.com/tallyhq/tally/engine/proof"
	"github.com/tallyhq/tally/engine/settlement"
	"github.com/tallyhq/tally/engine/types"
)

// The settlement decoders read what relays and hub transactions carry, from
// anyone. For each: an input either fails with an error, or decodes to a
// value whose canonical encoding is the input and which passes the checks
// the decoder promises.

func sampleSummary() *settlement.Summary {
	e := settlement.Entry{Merchant: common.HexToAddress("0xfeed"), Asset: "CNY",
		Opening: big.NewInt(100), Income: big.NewInt(50), Payouts: big.NewInt(20), AllocIn: big.NewInt(5),
		SweepOut: big.NewInt(30), Closing: big.NewInt(105), PayCount: 3, PayoutCount: 1, AllocCount: 1, SweepCount: 1}
	return &settlement.Summary{ChainID: "user-1", Seq: 7, FromHeight: 10, ToHeight: 20, Entries: []settlement.Entry{e}, AllocSeq: 2, SweepSeq: 3}
}

func FuzzDecodeSummary(f *testing.F) {
	f.Add(sampleSummary().Encode())
	f.Add([]byte{0xc0})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := settlement.DecodeSummary(b)
		if err != nil {
			return
		}
		if !bytes.Equal(s.Encode(), b) {
			t.Fatal("a decoded summary re-encodes differently")
		}
		for i := range s.Entries {
			if err := s.Entries[i].Check(); err != nil {
				t.Fatalf("a decoded summary has an entry that does not add up: %v", err)
			}
		}
	})
}

func FuzzDecodePacket(f *testing.F) {
	p := &settlement.Packet{Kind: settlement.KindSweep, Src: "user-1", Dst: "hub", Seq: 4, Merchant: common.HexToAddress("0xfeed"), Asset: "CNY", Amount: big.NewInt(99)}
	f.Add(p.Encode())
	f.Add([]byte{0xc0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := settlement.DecodePacket(b)
		if err != nil {
			return
		}
		if !bytes.Equal(p.Encode(), b) {
			t.Fatal("a decoded packet re-encodes differently")
		}
		if p.Seq == 0 || p.Amount.Sign() <= 0 || (p.Kind != settlement.KindSweep && p.Kind != settlement.KindAllocation) {
			t.Fatalf("a decoded packet breaks the rules: %+v", p)
		}
	})
}

func FuzzDecodeClient(f *testing.F) {
	s := crypto.Secp256k1()
	b := make([]byte, 32)
	b[31] = 1
	k, err := s.PrivateKeyFromBytes(b)
	if err != nil {
		f.Fatal(err)
	}
	vs, err := types.NewValidatorSet(s, []types.Validator{{Address: k.Address(), PubKey: k.PublicKey()}})
	if err != nil {
		f.Fatal(err)
	}
	c := &settlement.Client{ChainID: "user-1", Suite: s.Name(), Rule: uint8(types.QuorumBFT), Validators: vs.Encode(), FromHeight: 1}
	f.Add(c.Encode())
	f.Add([]byte{0xc0})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := settlement.DecodeClient(b)
		if err != nil {
			return
		}
		if !bytes.Equal(c.Encode(), b) {
			t.Fatal("a decoded light client re-encodes differently")
		}
		if _, _, err := c.Set(); err != nil {
			t.Fatalf("a decoded light client has no usable set: %v", err)
		}
	})
}

func FuzzDecodeBundle(f *testing.F) {
	bu := &settlement.Bundle{Proof: proof.Receipt{Receipt: []byte{1, 2}, Branch: &merkle.Proof{Index: 0, Size: 1}, Header: []byte{0xc0}, Certificate: []byte{0xc0}}, LogIndex: 1}
	f.Add(bu.Encode())
	f.Add([]byte{0xc0})
	f.Fuzz(func(t *testing.T, b []byte) {
		bu, err := settlement.DecodeBundle(b)
		if err != nil {
			return
		}
		if !bytes.Equal(bu.Encode(), b) || bu.Proof.Branch == nil {
			t.Fatal("a decoded bundle re-encodes differently or has no branch")
		}
	})
}

// TestFuzzSeedsDecode: the fuzzers start from valid encodings.
func TestFuzzSeedsDecode(t *testing.T) {
	if _, err := settlement.DecodeSummary(sampleSummary().Encode()); err != nil {
		t.Fatal(err)
	}
	bad := sampleSummary()
	bad.Entries[0].Closing = big.NewInt(106) // does not add up
	if _, err := settlement.DecodeSummary(bad.Encode()); err == nil {
		t.Fatal("a summary whose entry does not add up decodes")
	}
	p := &settlement.Packet{Kind: settlement.KindSweep, Src: "user-1", Dst: "hub", Seq: 4, Merchant: common.HexToAddress("0xfeed"), Asset: "CNY", Amount: big.NewInt(99)}
	if _, err := settlement.DecodePacket(p.Encode()); err != nil {
		t.Fatal(err)
	}
	bu := &settlement.Bundle{Proof: proof.Receipt{Receipt: []byte{1, 2}, Branch: &merkle.Proof{Index: 0, Size: 1}, Header: []byte{0xc0}, Certificate: []byte{0xc0}}, LogIndex: 1}
	if _, err := settlement.DecodeBundle(bu.Encode()); err != nil {
		t.Fatal(err)
	}
}
