package p2p

import (
	"time"

	"github.com/tallyhq/tally/engine/p2p/pb"
)

// Direction says at which end an Interceptor sees a packet.
type Direction uint8

const (
	// Outbound: at the sender, just before the packet goes on the wire.
	Outbound Direction = iota + 1
	// Inbound: at the receiver, after it passed the envelope checks and
	// before it is dispatched.
	Inbound
)

// Packet describes one envelope crossing a connection, for an Interceptor.
type Packet struct {
	Dir      Direction
	From, To NodeID
	ChainID  string
	Kind     uint32
	Request  bool // a request (Kind is the request's kind)
	Response bool // a response to a request
	Bytes    int  // payload size
}

// Verdict is an Interceptor's decision: drop the packet, or hold it for
// Delay first. A delay holds the connection's sender (Outbound) or reader
// (Inbound), like a slow link: later packets on it wait too, order is kept,
// and a long delay fills the send queue, which then drops its oldest.
type Verdict struct {
	Drop  bool
	Delay time.Duration
}

// Interceptor is a fault-injection hook for tests and chaos runs: it sees
// every packet at both ends and may drop or delay it. A partition is an
// interceptor that drops packets between two sets of nodes; one function
// shared by every node in a test sees the whole network. It is called from
// connection goroutines, concurrently, and must be safe for that.
type Interceptor func(Packet) Verdict

// SetInterceptor installs ic, replacing any other; nil removes it. It takes
// effect for the next packet.
func (n *Network) SetInterceptor(ic Interceptor) {
	if ic == nil {
		n.ic.Store(nil)
		return
	}
	n.ic.Store(&ic)
}

// intercept applies the interceptor and reports whether the packet goes on.
// A delay ends early, with the packet dropped, if the connection closes.
func (n *Network) intercept(dir Direction, peer NodeID, env *pb.Envelope, done <-chan struct{}) bool {
	icp := n.ic.Load()
	if icp == nil {
		return true
	}
	p := Packet{Dir: dir, From: n.self, To: peer, ChainID: env.ChainId, Kind: env.Kind,
		Request: env.Flow == pb.Flow_FLOW_REQUEST, Response: env.Flow == pb.Flow_FLOW_RESPONSE, Bytes: len(env.Payload)}
	if dir == Inbound {
		p.From, p.To = peer, n.self
	}
	v := (*icp)(p)
	if !v.Drop && v.Delay > 0 {
		t := time.NewTimer(v.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-done:
			v.Drop = true
		}
	}
	if v.Drop {
		n.stats.intercepted.Add(1)
	}
	return !v.Drop
}
