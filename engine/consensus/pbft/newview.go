package pbft

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
)

// sendNewView: the leader of view v, holding a quorum of view changes for v,
// enters v and tells the others why they may follow. If any view change
// carries a prepared certificate, the block of the highest one must be
// re-proposed: it may have been committed by someone.
func (m *Machine) sendNewView() {
	v := m.hs.View
	var vcs []ViewChange
	for _, vc := range m.r.vcs[v] {
		if vc != nil {
			vcs = append(vcs, ViewChange{From: vc.From, Prepared: vc.Prepared, Sig: vc.Sig})
		}
	}
	msg := m.newMsg(MsgNewView, v, common.Hash{})
	msg.ViewChanges = vcs
	if best := highestPrepared(vcs); best != nil {
		msg.Hash, msg.Block = best.Hash, m.blockFor(best.Hash)
		if len(msg.Block) == 0 {
			return // no view change carried the block; wait for one that does
		}
	}
	if !m.sign(msg) {
		return
	}
	m.log.Info("new view", "height", m.height, "view", v, "reproposal", msg.Hash)
	m.broadcast(msg)
	m.enterView(msg)
}

// highestPrepared returns the prepared certificate of the highest view, the
// first in validator order on a tie (which needs more than f faults).
func highestPrepared(vcs []ViewChange) *PreparedCert {
	var best *PreparedCert
	for _, vc := range vcs {
		if p := vc.Prepared; p != nil && (best == nil || p.View > best.View) {
			best = p
		}
	}
	return best
}

// blockFor prefers our own validated copy of a block; otherwise it takes the
// bytes a view change carried, which the followers' applications will judge.
func (m *Machine) blockFor(hash common.Hash) []byte {
	if m.r.valid[hash] == valid {
		return m.r.blocks[hash]
	}
	for _, vc := range m.r.vcs[m.hs.View] {
		if vc != nil && vc.Prepared != nil && vc.Prepared.Hash == hash && len(vc.Block) > 0 {
			return vc.Block
		}
	}
	return nil
}

// enterView starts the view that nv justifies. With a re-proposal its block
// is the view's proposal; without one the leader proposes afresh.
func (m *Machine) enterView(nv *Message) {
	if nv.View != m.hs.View {
		m.setView(nv.View, true)
	} else {
		m.hs.InView, m.dirty, m.timer = true, true, 0
	}
	m.r.newView = nv
	if nv.Hash != (common.Hash{}) {
		m.r.proposal = nv.Hash
		m.learnBlock(nv.View, nv.Hash, nv.Block)
		m.tryPrepare()
		return
	}
	if early := m.r.early; early != nil {
		m.r.early = nil
		_ = m.onPrePrepare(m.leader(nv.View), early)
	}
}

func (m *Machine) onNewView(from int, msg *Message) error {
	if from != m.leader(msg.View) {
		return fmt.Errorf("%w: new-view for view %d from %s, not its leader", ErrInvalid, msg.View, msg.From)
	}
	if msg.View < m.hs.View || msg.View == m.hs.View && m.hs.InView || !m.inWindow(msg.View) {
		return nil
	}
	if err := m.checkNewView(msg); err != nil {
		return fmt.Errorf("new-view for view %d: %w", msg.View, err)
	}
	m.enterView(msg)
	return nil
}

// checkNewView recomputes what the leader should have re-proposed from the
// view changes it shows, and requires that it did.
func (m *Machine) checkNewView(msg *Message) error {
	seen := make([]bool, m.n)
	count := 0
	for i := range msg.ViewChanges {
		vc := &msg.ViewChanges[i]
		j := m.vs.Index(vc.From)
		switch {
		case j < 0:
			return fmt.Errorf("%w: view change from %s", ErrNotValidator, vc.From)
		case seen[j]:
			return fmt.Errorf("%w: two view changes from %s", ErrInvalid, vc.From)
		}
		if err := m.checkPreparedEvidence(vc.Prepared); err != nil {
			return err
		}
		seen[j] = true
		count++
	}
	if count < m.q {
		return fmt.Errorf("%w: %d view changes, need %d", ErrQuorum, count, m.q)
	}
	return checkReproposal(msg)
}

func checkReproposal(msg *Message) error {
	best := highestPrepared(msg.ViewChanges)
	if best == nil {
		if msg.Hash != (common.Hash{}) {
			return fmt.Errorf("%w: re-proposes %x though nothing was prepared", ErrInvalid, msg.Hash[:4])
		}
		return nil
	}
	for _, vc := range msg.ViewChanges {
		if p := vc.Prepared; p != nil && p.View == best.View && p.Hash == msg.Hash {
			return nil
		}
	}
	return fmt.Errorf("%w: re-proposes %x, but %x prepared in view %d", ErrInvalid, msg.Hash[:4], best.Hash[:4], best.View)
}
