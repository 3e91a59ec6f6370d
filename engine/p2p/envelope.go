package p2p

import (
	"fmt"

	"github.com/tallyhq/tally/engine/p2p/pb"
)

// checkEnvelope is the protocol's ValidateBasic: everything that can be
// checked without knowing the chains. A failure is ErrMalformed or
// ErrTooLarge, which disconnect the peer at once.
func checkEnvelope(env *pb.Envelope, maxPayload int) error {
	switch {
	case len(env.Payload) > maxPayload:
		return fmt.Errorf("%w: payload of %d bytes, limit %d", ErrTooLarge, len(env.Payload), maxPayload)
	case len(env.ChainId) == 0 || len(env.ChainId) > MaxChainIDBytes:
		return fmt.Errorf("%w: chain id of %d bytes, want 1..%d", ErrMalformed, len(env.ChainId), MaxChainIDBytes)
	case len(env.Error) > maxErrorBytes:
		return fmt.Errorf("%w: error text of %d bytes, limit %d", ErrMalformed, len(env.Error), maxErrorBytes)
	}
	switch env.Flow {
	case pb.Flow_FLOW_MESSAGE, pb.Flow_FLOW_REQUEST:
		if (env.RequestId != 0) != (env.Flow == pb.Flow_FLOW_REQUEST) || env.Error != "" {
			return fmt.Errorf("%w: %s with request id %d and error %q", ErrMalformed, env.Flow, env.RequestId, env.Error)
		}
	case pb.Flow_FLOW_RESPONSE:
		if env.RequestId == 0 || env.Error != "" && len(env.Payload) > 0 {
			return fmt.Errorf("%w: response without request id, or with both error and payload", ErrMalformed)
		}
	default:
		return fmt.Errorf("%w: unknown flow %d", ErrMalformed, env.Flow)
	}
	return nil
}

// receive dispatches one inbound envelope from s's peer. It returns an
// error the peer is to blame for: ErrMalformed/ErrTooLarge (disconnect) or
// ErrInvalidMessage (a strike).
func (n *Network) receive(s *session, env *pb.Envelope) error {
	if err := checkEnvelope(env, n.cfg.MaxMsgBytes); err != nil {
		return err
	}
	if !n.intercept(Inbound, s.peer, env, s.done) {
		return nil
	}
	if env.Flow == pb.Flow_FLOW_RESPONSE {
		ok, err := n.reqs.resolve(s.peer, env)
		if !ok {
			n.stats.late.Add(1)
		}
		return err
	}
	c, err := n.chainOf(env.ChainId, s.peer)
	if c == nil {
		return err
	}
	if env.Flow == pb.Flow_FLOW_REQUEST {
		n.serve(s, c, env)
		return nil
	}
	if err := c.handler(s.peer, env.Kind, env.Payload); err != nil {
		n.stats.handlerErrors.Add(1)
		return fmt.Errorf("%w: chain %s kind %d: %w", ErrInvalidMessage, env.ChainId, env.Kind, err)
	}
	return nil
}

// chainOf finds the chain an inbound envelope is for. A chain this node
// has not joined is the peer's fault (a strike). A sender that is not a
// member gets its message dropped and counted, without a strike: member
// lists change with validator sets, and a peer whose list lags one change
// behind must not be banned from every chain for it.
func (n *Network) chainOf(chainID string, from NodeID) (*ChainHandle, error) {
	n.mu.RLock()
	c := n.chains[chainID]
	n.mu.RUnlock()
	if c == nil {
		n.stats.unknownChain.Add(1)
		return nil, fmt.Errorf("%w: %w %q", ErrInvalidMessage, ErrUnknownChain, chainID)
	}
	if !c.isMember(from) {
		n.stats.nonMember.Add(1)
		n.log.Debug("dropped message from a non-member", "chain", chainID, "peer", from.Short())
		return nil, nil
	}
	return c, nil
}
