package pbft

import (
	"fmt"
	"sort"

	"github.com/ethereum/go-ethereum/common"
)

// timeout is the current view's length in ticks: it doubles with every
// view at the same height, so repeated failures wait longer.
func (m *Machine) timeout() int {
	t := m.cfg.BaseTimeoutTicks
	for i := uint64(0); i < m.hs.View && t < m.cfg.MaxTimeoutTicks; i++ {
		t *= 2
	}
	return min(t, m.cfg.MaxTimeoutTicks)
}

// busy says whether this height has work, so that its view timer runs:
// pending transactions, a proposal in flight in this view, a prepared block
// that may have been committed elsewhere, or f+1 validators (so one honest)
// proposing or voting in this view or seen at a higher height. View changes
// alone are no work: counting them would let an idle chain churn views.
func (m *Machine) busy() bool {
	if m.hasPending || m.hs.Prepared != nil || m.hs.InView && m.r.proposal != (common.Hash{}) {
		return true
	}
	n := 0
	for i, a := range m.r.active {
		if a && i != m.self {
			n++
		}
	}
	return n > m.f || m.aheadCount(m.height+1) > m.f
}

func (m *Machine) tickView() {
	if m.guard != nil || !m.busy() {
		return
	}
	m.timer++
	if m.timer < m.timeout() {
		return
	}
	m.timer = 0
	// Escalate only from a live view or a view change that a quorum joined:
	// a validator alone in its view change retransmits instead, so it cannot
	// run ahead of the others and keep them from ever meeting in one view.
	if m.hs.InView || m.vcCount(m.hs.View) >= m.q {
		m.log.Info("view timed out", "height", m.height, "view", m.hs.View)
		m.startViewChange(m.hs.View + 1)
		return
	}
	m.resendViewChange()
}

// startViewChange stops work in the current view and asks for view v,
// carrying this validator's highest prepared certificate and its block.
func (m *Machine) startViewChange(v uint64) {
	if m.guard != nil {
		return
	}
	msg := m.viewChangeMsg(v)
	if !m.sign(msg) {
		return
	}
	m.setView(v, false)
	m.r.ownVCs[v] = msg
	m.broadcast(msg)
	m.addViewChange(m.self, msg)
}

func (m *Machine) viewChangeMsg(v uint64) *Message {
	msg := m.newMsg(MsgViewChange, v, common.Hash{})
	if m.hs.Prepared != nil {
		msg.Prepared, msg.Block = m.hs.Prepared, m.hs.PreparedBlock
	}
	return msg
}

// resendViewChange retransmits the view change for hs.View: the same
// content, so never a second, different promise.
func (m *Machine) resendViewChange() {
	if own := m.r.ownVCs[m.hs.View]; own != nil {
		m.broadcast(own)
		return
	}
	msg := m.viewChangeMsg(m.hs.View)
	if m.sign(msg) {
		m.r.ownVCs[m.hs.View] = msg
		m.broadcast(msg)
		m.addViewChange(m.self, msg)
	}
}

// setView moves to view v, dropping what belonged to the old view.
func (m *Machine) setView(v uint64, in bool) {
	m.hs.View, m.hs.InView, m.dirty, m.timer = v, in, true, 0
	m.hs.Proposed, m.hs.Prepare, m.hs.Commit = common.Hash{}, common.Hash{}, common.Hash{}
	m.r.proposal, m.r.prePrepare, m.r.early, m.r.newView, m.r.asked = common.Hash{}, nil, nil, nil, false
	m.r.prepares.dropBelow(v)
	clear(m.r.active)
	for w := range m.r.vcs {
		if w < v {
			delete(m.r.vcs, w)
		}
	}
}

func (m *Machine) vcCount(v uint64) int {
	n := 0
	for _, vc := range m.r.vcs[v] {
		if vc != nil {
			n++
		}
	}
	return n
}

func (m *Machine) onViewChange(from int, msg *Message) error {
	if err := m.checkPreparedEvidence(msg.Prepared); err != nil {
		return fmt.Errorf("view change from %s: %w", msg.From, err)
	}
	if msg.View < m.hs.View || msg.View == m.hs.View && m.hs.InView {
		m.helpLaggard(from, msg.View)
		return nil
	}
	if !m.inWindow(msg.View) {
		return nil
	}
	m.addViewChange(from, msg)
	return nil
}

// checkPreparedEvidence does the signature-free checks of a prepared certificate.
func (m *Machine) checkPreparedEvidence(p *PreparedCert) error {
	if p == nil {
		return nil
	}
	return checkVoters(m.vs, p.Votes)
}

func (m *Machine) addViewChange(from int, msg *Message) {
	list := m.r.vcs[msg.View]
	if list == nil {
		list = make([]*Message, m.n)
		m.r.vcs[msg.View] = list
	}
	if list[from] != nil {
		return
	}
	if m.leader(msg.View) != m.self && len(msg.Block) > 0 {
		// Only the new leader uses the attached block; dropping it elsewhere
		// keeps a Byzantine peer from pinning a block per view in memory.
		c := *msg
		c.Block = nil
		msg = &c
	}
	list[from] = msg
	if msg.View == m.hs.View && !m.hs.InView && m.vcCount(msg.View) == m.q {
		m.timer = 0 // PBFT starts the view-change timer once a quorum asked
	}
	m.maybeJoin()
	v := m.hs.View
	if !m.hs.InView && m.leader(v) == m.self && m.vcCount(v) >= m.q {
		m.sendNewView()
	}
}

// maybeJoin: once f+1 validators — so at least one honest one — ask for
// views above ours, join the lowest view that f+1 of them reached.
func (m *Machine) maybeJoin() {
	best := make([]uint64, m.n)
	for w, list := range m.r.vcs {
		for i, vc := range list {
			if vc != nil && i != m.self && w > m.hs.View && w > best[i] {
				best[i] = w
			}
		}
	}
	var views []uint64
	for _, w := range best {
		if w > 0 {
			views = append(views, w)
		}
	}
	if len(views) <= m.f {
		return
	}
	sort.Slice(views, func(i, j int) bool { return views[i] > views[j] })
	m.startViewChange(views[m.f])
}

// helpLaggard answers a validator asking for view w, which we already
// entered or passed: with the new-view (and pre-prepare) of our view if we
// have one, else with the view changes we sent for w and for our view. Our
// view change for w may be the one it misses for a quorum, and a quorum is
// what lets it time out and follow us (PBFT's retransmission).
func (m *Machine) helpLaggard(from int, w uint64) {
	if !m.mayReply(from) {
		return
	}
	to := m.addr(from)
	if nv := m.r.newView; nv != nil {
		m.send(to, nv)
		if pp := m.r.prePrepare; pp != nil && nv.Hash == (common.Hash{}) {
			m.send(to, pp)
		}
		return
	}
	if own := m.r.ownVCs[w]; own != nil {
		m.send(to, own)
	}
	if own := m.r.ownVCs[m.hs.View]; own != nil && w != m.hs.View {
		m.send(to, own)
	}
}
