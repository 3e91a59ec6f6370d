package pbftsim

import (
	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/consensus/pbft"
	"github.com/tallyhq/tally/engine/types"
)

// byzSend is how a Byzantine validator sends what its own (honest) machine
// produced: it equivocates on its proposals, votes for conflicting blocks,
// and withholds messages, each recipient getting its own choice.
func (s *sim) byzSend(nd *node, e pbft.Envelope) {
	alt := s.alternative(nd, e.Msg)
	raw := e.Msg.Encode()
	for i := range s.nodes {
		if i == nd.idx || !e.Broadcast() && s.vs.Index(e.To) != i {
			continue
		}
		switch r := s.rng.IntN(6); {
		case r == 0:
			// withheld
		case r <= 2 && alt != nil:
			s.transmit(nd.idx, i, alt)
		default:
			s.transmit(nd.idx, i, raw)
		}
	}
}

// alternative builds a conflicting, properly signed twin of msg: another
// block for a pre-prepare, a vote for another hash for a prepare or commit.
func (s *sim) alternative(nd *node, msg *pbft.Message) []byte {
	c := &pbft.Message{Type: msg.Type, ChainID: msg.ChainID, Height: msg.Height, View: msg.View, From: msg.From}
	switch msg.Type {
	case pbft.MsgPrePrepare:
		c.Hash, c.Block = nd.chain.Build(msg.View, nd.key.Address(), s.rng.Uint64(), false)
	case pbft.MsgPrepare, pbft.MsgCommit:
		c.Hash = s.randomHash()
	default:
		return nil
	}
	return s.signRaw(nd, c)
}

func (s *sim) signRaw(nd *node, m *pbft.Message) []byte {
	sig, err := nd.key.Sign(m.Digest(s.s))
	if err != nil {
		return nil
	}
	m.Sig = sig
	return m.Encode()
}

func (s *sim) randomHash() common.Hash {
	var h common.Hash
	for i := 0; i < len(h); i += 8 {
		v := s.rng.Uint64()
		for j := range 8 {
			h[i+j] = byte(v >> (8 * j))
		}
	}
	return h
}

// garbage sends one piece of junk to a random validator: random bytes, or
// a well-formed, signed message with random contents near the current
// height, or forged evidence (a certificate or prepared certificate with
// too few or bogus votes).
func (s *sim) garbage(nd *node) {
	to := s.rng.IntN(len(s.nodes))
	if to == nd.idx || nd.down {
		return
	}
	if s.rng.IntN(3) == 0 {
		b := make([]byte, 1+s.rng.IntN(120))
		for i := range b {
			b[i] = byte(s.rng.UintN(256))
		}
		s.transmit(nd.idx, to, b)
		return
	}
	if raw := s.signRaw(nd, s.randomMessage(nd)); raw != nil {
		s.transmit(nd.idx, to, raw)
	}
}

func (s *sim) randomMessage(nd *node) *pbft.Message {
	h, _ := nd.chain.Head()
	m := &pbft.Message{
		Type: pbft.MsgType(1 + s.rng.IntN(6)), ChainID: "sim", From: nd.key.Address(),
		Height: h + uint64(s.rng.IntN(4)), View: uint64(s.rng.IntN(4)), Hash: s.randomHash(),
	}
	if m.Height == 0 {
		m.Height = 1
	}
	vote := []types.Vote{{Signer: nd.key.Address(), Sig: s.rngSig()}}
	switch m.Type {
	case pbft.MsgPrePrepare:
		m.Block = []byte{0xc0}
	case pbft.MsgViewChange:
		m.Hash, m.View = common.Hash{}, m.View+1
		m.Prepared = &pbft.PreparedCert{View: m.View - 1, Hash: s.randomHash(), Votes: vote}
	case pbft.MsgNewView:
		m.View, m.Hash = m.View+1, common.Hash{}
		m.ViewChanges = []pbft.ViewChange{{From: nd.key.Address(), Sig: s.rngSig()}}
	case pbft.MsgCertificate:
		m.Cert = &types.Certificate{ChainID: "sim", Height: m.Height, Round: m.View, BlockHash: m.Hash, Votes: vote}
	}
	return m
}

func (s *sim) rngSig() []byte {
	h := s.randomHash()
	return append(h[:], h[:]...)
}
