package node

import (
	"context"

	"github.com/ethereum/go-ethereum/common"
)

// Network carries consensus traffic between a chain's validators. The node
// attaches each multi-validator chain it hosts; the network delivers peers'
// messages to the Endpoint and serves their block-sync requests from it.
// Implementations: LoopNet (in process, for the simulator and tests) and the
// gRPC p2p network with mutual TLS between processes.
type Network interface {
	Attach(chainID string, self common.Address, ep Endpoint) (Transport, error)
}

// Endpoint is the node side of a chain on the network.
type Endpoint interface {
	// Deliver hands in a consensus message from a peer; it must not block.
	Deliver(from common.Address, payload []byte)
	// ServeBlocks returns committed blocks [from, to] with certificates, at
	// most MaxSyncBlocks of them, for a peer that is catching up.
	ServeBlocks(from, to uint64) ([]SyncedBlock, error)
	// Serve answers a peer's Call (Raft's RPCs). It may block until the
	// answer is ready or ctx ends.
	Serve(ctx context.Context, from common.Address, payload []byte) ([]byte, error)
}

// Transport is the chain side of the network.
type Transport interface {
	// Send delivers payload to validator to; the zero address means every
	// other validator. It never blocks: a slow peer loses messages, which
	// consensus tolerates.
	Send(to common.Address, payload []byte)
	// FetchBlocks asks peer for blocks [from, to] with their certificates.
	FetchBlocks(ctx context.Context, peer common.Address, from, to uint64) ([]SyncedBlock, error)
	// Call sends a request to peer's Endpoint.Serve and waits for the
	// answer, at most until ctx ends.
	Call(ctx context.Context, peer common.Address, payload []byte) ([]byte, error)
	// Close detaches the chain.
	Close()
}

// SyncedBlock is a committed block and its certificate, canonical bytes.
type SyncedBlock struct {
	Block []byte
	Cert  []byte
}

// MaxSyncBlocks bounds one block-sync answer.
const MaxSyncBlocks = 64
