package pbft_test

import (
	"bytes"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/consensus/pbft"
	"github.com/tallyhq/tally/engine/types"
)

// FuzzDecodeMessage: any input either fails with an error or decodes to a
// message whose encoding is exactly the input.
func FuzzDecodeMessage(f *testing.F) {
	for _, m := range sampleMessages(newFixture(&testing.T{}, 4, 0)) {
		f.Add(m.Encode())
	}
	f.Add([]byte{0xc0})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := pbft.DecodeMessage(b)
		if err != nil {
			return
		}
		if !bytes.Equal(m.Encode(), b) {
			t.Fatalf("decoded %s re-encodes differently", m)
		}
		if err := m.ValidateBasic(); err != nil {
			t.Fatalf("DecodeMessage returned a message ValidateBasic rejects: %v", err)
		}
	})
}

// FuzzStep feeds whatever decodes straight into Step of a live machine that
// is mid-height (a proposal validated, votes counted, a view change under
// way), skipping signature checks as a node that trusted a broken verifier
// would. Step must never panic, and the machine must keep working.
func FuzzStep(f *testing.F) {
	for _, m := range sampleMessages(newFixture(&testing.T{}, 4, 0)) {
		f.Add(m.Encode())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := pbft.DecodeMessage(b)
		if err != nil {
			return
		}
		fx := liveFixture(t)
		_ = fx.m.Step(m)
		fx.collect()
		fx.tick(10)
		_ = fx.m.Status()
		if fx.out.Err != nil {
			t.Fatalf("machine broke: %v", fx.out.Err)
		}
	})
}

// liveFixture is validator 0 at height 1 with a validated proposal, some
// votes, and pending work.
func liveFixture(t *testing.T) *fixture {
	fx := newFixture(t, 4, 0)
	hash, blk := fx.block(0, 1)
	fx.m.HasPending(true)
	fx.mustStep(fx.prePrepare(1, 0, hash, blk))
	fx.validated(hash, true)
	fx.mustStep(fx.vote(1, pbft.MsgPrepare, 1, 0, hash))
	fx.mustStep(fx.viewChange(3, 1, nil, nil))
	return fx
}

// FuzzStepFields builds well-shaped messages from fuzzed fields — any type,
// sender, height, view, hash and evidence — so that the fuzzer reaches the
// protocol logic rather than the decoder. Signatures are dummies: Step
// trusts them, which is exactly the surface under test.
func FuzzStepFields(f *testing.F) {
	f.Add(uint8(1), uint8(1), uint64(1), uint64(0), byte(1), []byte{1}, uint8(3))
	f.Add(uint8(5), uint8(2), uint64(1), uint64(1), byte(0), []byte(nil), uint8(3))
	f.Add(uint8(6), uint8(3), uint64(9), uint64(0), byte(7), []byte(nil), uint8(2))
	f.Fuzz(func(t *testing.T, typ, from uint8, height, view uint64, h byte, blk []byte, votes uint8) {
		fx := liveFixture(t)
		m := fuzzMessage(fx, typ, from, height, view, h, blk, votes)
		_ = fx.m.Step(m)
		fx.collect()
		fx.tick(10)
		if fx.out.Err != nil {
			t.Fatalf("machine broke: %v", fx.out.Err)
		}
	})
}

func fuzzMessage(fx *fixture, typ, from uint8, height, view uint64, h byte, blk []byte, votes uint8) *pbft.Message {
	hash, _ := fx.block(0, 1)
	hash[0] ^= h
	sender := fx.addr(int(from) % 4)
	var vs []types.Vote
	for i := range int(votes % 6) {
		vs = append(vs, types.Vote{Signer: fx.addr(i % 4), Sig: []byte{1}})
	}
	m := &pbft.Message{Type: pbft.MsgType(typ % 8), ChainID: testChain, Height: height, View: view, From: sender, Hash: hash, Block: blk, Sig: []byte{1}}
	switch m.Type {
	case pbft.MsgViewChange:
		m.Hash, m.Block = common.Hash{}, nil
		if view > 0 && votes > 0 {
			m.Prepared = &pbft.PreparedCert{View: view - 1, Hash: hash, Votes: vs}
		}
	case pbft.MsgNewView:
		for _, v := range vs {
			m.ViewChanges = append(m.ViewChanges, pbft.ViewChange{From: v.Signer, Sig: []byte{1}})
		}
	case pbft.MsgCertificate:
		m.Block = nil
		m.Cert = &types.Certificate{ChainID: testChain, Height: height, Round: view, BlockHash: hash, Votes: vs}
	}
	return m
}

// FuzzDecodeHardState: the WAL's hard state either fails to decode with an
// error or decodes to a state whose encoding is exactly the input (a torn
// or corrupted WAL must be refused, never half-read).
func FuzzDecodeHardState(f *testing.F) {
	fx := newFixture(&testing.T{}, 4, 0)
	hash, blk := fx.block(0, 1)
	f.Add((&pbft.HardState{Height: 1, View: 2, InView: true, Prepare: hash}).Encode())
	f.Add((&pbft.HardState{Height: 1, View: 1, Prepared: fx.preparedCert(0, hash, 1, 2, 3), PreparedBlock: blk}).Encode())
	f.Add([]byte{0xc0})
	f.Fuzz(func(t *testing.T, b []byte) {
		hs, err := pbft.DecodeHardState(b)
		if err != nil {
			return
		}
		if !bytes.Equal(hs.Encode(), b) {
			t.Fatal("a decoded hard state re-encodes differently")
		}
	})
}
