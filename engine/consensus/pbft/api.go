package pbft

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/types"
)

// Step hands the machine one message from a peer. The node must have checked
// it with VerifyMessage first: Step trusts every signature in it. Step
// still checks everything else — chain id, membership, heights and views,
// sizes, quorums of evidence, who may send what — and ignores or rejects
// what does not fit. It never panics on any input. An error says the peer
// sent something wrong; nil means the message was used or harmlessly ignored.
func (m *Machine) Step(msg *Message) error {
	if m.err != nil {
		return m.err
	}
	err := m.step(msg)
	m.settle()
	return err
}

// Tick advances the machine's clock by one tick. View timers only run while
// there is work: pending transactions, a proposal in flight, or a quorum-backed
// sign of activity. An idle chain sends nothing.
func (m *Machine) Tick() {
	if m.err != nil {
		return
	}
	m.now++
	m.retrySync()
	m.tickView()
	m.settle()
}

// HasPending tells the machine whether the application has transactions to
// put in a block. Without them no block is requested and, unless a proposal
// is in flight, no view timer runs: Tally makes no empty blocks.
func (m *Machine) HasPending(p bool) {
	m.hasPending = p
	if !p {
		m.r.asked = false // ask again when transactions come back
	}
	m.settle()
}

// Propose hands the machine the block this validator built for (height,
// view) after a ProposeRequest: hash is its header hash, block its bytes.
// The block counts as valid: the application built and executed it. It fails
// with ErrNotNow if the machine has moved on or already proposed.
func (m *Machine) Propose(height, view uint64, hash common.Hash, block []byte) error {
	if m.err != nil {
		return m.err
	}
	if err := m.canPropose(height, view, hash, block); err != nil {
		return err
	}
	msg := m.newMsg(MsgPrePrepare, view, hash)
	msg.Block = block
	if !m.sign(msg) {
		return m.err
	}
	m.hs.Proposed, m.dirty = hash, true
	m.r.blocks[hash], m.r.valid[hash] = block, valid
	m.r.proposal, m.r.prePrepare, m.r.preprepared[view] = hash, msg, true
	m.broadcast(msg)
	m.tryPrepare()
	m.settle()
	return nil
}

func (m *Machine) canPropose(height, view uint64, hash common.Hash, block []byte) error {
	switch {
	case hash == (common.Hash{}) || len(block) == 0 || len(block) > m.cfg.MaxBlockBytes:
		return fmt.Errorf("%w: proposal of %d bytes with hash %x", ErrMalformed, len(block), hash)
	case height != m.height || view != m.hs.View || !m.hs.InView:
		return fmt.Errorf("%w: proposal for %d/%d, machine at %d/%d", ErrNotNow, height, view, m.height, m.hs.View)
	case m.leader(view) != m.self || m.guard != nil:
		return fmt.Errorf("%w: not the leader of %d/%d", ErrNotNow, height, view)
	case m.r.proposal != (common.Hash{}) || m.hs.Proposed != (common.Hash{}):
		return fmt.Errorf("%w: already proposed in %d/%d", ErrNotNow, height, view)
	}
	return nil
}

// Validated reports the application's verdict on a Proposal: ok means the
// block is valid and executed. Only then does this validator prepare it.
// Answers for other heights, or for blocks not asked about, are ignored.
func (m *Machine) Validated(height, view uint64, hash common.Hash, ok bool) {
	if m.err != nil || height != m.height || m.r.valid[hash] != pending {
		return
	}
	if ok {
		m.accept(hash)
	} else {
		m.reject(hash, view)
	}
	m.settle()
}

// SyncedTo tells the machine that the node has applied every block up to
// height, the last with hash and cert, after checking each with
// types.VerifyCertificate. The machine moves on to height+1.
func (m *Machine) SyncedTo(height uint64, hash common.Hash, cert *types.Certificate) error {
	if m.err != nil {
		return m.err
	}
	if cert == nil || cert.Height != height || cert.BlockHash != hash || cert.ChainID != m.cfg.ChainID {
		return fmt.Errorf("%w: certificate does not match block %d/%x", ErrInvalid, height, hash)
	}
	if height < m.height {
		return nil
	}
	m.log.Info("synced", "height", height, "hash", hash)
	m.lastHash, m.lastCert, m.certMsg = hash, cert, nil
	m.enterHeight(height+1, nil)
	m.settle()
	return nil
}

// HasReady reports whether Ready has something and the last one was advanced.
func (m *Machine) HasReady() bool {
	return !m.inflight && (m.err != nil && !m.errShown || m.dirty && m.guard == nil || !m.out.Empty())
}

// Ready returns what the node must persist, send and apply (see Ready for
// the order), then call Advance. Until Advance it returns an empty Ready.
// The messages are shared with the machine: encode them, do not change them.
func (m *Machine) Ready() Ready {
	if m.inflight {
		return Ready{}
	}
	rd := m.out
	m.out = Ready{}
	// While guarded, hs is below the WAL's promises: writing it would erase them.
	if m.dirty && m.guard == nil {
		hs := m.hs
		rd.HardState, m.dirty = &hs, false
	}
	rd.Err, m.errShown = m.err, m.err != nil
	m.inflight = !rd.Empty()
	return rd
}

// Advance says the node has finished with the last Ready.
func (m *Machine) Advance() { m.inflight = false }
