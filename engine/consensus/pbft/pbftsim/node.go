package pbftsim

import (
	"crypto/sha256"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/consensus/pbft"
	"github.com/tallyhq/tally/engine/types"
)

// process handles nd's Ready values in the documented order, with crash
// points between the durable steps.
func (s *sim) process(nd *node) {
	for !nd.down && s.err == nil && nd.m.HasReady() {
		rd := nd.m.Ready()
		if rd.Err != nil {
			s.fail(fmt.Errorf("v%d: %w", nd.idx, rd.Err))
			return
		}
		if s.crashPoint(nd, "before-wal", 1) {
			return
		}
		if rd.HardState != nil {
			nd.wal = rd.HardState.Encode()
		}
		if s.crashPoint(nd, "after-wal", 1) {
			return
		}
		for _, c := range rd.Committed {
			s.commit(nd, c.Height, c.Block, c.Cert)
		}
		if s.crashPoint(nd, "before-send", 1+80*len(rd.Committed)) {
			return
		}
		s.act(nd, rd)
		nd.m.Advance()
	}
}

func (s *sim) act(nd *node, rd pbft.Ready) {
	for _, e := range rd.Messages {
		s.send(nd, e)
	}
	for _, p := range rd.Validate {
		s.push(&event{at: s.now + s.rng.IntN(3), kind: evValidated, to: nd.idx, epoch: nd.epoch, prop: p})
	}
	if rd.Propose != nil {
		s.propose(nd, rd.Propose)
	}
	if rd.Sync != nil {
		s.push(&event{at: s.now + 1 + s.rng.IntN(3), kind: evSync, to: nd.idx, epoch: nd.epoch, sync: *rd.Sync})
	}
}

// commit applies a decided block and checks agreement: no two honest
// validators may commit different blocks at one height.
func (s *sim) commit(nd *node, height uint64, block []byte, cert *types.Certificate) {
	if err := nd.chain.Apply(height, block, cert); err != nil {
		if !nd.byz {
			s.fail(fmt.Errorf("%w: v%d cannot apply its commit %d: %v", ErrSafety, nd.idx, height, err))
		}
		return
	}
	nd.durable = height
	_, hash := nd.chain.Head()
	s.log("commit v%d h=%d %x round=%d", nd.idx, height, hash[:4], cert.Round)
	if nd.byz {
		return
	}
	if prev, ok := s.decided[height]; ok && prev != hash {
		s.fail(fmt.Errorf("%w: height %d decided %x and %x (v%d)", ErrSafety, height, prev[:4], hash[:4], nd.idx))
		return
	}
	s.decided[height] = hash
}

func (s *sim) handle(e *event) {
	nd := s.nodes[e.to]
	if nd.down || e.kind != evDeliver && e.epoch != nd.epoch {
		return
	}
	switch e.kind {
	case evDeliver:
		s.deliver(nd, e)
	case evValidated:
		ok := nd.chain.Check(e.prop) == nil
		nd.m.Validated(e.prop.Height, e.prop.View, e.prop.Hash, ok)
	case evSync:
		s.sync(nd, e.sync)
	}
	s.process(nd)
}

// deliver decodes and verifies as a node would; verification is cached by
// message bytes because every message reaches n-1 validators.
func (s *sim) deliver(nd *node, e *event) {
	msg, err := pbft.DecodeMessage(e.raw)
	if err != nil {
		s.log("garbage v%d->v%d", e.from, nd.idx)
		return
	}
	key := sha256.Sum256(e.raw)
	verr, ok := s.verified[key]
	if !ok {
		verr = pbft.VerifyMessage(s.s, s.vs, msg)
		s.verified[key] = verr
	}
	if verr != nil {
		s.log("unverified v%d->v%d %s", e.from, nd.idx, msg.Type)
		return
	}
	s.log("deliver v%d->v%d %x", e.from, nd.idx, key[:6])
	if err := nd.m.Step(msg); err != nil && !s.nodes[e.from].byz {
		s.fail(fmt.Errorf("%w: v%d rejected honest v%d's %s: %v", ErrSafety, nd.idx, e.from, msg, err))
	}
}

func (s *sim) send(nd *node, e pbft.Envelope) {
	if nd.byz {
		s.byzSend(nd, e)
		return
	}
	raw := e.Msg.Encode()
	for i := range s.nodes {
		if i == nd.idx || !e.Broadcast() && s.vs.Index(e.To) != i {
			continue
		}
		if e.Msg.Type == pbft.MsgCommit && s.now < s.stormTo && s.victims[i] && s.rng.IntN(10) < 9 {
			continue
		}
		s.transmit(nd.idx, i, raw)
	}
}

// transmit puts one copy on the wire, subject to this phase's faults.
func (s *sim) transmit(from, to int, raw []byte) {
	if s.group != nil && s.group[from] != s.group[to] {
		return
	}
	copies := 1
	if !s.calm {
		if s.rng.IntN(1000) < s.cfg.DropPermille {
			return
		}
		if s.rng.IntN(1000) < s.cfg.DupPermille {
			copies = 2
		}
	}
	for range copies {
		s.push(&event{at: s.now + 1 + s.rng.IntN(s.cfg.MaxDelayTicks), kind: evDeliver, from: from, to: to, raw: raw})
	}
}

func (s *sim) propose(nd *node, req *pbft.ProposeRequest) {
	if !s.pending {
		return
	}
	bad := nd.byz && s.rng.IntN(3) == 0
	hash, raw := nd.chain.Build(req.View, nd.key.Address(), s.rng.Uint64(), bad)
	if err := nd.m.Propose(req.Height, req.View, hash, raw); err != nil {
		s.log("v%d propose refused: %v", nd.idx, err)
	}
}

// sync serves a sync request from a listed peer's chain, checking every
// certificate as the node must.
func (s *sim) sync(nd *node, req pbft.SyncRequest) {
	peer := s.bestPeer(req.Peers)
	h, _ := nd.chain.Head()
	ph, _ := peer.chain.Head()
	for h < req.Height && h < ph {
		h++
		s.commit(nd, h, peer.chain.Blocks[h].Encode(), peer.chain.Certs[h])
		if s.err != nil {
			return
		}
	}
	nh, hash := nd.chain.Head()
	if nh == 0 {
		return
	}
	s.log("sync v%d from v%d to %d", nd.idx, peer.idx, nh)
	if err := nd.m.SyncedTo(nh, hash, nd.chain.Certs[nh]); err != nil {
		s.fail(fmt.Errorf("v%d SyncedTo: %w", nd.idx, err))
	}
}

// bestPeer picks the listed peer with the longest chain, as a node trying
// its peers in turn would end up doing.
func (s *sim) bestPeer(peers []common.Address) *node {
	best := s.nodes[s.vs.Index(peers[s.rng.IntN(len(peers))])]
	bh, _ := best.chain.Head()
	for _, a := range peers {
		p := s.nodes[s.vs.Index(a)]
		if ph, _ := p.chain.Head(); ph > bh && !p.down {
			best, bh = p, ph
		}
	}
	return best
}
