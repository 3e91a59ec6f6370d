package pbft_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/tallyhq/tally/engine/consensus/pbft"
)

// sampleMessages returns one valid, signed message of every type.
func sampleMessages(fx *fixture) []*pbft.Message {
	hash, blk := fx.block(0, 1)
	vc := fx.viewChange(1, 1, fx.preparedCert(0, hash, 1, 2, 3), blk)
	return []*pbft.Message{
		fx.prePrepare(1, 0, hash, blk),
		fx.vote(2, pbft.MsgPrepare, 1, 0, hash),
		fx.vote(3, pbft.MsgCommit, 1, 0, hash),
		vc,
		fx.newView(2, 1, []*pbft.Message{vc, fx.viewChange(2, 1, nil, nil), fx.viewChange(3, 1, nil, nil)}, hash, blk),
		fx.signed(1, &pbft.Message{Type: pbft.MsgCertificate, Height: 1, Hash: hash, Cert: fx.commitCert(1, 0, hash, 1, 2, 3)}),
	}
}

func TestMessageRoundTrip(t *testing.T) {
	fx := newFixture(t, 4, 0)
	for _, m := range sampleMessages(fx) {
		enc := m.Encode()
		got, err := pbft.DecodeMessage(enc)
		if err != nil {
			t.Fatalf("%s: %v", m.Type, err)
		}
		if !bytes.Equal(got.Encode(), enc) {
			t.Fatalf("%s: re-encoding differs", m.Type)
		}
		if err := pbft.VerifyMessage(fx.s, fx.vs, got); err != nil {
			t.Fatalf("%s: decoded message does not verify: %v", m.Type, err)
		}
	}
}

// Only the canonical bytes are accepted: trailing bytes, non-minimal
// integers and oversize input are rejected.
func TestDecodeRejectsNonCanonical(t *testing.T) {
	fx := newFixture(t, 4, 0)
	enc := sampleMessages(fx)[1].Encode()
	var fields []rlp.RawValue
	if err := rlp.DecodeBytes(enc, &fields); err != nil {
		t.Fatal(err)
	}
	fields[2] = []byte{0x81, 0x01} // height 1 written in the long form
	nonMinimal, _ := rlp.EncodeToBytes(fields)
	cases := map[string][]byte{
		"trailing":    append(append([]byte{}, enc...), 0),
		"non-minimal": nonMinimal,
		"oversize":    make([]byte, pbft.MaxMessageBytes+1),
		"empty":       nil,
	}
	for name, b := range cases {
		if _, err := pbft.DecodeMessage(b); !errors.Is(err, pbft.ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

// ValidateBasic allows each type only its own fields.
func TestValidateBasic(t *testing.T) {
	fx := newFixture(t, 4, 0)
	s := sampleMessages(fx)
	mut := func(i int, f func(*pbft.Message)) *pbft.Message {
		c := s[i].Copy()
		f(c)
		return c
	}
	bad := map[string]*pbft.Message{
		"prepare with block":         mut(1, func(m *pbft.Message) { m.Block = []byte{1} }),
		"prepare without hash":       mut(1, func(m *pbft.Message) { m.Hash = common.Hash{} }),
		"pre-prepare without block":  mut(0, func(m *pbft.Message) { m.Block = nil }),
		"view change to view 0":      mut(3, func(m *pbft.Message) { m.View = 0 }),
		"prepared not before view":   mut(3, func(m *pbft.Message) { m.Prepared.View = 1 }),
		"new-view without evidence":  mut(4, func(m *pbft.Message) { m.ViewChanges = nil }),
		"certificate for other hash": mut(5, func(m *pbft.Message) { m.Cert.BlockHash = common.Hash{1} }),
		"unknown type":               mut(1, func(m *pbft.Message) { m.Type = 9 }),
		"height 0":                   mut(1, func(m *pbft.Message) { m.Height = 0 }),
		"huge signature":             mut(1, func(m *pbft.Message) { m.Sig = make([]byte, pbft.MaxSigBytes+1) }),
	}
	for name, m := range bad {
		if err := m.ValidateBasic(); !errors.Is(err, pbft.ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

func TestHardStateRoundTrip(t *testing.T) {
	fx := newFixture(t, 4, 0)
	hash, blk := fx.block(0, 1)
	hs := &pbft.HardState{Height: 3, View: 2, InView: false, Prepare: hash, Commit: hash, Prepared: fx.preparedCert(1, hash, 0, 1, 2), PreparedBlock: blk}
	got, err := pbft.DecodeHardState(hs.Encode())
	if err != nil || !bytes.Equal(got.Encode(), hs.Encode()) {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := pbft.DecodeHardState(append(hs.Encode(), 0)); !errors.Is(err, pbft.ErrMalformed) {
		t.Fatalf("trailing byte accepted: %v", err)
	}
}
