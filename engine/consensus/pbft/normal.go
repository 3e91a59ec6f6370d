package pbft

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/types"
)

// onPrePrepare accepts the leader's first proposal in the current view. A
// proposal from an older view is still handed to the application: should a
// commit quorum form for it, this validator can then commit without sync.
func (m *Machine) onPrePrepare(from int, msg *Message) error {
	if from != m.leader(msg.View) {
		return fmt.Errorf("%w: pre-prepare for view %d from %s, not its leader", ErrInvalid, msg.View, msg.From)
	}
	if msg.View > m.hs.View || m.r.preprepared[msg.View] {
		return nil
	}
	if msg.View == m.hs.View && !m.hs.InView {
		m.r.early = msg // the new-view may follow; keep it until then
		return nil
	}
	m.r.preprepared[msg.View] = true
	m.r.active[from] = m.r.active[from] || msg.View == m.hs.View
	m.learnBlock(msg.View, msg.Hash, msg.Block)
	if msg.View == m.hs.View && m.r.proposal == (common.Hash{}) {
		m.r.proposal, m.r.prePrepare = msg.Hash, msg
		m.tryPrepare()
	}
	return nil
}

// learnBlock asks the application to validate a block it has not judged.
// Bytes judged invalid are dropped, so a correct copy of the same hash
// (say, re-proposed after a view change) gets its own chance.
func (m *Machine) learnBlock(view uint64, hash common.Hash, block []byte) {
	if v := m.r.valid[hash]; v == valid || v == pending {
		return
	}
	m.r.blocks[hash], m.r.valid[hash] = block, pending
	m.out.Validate = append(m.out.Validate, Proposal{Height: m.height, View: view, Hash: hash, Block: block})
}

// tryPrepare sends this validator's prepare once the application has
// validated the proposal of the current view.
func (m *Machine) tryPrepare() {
	h := m.r.proposal
	if h == (common.Hash{}) || !m.hs.InView || m.r.valid[h] != valid || m.guard != nil {
		return
	}
	if m.hs.Prepare == (common.Hash{}) {
		msg := m.newMsg(MsgPrepare, m.hs.View, h)
		if !m.sign(msg) {
			return
		}
		m.hs.Prepare, m.dirty = h, true
		m.broadcast(msg)
		m.r.prepares.get(m.hs.View, m.n).add(m.self, h, msg.Sig)
	}
	m.checkPrepared()
}

// checkPrepared: prepared(m, v, n, i) holds once the proposal is validated,
// this validator prepared it, and a quorum prepared it; then it commits.
func (m *Machine) checkPrepared() {
	h, v := m.r.proposal, m.hs.View
	if h == (common.Hash{}) || !m.hs.InView || m.hs.Prepare != h || m.hs.Commit != (common.Hash{}) {
		return
	}
	t := m.r.prepares[v]
	if t == nil || t.count(h) < m.q || m.r.valid[h] != valid {
		return
	}
	msg := m.newMsg(MsgCommit, v, h)
	if !m.sign(msg) {
		return
	}
	m.hs.Prepared = &PreparedCert{View: v, Hash: h, Votes: t.votes(m.vs, h)}
	m.hs.PreparedBlock, m.hs.Commit, m.dirty = m.r.blocks[h], h, true
	m.broadcast(msg)
	m.recordCommit(m.self, v, h, msg.Sig)
}

func (m *Machine) onPrepare(from int, msg *Message) error {
	if msg.View < m.hs.View || !m.inWindow(msg.View) {
		return nil
	}
	m.r.active[from] = m.r.active[from] || msg.View == m.hs.View
	if m.r.prepares.get(msg.View, m.n).add(from, msg.Hash, msg.Sig) && msg.View == m.hs.View {
		m.checkPrepared()
	}
	return nil
}

// onCommit counts commits of any view at this height: a quorum formed in a
// view this validator already left still decides the block.
func (m *Machine) onCommit(from int, msg *Message) error {
	if !m.inWindow(msg.View) {
		return nil
	}
	m.r.active[from] = m.r.active[from] || msg.View == m.hs.View
	m.recordCommit(from, msg.View, msg.Hash, msg.Sig)
	return nil
}

func (m *Machine) recordCommit(from int, view uint64, hash common.Hash, sig []byte) {
	if m.r.commits.get(view, m.n).add(from, hash, sig) {
		m.checkCommitted(view, hash)
	}
}

// checkCommitted decides once a quorum committed a block the application
// has validated; without the block it asks the committers for it.
func (m *Machine) checkCommitted(view uint64, hash common.Hash) bool {
	t := m.r.commits[view]
	if t == nil || t.count(hash) < m.q {
		return false
	}
	switch m.r.valid[hash] {
	case valid:
		m.decide(&types.Certificate{ChainID: m.cfg.ChainID, Height: m.height, Round: view, BlockHash: hash, Votes: t.votes(m.vs, hash)})
		return true
	case pending:
		return false // decided when the application answers
	}
	m.requestSync(t.voters(m.vs, hash), m.height)
	return false
}

// onCertificate takes a certificate for the current height from a peer that
// already decided it.
func (m *Machine) onCertificate(from int, msg *Message) error {
	if err := checkVoters(m.vs, msg.Cert.Votes); err != nil {
		return fmt.Errorf("certificate for height %d: %w", msg.Height, err)
	}
	switch m.r.valid[msg.Hash] {
	case valid:
		m.decide(msg.Cert)
	case pending:
		m.r.cert = msg.Cert
	default:
		m.requestSync([]common.Address{msg.From}, m.height)
	}
	return nil
}

// accept records the application's approval and resumes what waited for it.
func (m *Machine) accept(hash common.Hash) {
	m.r.valid[hash] = valid
	h := m.height
	if c := m.r.cert; c != nil && c.BlockHash == hash {
		m.decide(c)
		return
	}
	for _, v := range m.r.commits.views() {
		if m.checkCommitted(v, hash) {
			return
		}
	}
	if m.height == h {
		m.tryPrepare()
	}
}

// reject drops invalid bytes. An invalid proposal in the current view marks
// its leader faulty: ask for a view change now rather than wait for the timer.
func (m *Machine) reject(hash common.Hash, view uint64) {
	m.r.valid[hash] = invalid
	delete(m.r.blocks, hash)
	m.log.Warn("application rejected proposal", "height", m.height, "view", view, "hash", hash)
	if hash == m.r.proposal && m.hs.InView {
		m.startViewChange(m.hs.View + 1)
	}
}

// decide commits the block of cert and starts the next height at once, so
// that its proposal can be built while this block is still being persisted.
func (m *Machine) decide(cert *types.Certificate) {
	hash := cert.BlockHash
	m.out.Committed = append(m.out.Committed, Committed{Height: m.height, Hash: hash, Block: m.r.blocks[hash], Cert: cert})
	m.log.Info("committed", "height", m.height, "view", m.hs.View, "round", cert.Round, "hash", hash)
	m.lastHash, m.lastCert, m.certMsg = hash, cert, nil
	m.enterHeight(m.height+1, nil)
}

// maybeAskProposal requests a block when this validator leads a view that
// has none and the application has transactions: no empty blocks.
func (m *Machine) maybeAskProposal() {
	if m.r.asked || !m.hasPending || !m.hs.InView || m.leader(m.hs.View) != m.self || m.guard != nil {
		return
	}
	if m.r.proposal != (common.Hash{}) || m.hs.Proposed != (common.Hash{}) {
		return
	}
	m.r.asked = true
	m.out.Propose = &ProposeRequest{Height: m.height, View: m.hs.View, Parent: m.lastHash}
}
