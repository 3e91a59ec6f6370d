package pbft

import (
	"fmt"
	"sort"

	"github.com/ethereum/go-ethereum/common"
)

func (m *Machine) step(msg *Message) error {
	from, err := m.admit(msg)
	if err != nil {
		m.log.Debug("rejected message", "height", m.height, "view", m.hs.View, "err", err)
		return err
	}
	switch {
	case from == m.self:
		return nil // our own message, echoed back
	case msg.Height < m.height:
		m.onStale(from, msg)
		return nil
	case msg.Height > m.height:
		return m.onFuture(from, msg)
	}
	return m.dispatch(from, msg)
}

// admit does the stateless checks and returns the sender's index.
func (m *Machine) admit(msg *Message) (int, error) {
	if msg == nil {
		return -1, fmt.Errorf("%w: nil message", ErrMalformed)
	}
	if err := msg.ValidateBasic(); err != nil {
		return -1, err
	}
	if msg.ChainID != m.cfg.ChainID {
		return -1, fmt.Errorf("%w: %q", ErrWrongChain, msg.ChainID)
	}
	from := m.vs.Index(msg.From)
	if from < 0 {
		return -1, fmt.Errorf("%w: %s", ErrNotValidator, msg.From)
	}
	if len(msg.Block) > m.cfg.MaxBlockBytes || len(msg.ViewChanges) > m.n {
		return -1, fmt.Errorf("%w: %s too large for this chain", ErrMalformed, msg.Type)
	}
	return from, nil
}

func (m *Machine) dispatch(from int, msg *Message) error {
	switch msg.Type {
	case MsgPrePrepare:
		return m.onPrePrepare(from, msg)
	case MsgPrepare:
		return m.onPrepare(from, msg)
	case MsgCommit:
		return m.onCommit(from, msg)
	case MsgViewChange:
		return m.onViewChange(from, msg)
	case MsgNewView:
		return m.onNewView(from, msg)
	case MsgCertificate:
		return m.onCertificate(from, msg)
	}
	return fmt.Errorf("%w: unknown type %d", ErrMalformed, msg.Type)
}

// inWindow bounds the views whose votes are kept.
func (m *Machine) inWindow(view uint64) bool { return view <= m.hs.View+m.cfg.MaxViewsAhead }

// onStale answers a validator stuck at an old height — it asks for a view
// change there — with our latest certificate: it either commits with it or
// learns how far to sync. Late votes get no answer: their senders are
// merely slower and will see the commits themselves.
func (m *Machine) onStale(from int, msg *Message) {
	if msg.Type != MsgViewChange || m.lastCert == nil || !m.mayReply(from) {
		return
	}
	if m.certMsg == nil {
		c := m.lastCert
		cm := &Message{Type: MsgCertificate, ChainID: m.cfg.ChainID, Height: c.Height, View: c.Round, From: m.cfg.Self, Hash: c.BlockHash, Cert: c}
		if !m.sign(cm) {
			return
		}
		m.certMsg = cm
	}
	m.send(m.addr(from), m.certMsg)
}

// onFuture buffers messages for the next height (they arrive early when
// peers commit first) and counts every future message as evidence for sync.
func (m *Machine) onFuture(from int, msg *Message) error {
	if msg.Type == MsgCertificate {
		return m.onFutureCert(from, msg)
	}
	m.noteAhead(from, msg.Height)
	// View changes are not kept: they carry blocks, and are retransmitted anyway.
	if msg.Height == m.height+1 && msg.Type != MsgViewChange && m.futureN[from] < m.cfg.MaxFutureMsgs {
		m.future = append(m.future, msg)
		m.futureN[from]++
	}
	m.checkAhead()
	return nil
}

func (m *Machine) onFutureCert(from int, msg *Message) error {
	if err := checkVoters(m.vs, msg.Cert.Votes); err != nil {
		return fmt.Errorf("certificate for height %d: %w", msg.Height, err)
	}
	m.noteAhead(from, msg.Height+1)
	m.requestSync(m.withAhead(msg.Height+1, from), msg.Height)
	return nil
}

func (m *Machine) noteAhead(from int, h uint64) {
	if h > m.ahead[from] {
		m.ahead[from] = h
	}
}

// checkAhead asks for sync once f+1 validators — so at least one honest one —
// are two or more heights ahead: height-1 and more were committed without us.
func (m *Machine) checkAhead() {
	var hs []uint64
	for i, a := range m.ahead {
		if i != m.self && a >= m.height+2 {
			hs = append(hs, a)
		}
	}
	if len(hs) <= m.f {
		return
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i] > hs[j] })
	h := hs[m.f]
	m.requestSync(m.withAhead(h, -1), h-1)
}

// withAhead lists validators seen at height >= h, plus extra if >= 0.
func (m *Machine) withAhead(h uint64, extra int) []common.Address {
	var out []common.Address
	for i, a := range m.ahead {
		if i != m.self && (a >= h || i == extra) {
			out = append(out, m.addr(i))
		}
	}
	return out
}

// aheadCount counts other validators seen at height >= h.
func (m *Machine) aheadCount(h uint64) int {
	n := 0
	for i, a := range m.ahead {
		if i != m.self && a >= h {
			n++
		}
	}
	return n
}

// requestSync emits a sync request for h, repeating an equal or lower one
// only every SyncRetryTicks.
func (m *Machine) requestSync(peers []common.Address, h uint64) {
	if h < m.height || len(peers) == 0 {
		return
	}
	if h <= m.syncHeight && m.now < m.syncAt+uint64(m.cfg.SyncRetryTicks) {
		return
	}
	m.syncHeight, m.syncAt, m.syncPeers = max(h, m.syncHeight), m.now, peers
	m.out.Sync = &SyncRequest{Height: h, Peers: peers}
	m.log.Info("behind, asking for sync", "height", m.height, "view", m.hs.View, "to", h)
}

// retrySync repeats an unanswered sync request: the peer asked may have
// been behind or down, and a guarded validator has no other way forward.
func (m *Machine) retrySync() {
	if m.syncHeight >= m.height && m.now >= m.syncAt+uint64(m.cfg.SyncRetryTicks) {
		m.requestSync(m.syncPeers, m.syncHeight)
	}
}
