package node

import (
	"context"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/tallyhq/tally/engine/p2p"
)

// Message kinds on the p2p network.
const (
	p2pKindChain uint32 = 1 // consensus messages and gossiped transactions
	p2pKindSync  uint32 = 2 // block-sync request/response
	p2pKindCall  uint32 = 3 // a consensus RPC (Raft) and its answer
)

// P2PNet carries a node's chains over the mutual-TLS p2p network. Peers
// are p2p node ids (from their certificates); each chain maps its
// validators' addresses to the node ids that hold their keys.
type P2PNet struct {
	net   *p2p.Network
	peers map[string]map[common.Address]p2p.NodeID
}

// NewP2PNet wraps a started p2p network; peers maps chain → validator → node id.
func NewP2PNet(n *p2p.Network, peers map[string]map[common.Address]p2p.NodeID) *P2PNet {
	return &P2PNet{net: n, peers: peers}
}

// Attach implements Network.
func (p *P2PNet) Attach(chainID string, self common.Address, ep Endpoint) (Transport, error) {
	nodeOf := p.peers[chainID]
	if len(nodeOf) == 0 {
		return nil, fmt.Errorf("p2p: no validator → node id table for chain %s", chainID)
	}
	byNode := make(map[p2p.NodeID]common.Address, len(nodeOf))
	var members []p2p.NodeID
	for addr, id := range nodeOf {
		byNode[id] = addr
		members = append(members, id)
	}
	ch, err := p.net.Join(chainID, members, func(from p2p.NodeID, kind uint32, payload []byte) error {
		addr, ok := byNode[from]
		if !ok || kind != p2pKindChain {
			return fmt.Errorf("p2p: unexpected message kind %d from %s", kind, from.Short())
		}
		ep.Deliver(addr, payload)
		return nil
	})
	if err != nil {
		return nil, err
	}
	ch.HandleRequests(func(ctx context.Context, from p2p.NodeID, kind uint32, payload []byte) ([]byte, error) {
		if kind == p2pKindCall {
			addr, ok := byNode[from]
			if !ok {
				return nil, fmt.Errorf("p2p: call from %s, which holds no validator key of the chain", from.Short())
			}
			return ep.Serve(ctx, addr, payload)
		}
		var req [2]uint64
		if kind != p2pKindSync || rlp.DecodeBytes(payload, &req) != nil {
			return nil, fmt.Errorf("p2p: bad sync request")
		}
		blocks, err := ep.ServeBlocks(req[0], req[1])
		if err != nil && len(blocks) == 0 {
			return nil, err
		}
		return rlp.EncodeToBytes(blocks)
	})
	return &p2pTransport{ch: ch, nodeOf: nodeOf, self: self}, nil
}

type p2pTransport struct {
	ch     *p2p.ChainHandle
	nodeOf map[common.Address]p2p.NodeID
	self   common.Address
}

// Send implements Transport: the p2p queues never block and drop the oldest.
func (t *p2pTransport) Send(to common.Address, payload []byte) {
	if to == (common.Address{}) {
		t.ch.Broadcast(p2pKindChain, payload)
		return
	}
	if id, ok := t.nodeOf[to]; ok {
		t.ch.Send(id, p2pKindChain, payload)
	}
}

// FetchBlocks implements Transport.
func (t *p2pTransport) FetchBlocks(ctx context.Context, peer common.Address, from, to uint64) ([]SyncedBlock, error) {
	id, ok := t.nodeOf[peer]
	if !ok {
		return nil, fmt.Errorf("%w: %s has no node id", ErrUnreachable, peer)
	}
	req, _ := rlp.EncodeToBytes([2]uint64{from, to})
	resp, err := t.ch.Request(ctx, id, p2pKindSync, req)
	if err != nil {
		return nil, err
	}
	var blocks []SyncedBlock
	if err := rlp.DecodeBytes(resp, &blocks); err != nil {
		return nil, fmt.Errorf("p2p: bad sync response from %s: %w", peer, err)
	}
	return blocks, nil
}

// Call implements Transport.
func (t *p2pTransport) Call(ctx context.Context, peer common.Address, payload []byte) ([]byte, error) {
	id, ok := t.nodeOf[peer]
	if !ok {
		return nil, fmt.Errorf("%w: %s has no node id", ErrUnreachable, peer)
	}
	return t.ch.Request(ctx, id, p2pKindCall, payload)
}

// Close implements Transport.
func (t *p2pTransport) Close() { t.ch.Leave() }
