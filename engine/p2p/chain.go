package p2p

import (
	"context"
	"fmt"
	"sort"
	"sync/atomic"

	"github.com/tallyhq/tally/engine/p2p/pb"
)

// Handler receives one message of a chain from a member. It runs on the
// sender's connection goroutine: messages from one peer arrive in order, one
// at a time, and handlers for different peers run in parallel (so decoding
// and signature checks spread over cores). A slow handler slows only its
// peer: the peer's send queue fills and drops its oldest. payload belongs to
// the handler. Return an error only when the message proves the peer wrong;
// each error counts towards Config.InvalidLimit.
type Handler func(from NodeID, kind uint32, payload []byte) error

// RequestHandler serves one request of a chain from a member, on its own
// goroutine, within Config.RequestTimeout (ctx ends then). The response
// must fit Config.MaxMsgBytes. An error is sent back to the requester as
// ErrRemote; one wrapping ErrInvalidMessage also counts against the peer.
type RequestHandler func(ctx context.Context, from NodeID, kind uint32, payload []byte) ([]byte, error)

// ChainHandle is one chain's view of the network: it sends only to the
// chain's members and accepts only from them.
type ChainHandle struct {
	n       *Network
	id      string
	handler Handler
	members atomic.Pointer[map[NodeID]struct{}]
	serveFn atomic.Pointer[RequestHandler]
}

// Join registers a chain with its member node ids (this node may be among
// them) and the handler for its messages. Join every chain before Start, so
// that early messages from peers are not counted as unknown.
func (n *Network) Join(chainID string, members []NodeID, h Handler) (*ChainHandle, error) {
	if len(chainID) == 0 || len(chainID) > MaxChainIDBytes {
		return nil, fmt.Errorf("%w: chain id must be 1..%d bytes", ErrConfig, MaxChainIDBytes)
	}
	if h == nil {
		return nil, fmt.Errorf("%w: chain %s: a handler is required", ErrConfig, chainID)
	}
	c := &ChainHandle{n: n, id: chainID, handler: h}
	c.SetMembers(members)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopped {
		return nil, ErrClosed
	}
	if n.chains[chainID] != nil {
		return nil, fmt.Errorf("%w: %s", ErrJoined, chainID)
	}
	n.chains[chainID] = c
	return c, nil
}

// ID is the chain id.
func (c *ChainHandle) ID() string { return c.id }

// SetMembers replaces the member list, e.g. after a validator-set change.
// It applies to the next message sent or received.
func (c *ChainHandle) SetMembers(members []NodeID) {
	m := make(map[NodeID]struct{}, len(members))
	for _, id := range members {
		m[id] = struct{}{}
	}
	c.members.Store(&m)
}

// Members lists the member node ids, sorted.
func (c *ChainHandle) Members() []NodeID {
	m := *c.members.Load()
	out := make([]NodeID, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sortIDs(out)
	return out
}

// Peers lists the members other than this node that are connected now, sorted.
func (c *ChainHandle) Peers() []NodeID {
	var out []NodeID
	for _, id := range c.Members() {
		if id != c.n.self && c.n.session(id) != nil {
			out = append(out, id)
		}
	}
	return out
}

// Leave stops the chain: its messages are no longer sent or accepted.
func (c *ChainHandle) Leave() {
	c.n.mu.Lock()
	if c.n.chains[c.id] == c {
		delete(c.n.chains, c.id)
	}
	c.n.mu.Unlock()
	empty := map[NodeID]struct{}{}
	c.members.Store(&empty)
}

// HandleRequests installs the chain's request handler (nil removes it).
// Requests that arrive without one are answered with an error.
func (c *ChainHandle) HandleRequests(h RequestHandler) {
	if h == nil {
		c.serveFn.Store(nil)
		return
	}
	c.serveFn.Store(&h)
}

func (c *ChainHandle) isMember(id NodeID) bool {
	_, ok := (*c.members.Load())[id]
	return ok
}

// Send queues a message for one member. It never blocks: a full queue
// drops its oldest message. The payload must not be changed afterwards.
func (c *ChainHandle) Send(to NodeID, kind uint32, payload []byte) error {
	if err := c.checkSend(to, payload); err != nil {
		return err
	}
	env := &pb.Envelope{ChainId: c.id, Kind: kind, Payload: payload}
	c.n.enqueue(to, item{env: env, size: len(payload)})
	return nil
}

// Broadcast queues a message for every member but this node. The payload
// is shared by all the queues and must not be changed afterwards.
func (c *ChainHandle) Broadcast(kind uint32, payload []byte) error {
	if err := c.checkSize(payload); err != nil {
		return err
	}
	env := &pb.Envelope{ChainId: c.id, Kind: kind, Payload: payload}
	for id := range *c.members.Load() {
		if id != c.n.self {
			c.n.enqueue(id, item{env: env, size: len(payload)})
		}
	}
	return nil
}

func (c *ChainHandle) checkSend(to NodeID, payload []byte) error {
	switch {
	case to == c.n.self:
		return fmt.Errorf("%w: chain %s", ErrSelf, c.id)
	case !c.isMember(to):
		return fmt.Errorf("%w: %s in chain %s", ErrNotMember, to.Short(), c.id)
	}
	return c.checkSize(payload)
}

func (c *ChainHandle) checkSize(payload []byte) error {
	if c.n.ctx.Err() != nil {
		return ErrClosed
	}
	if len(payload) > c.n.cfg.MaxMsgBytes {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(payload), c.n.cfg.MaxMsgBytes)
	}
	return nil
}

func sortIDs(ids []NodeID) {
	sort.Slice(ids, func(i, j int) bool { return string(ids[i][:]) < string(ids[j][:]) })
}
