package pbft

import (
	"fmt"
	"log/slog"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/types"
)

type validity uint8

const (
	unknown validity = iota
	pending          // handed to the application, no answer yet
	valid
	invalid
)

// Machine is one validator's PBFT state machine for one chain. It is not
// safe for concurrent use: the node drives it from one goroutine.
type Machine struct {
	cfg  Config
	s    crypto.Suite
	vs   *types.ValidatorSet
	self int
	n    int
	f    int // tolerated faults: n = 3f+1 (or more)
	q    int // quorum: types.QuorumBFT.Size(n) = n-f
	log  *slog.Logger

	now uint64 // ticks since New; only rate limits read it

	height   uint64 // being decided
	lastHash common.Hash
	lastCert *types.Certificate
	certMsg  *Message // lastCert, signed once for laggards

	hs    HardState // promises at height; written to the WAL when dirty
	r     *round
	timer int // ticks counted in the current view while busy

	hasPending bool
	// guard holds restored promises for a height above the durable chain
	// head: until the node syncs up to it this validator signs nothing.
	guard *HardState

	future  []*Message // for height+1, replayed when it starts
	futureN []int      // buffered per validator
	replay  []*Message
	ahead   []uint64 // highest height each validator was seen at, if above ours

	syncHeight uint64 // outstanding sync target; retried until reached
	syncAt     uint64
	syncPeers  []common.Address
	nextReply  []uint64 // earliest tick at which each validator may be helped again

	out      Ready
	dirty    bool
	inflight bool
	err      error // sticky signer failure
	errShown bool  // err was handed out in a Ready
}

// round is the volatile state of one height.
type round struct {
	blocks      map[common.Hash][]byte
	valid       map[common.Hash]validity
	proposal    common.Hash // accepted in hs.View; zero if none yet
	prePrepare  *Message    // that proposal's pre-prepare, forwarded to laggards
	early       *Message    // pre-prepare for hs.View that arrived before its new-view
	preprepared map[uint64]bool
	asked       bool // ProposeRequest emitted in hs.View
	prepares    byView
	commits     byView
	vcs         map[uint64][]*Message // per view, indexed by validator
	ownVCs      map[uint64]*Message   // every view change we sent at this height
	newView     *Message              // for hs.View, forwarded to laggards
	cert        *types.Certificate    // received for a block still being validated
	active      []bool                // validators proposing or voting in hs.View
}

func newRound(n int) *round {
	return &round{
		blocks: map[common.Hash][]byte{}, valid: map[common.Hash]validity{},
		preprepared: map[uint64]bool{}, prepares: byView{}, commits: byView{},
		vcs: map[uint64][]*Message{}, ownVCs: map[uint64]*Message{}, active: make([]bool, n),
	}
}

// New builds the machine for cfg and resumes from st. A validator whose WAL
// holds promises above its durable head (it lost blocks it had committed)
// emits a sync request and signs nothing until it has caught up.
func New(cfg Config, st Start) (*Machine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := cfg.Validators.Len()
	m := &Machine{
		cfg: cfg, s: cfg.Suite, vs: cfg.Validators, self: cfg.Validators.Index(cfg.Self),
		n: n, f: (n - 1) / 3, q: types.QuorumBFT.Size(n),
		lastHash: st.Hash, lastCert: st.Cert,
		futureN: make([]int, n), ahead: make([]uint64, n), nextReply: make([]uint64, n),
	}
	m.log = m.logger(cfg.Logger)
	if st.State != nil && st.State.Height > st.Height+1 {
		g := *st.State
		m.guard = &g
	}
	m.enterHeight(st.Height+1, st.State)
	if m.guard != nil {
		m.requestSync(m.others(), m.guard.Height-1)
	}
	return m, nil
}

func (m *Machine) logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return l.With("chain", m.cfg.ChainID, "self", m.cfg.Self)
}

// enterHeight starts deciding height h, restoring promises from st when
// they are for h.
func (m *Machine) enterHeight(h uint64, st *HardState) {
	if m.guard != nil && m.guard.Height <= h {
		if m.guard.Height == h {
			st = m.guard
		}
		m.guard = nil
	}
	m.height, m.r, m.timer = h, newRound(m.n), 0
	m.resetFuture(h)
	if st != nil && st.Height == h {
		m.hs = *st
		m.restore()
		return
	}
	m.hs = HardState{Height: h, InView: true}
	m.dirty = true
}

// resetFuture queues buffered messages for h and forgets evidence at or below it.
func (m *Machine) resetFuture(h uint64) {
	var keep []*Message
	for _, msg := range m.future {
		if msg.Height == h {
			m.replay = append(m.replay, msg)
		} else if msg.Height > h {
			keep = append(keep, msg)
		}
	}
	m.future = keep
	clear(m.futureN)
	for _, msg := range keep {
		m.futureN[m.vs.Index(msg.From)]++
	}
	for i, a := range m.ahead {
		if a <= h {
			m.ahead[i] = 0
		}
	}
}

// restore re-issues, byte for byte, the votes that hs says were sent, so
// that a restarted validator counts them and peers that missed them get them.
func (m *Machine) restore() {
	if p := m.hs.Prepared; p != nil {
		m.r.blocks[p.Hash], m.r.valid[p.Hash] = m.hs.PreparedBlock, valid
	}
	m.r.asked = m.hs.Proposed != (common.Hash{})
	if m.guard != nil {
		return
	}
	if !m.hs.InView {
		m.resendViewChange()
		return
	}
	m.reissue(MsgPrepare, m.hs.Prepare)
	m.reissue(MsgCommit, m.hs.Commit)
}

func (m *Machine) reissue(t MsgType, hash common.Hash) {
	if hash == (common.Hash{}) {
		return
	}
	msg := m.newMsg(t, m.hs.View, hash)
	if !m.sign(msg) {
		return
	}
	m.broadcast(msg)
	if t == MsgPrepare {
		m.r.prepares.get(m.hs.View, m.n).add(m.self, hash, msg.Sig)
	} else {
		m.r.commits.get(m.hs.View, m.n).add(m.self, hash, msg.Sig)
	}
}

// settle finishes every input: it replays buffered messages that became
// current and asks for a proposal if one is due.
func (m *Machine) settle() {
	for len(m.replay) > 0 && m.err == nil {
		msg := m.replay[0]
		m.replay = m.replay[1:]
		if msg.Height == m.height {
			_ = m.dispatch(m.vs.Index(msg.From), msg) // already admitted when buffered
		}
	}
	m.maybeAskProposal()
}

func (m *Machine) leader(view uint64) int { return int((m.height + view) % uint64(m.n)) }

func (m *Machine) addr(i int) common.Address { return m.vs.Validators[i].Address }

func (m *Machine) others() []common.Address {
	var out []common.Address
	for i := range m.n {
		if i != m.self {
			out = append(out, m.addr(i))
		}
	}
	return out
}

func (m *Machine) newMsg(t MsgType, view uint64, hash common.Hash) *Message {
	return &Message{Type: t, ChainID: m.cfg.ChainID, Height: m.height, View: view, From: m.cfg.Self, Hash: hash}
}

// sign fills msg.Sig. A signer failure is sticky and reported in Ready.Err:
// callers change no state unless sign succeeded, so nothing unsigned is promised.
func (m *Machine) sign(msg *Message) bool {
	if m.err != nil {
		return false
	}
	sig, err := m.cfg.Signer.Sign(msg.Digest(m.s))
	if err != nil {
		m.err = fmt.Errorf("%w: %s at height %d view %d: %v", ErrSigner, msg.Type, msg.Height, msg.View, err)
		return false
	}
	msg.Sig = sig
	return true
}

func (m *Machine) broadcast(msg *Message) { m.send(common.Address{}, msg) }

func (m *Machine) send(to common.Address, msg *Message) {
	m.out.Messages = append(m.out.Messages, Envelope{To: to, Msg: msg})
}

// mayReply rate-limits help to validator i, which a Byzantine peer could
// otherwise use to make us sign and send without bound.
func (m *Machine) mayReply(i int) bool {
	if m.now < m.nextReply[i] {
		return false
	}
	m.nextReply[i] = m.now + uint64(m.cfg.ReplyIntervalTicks)
	return true
}
