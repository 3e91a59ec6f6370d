package p2p

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/tallyhq/tally/engine/p2p/pb"
)

// requests are this node's requests awaiting a response, by peer and id.
type requests struct {
	mu      sync.Mutex
	next    uint64
	pending map[NodeID]map[uint64]*call
}

type call struct {
	chain string
	ch    chan result // capacity 1: the first result wins
}

type result struct {
	payload []byte
	err     error
}

func (c *call) finish(r result) {
	select {
	case c.ch <- r:
	default:
	}
}

func (r *requests) add(to NodeID, chain string) (uint64, *call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	c := &call{chain: chain, ch: make(chan result, 1)}
	if r.pending[to] == nil {
		r.pending[to] = make(map[uint64]*call)
	}
	r.pending[to][r.next] = c
	return r.next, c
}

func (r *requests) remove(to NodeID, id uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.pending[to], id)
	if len(r.pending[to]) == 0 {
		delete(r.pending, to)
	}
}

// resolve hands a response to its request. A response nobody waits for
// is late (false, nil) unless its id was never issued at all, which only a
// broken or hostile peer sends (an ErrInvalidMessage strike).
func (r *requests) resolve(from NodeID, env *pb.Envelope) (bool, error) {
	r.mu.Lock()
	c, issued := r.pending[from][env.RequestId], env.RequestId <= r.next
	r.mu.Unlock()
	if !issued {
		return false, fmt.Errorf("%w: response to request %d, never sent", ErrInvalidMessage, env.RequestId)
	}
	if c == nil || c.chain != env.ChainId {
		return false, nil
	}
	if env.Error != "" {
		c.finish(result{err: fmt.Errorf("%w: %s", ErrRemote, env.Error)})
	} else {
		c.finish(result{payload: env.Payload})
	}
	return true, nil
}

// failPeer fails every request waiting on a peer that went away.
func (r *requests) failPeer(id NodeID, err error) {
	r.mu.Lock()
	calls := make([]*call, 0, len(r.pending[id]))
	for _, c := range r.pending[id] {
		calls = append(calls, c)
	}
	r.mu.Unlock()
	for _, c := range calls {
		c.finish(result{err: err})
	}
}

// Request asks a connected member and waits for its answer, at most until
// ctx ends or, if ctx has no deadline, Config.RequestTimeout. It fails at
// once with ErrNotConnected if the member has no live connection (try
// another), and with ErrDisconnected if the connection is lost meanwhile.
// A peer whose member list lacks this node drops the request, which then
// times out. The answer is bounded by the responder's and this node's
// MaxMsgBytes.
func (c *ChainHandle) Request(ctx context.Context, to NodeID, kind uint32, payload []byte) ([]byte, error) {
	if err := c.checkSend(to, payload); err != nil {
		return nil, err
	}
	n := c.n
	if n.session(to) == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotConnected, to.Short())
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, n.cfg.RequestTimeout)
		defer cancel()
	}
	id, call := n.reqs.add(to, c.id)
	defer n.reqs.remove(to, id)
	env := &pb.Envelope{ChainId: c.id, Kind: kind, Payload: payload, Flow: pb.Flow_FLOW_REQUEST, RequestId: id}
	n.enqueue(to, item{env: env, size: len(payload), drop: func() { call.finish(result{err: ErrDropped}) }})
	select {
	case r := <-call.ch:
		return r.payload, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("p2p: request %d to %s on %s: %w", kind, to.Short(), c.id, ctx.Err())
	case <-n.ctx.Done():
		return nil, ErrClosed
	}
}

// serve answers a request on its own goroutine, so that a slow request
// (a block read from disk) does not hold up the peer's messages. At most
// MaxInflightRequests run per peer; beyond that the answer is "busy".
func (n *Network) serve(s *session, c *ChainHandle, env *pb.Envelope) {
	select {
	case s.serving <- struct{}{}:
	default:
		n.respond(s.peer, env, nil, errors.New("busy: too many requests in flight"))
		return
	}
	started := n.spawn(func() {
		out, err := n.handleRequest(s, c, env)
		<-s.serving // before the answer leaves, so the peer's next request finds the slot free
		n.respond(s.peer, env, out, err)
	})
	if !started {
		<-s.serving
	}
}

func (n *Network) handleRequest(s *session, c *ChainHandle, env *pb.Envelope) ([]byte, error) {
	hp := c.serveFn.Load()
	if hp == nil {
		return nil, fmt.Errorf("chain %s serves no requests", c.id)
	}
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.RequestTimeout)
	defer cancel()
	out, err := (*hp)(ctx, s.peer, env.Kind, env.Payload)
	switch {
	case errors.Is(err, ErrInvalidMessage):
		n.punish(s, err)
	case err == nil && ctx.Err() != nil:
		err = fmt.Errorf("request handler exceeded %v", n.cfg.RequestTimeout)
	case err == nil && len(out) > n.cfg.MaxMsgBytes:
		err = fmt.Errorf("response of %d bytes exceeds the limit %d", len(out), n.cfg.MaxMsgBytes)
	}
	return out, err
}

// respond queues the answer to env.
func (n *Network) respond(to NodeID, env *pb.Envelope, out []byte, err error) {
	resp := &pb.Envelope{ChainId: env.ChainId, Kind: env.Kind, Flow: pb.Flow_FLOW_RESPONSE, RequestId: env.RequestId, Payload: out}
	if err != nil {
		msg := err.Error()
		if len(msg) > maxErrorBytes {
			msg = msg[:maxErrorBytes]
		}
		resp.Error, resp.Payload = msg, nil
	}
	n.enqueue(to, item{env: resp, size: len(resp.Payload)})
}
