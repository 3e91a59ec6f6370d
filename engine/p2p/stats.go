package p2p

import (
	"sort"
	"sync/atomic"
	"time"
)

// Stats are the network's counters since New. Bytes are payload bytes.
type Stats struct {
	MsgsSent, BytesSent         uint64
	MsgsReceived, BytesReceived uint64
	// QueueDrops: messages dropped from full send queues (oldest first).
	QueueDrops uint64
	// UnknownChain: inbound messages for a chain this node has not joined.
	UnknownChain uint64
	// NonMember: inbound messages for a chain whose member list lacks the sender.
	NonMember uint64
	// HandlerErrors: inbound messages the chain's handler refused.
	HandlerErrors uint64
	// Malformed: frames that broke the protocol or the size bound.
	Malformed uint64
	// Intercepted: packets dropped by the Interceptor.
	Intercepted uint64
	// Refused: connections refused by admission (CA, revocation, expiry, ban, pin).
	Refused uint64
	// Banned: peers disconnected and banned for misbehaving.
	Banned uint64
	// LateResponses: responses with no waiting request (timed out, or bogus).
	LateResponses uint64
}

type counters struct {
	msgsSent, bytesSent, msgsRecv, bytesRecv           atomic.Uint64
	queueDrops, unknownChain, nonMember, handlerErrors atomic.Uint64
	malformed, intercepted, refused, banned, late      atomic.Uint64
}

// Stats returns a snapshot of the counters.
func (n *Network) Stats() Stats {
	c := &n.stats
	return Stats{
		MsgsSent: c.msgsSent.Load(), BytesSent: c.bytesSent.Load(),
		MsgsReceived: c.msgsRecv.Load(), BytesReceived: c.bytesRecv.Load(),
		QueueDrops: c.queueDrops.Load(), UnknownChain: c.unknownChain.Load(),
		NonMember: c.nonMember.Load(), HandlerErrors: c.handlerErrors.Load(),
		Malformed: c.malformed.Load(), Intercepted: c.intercepted.Load(),
		Refused: c.refused.Load(), Banned: c.banned.Load(), LateResponses: c.late.Load(),
	}
}

// PeerInfo describes one live connection.
type PeerInfo struct {
	ID       NodeID
	Addr     string // the peer's address as dialed, or its remote address if it dialed in
	Outbound bool   // this node dialed
	Since    time.Time
	// QueuedMsgs and QueuedBytes are what waits in the peer's send queue;
	// QueueDrops is how many messages that queue has dropped in all.
	QueuedMsgs, QueuedBytes int
	QueueDrops              uint64
}

// Connected lists the live connections, by node id.
func (n *Network) Connected() []PeerInfo {
	n.mu.RLock()
	out := make([]PeerInfo, 0, len(n.sessions))
	for id, s := range n.sessions {
		pi := PeerInfo{ID: id, Addr: s.addr, Outbound: s.outbound, Since: s.since}
		if q := n.queues[id]; q != nil {
			pi.QueuedMsgs, pi.QueuedBytes, pi.QueueDrops = q.stats()
		}
		out = append(out, pi)
	}
	n.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return string(out[i].ID[:]) < string(out[j].ID[:]) })
	return out
}

// Queued reports what waits in the send queue for id, connected or not,
// and how many messages that queue has dropped.
func (n *Network) Queued(id NodeID) (msgs, bytes int, drops uint64) {
	n.mu.RLock()
	q := n.queues[id]
	n.mu.RUnlock()
	if q == nil {
		return 0, 0, 0
	}
	return q.stats()
}
