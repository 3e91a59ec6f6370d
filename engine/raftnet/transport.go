// Package raftnet carries a Raft chain's RPCs over the node's network:
// a hashicorp/raft Transport whose calls ride the chain's authenticated
// p2p streams, encoded by the canonical codec in raftnet/wire.
package raftnet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	hraft "github.com/hashicorp/raft"

	craft "github.com/tallyhq/tally/engine/consensus/raft"
	"github.com/tallyhq/tally/engine/raftnet/wire"
)

// Caller is the chain's network as Raft uses it: a request to one
// validator and its answer. The node's network (mutual-TLS p2p between
// processes, LoopNet in one process) provides it, scoped to the chain.
type Caller interface {
	Call(ctx context.Context, peer common.Address, payload []byte) ([]byte, error)
}

// ErrTransportClosed is returned by calls on, and to, a closed transport.
var ErrTransportClosed = errors.New("raft transport closed")

// ErrSpoofedRPC is returned for an RPC whose header names a server other
// than the authenticated peer that sent it.
var ErrSpoofedRPC = errors.New("raft RPC names another server than its sender")

// Transport is a hashicorp/raft Transport over the chain's network: each
// RPC is one Call whose payload is the wire encoding, and whose answer is
// the encoded response. Raft servers are named by validator address, so
// the network's own authentication (the TLS certificate that maps to a
// validator) is what identifies a sender; an RPC whose header claims
// another server is refused.
type Transport struct {
	self     common.Address
	net      Caller
	timeout  time.Duration
	consumer chan hraft.RPC

	mu        sync.RWMutex
	heartbeat func(hraft.RPC)
	closed    chan struct{}
	closeOnce sync.Once
}

// NewTransport makes the transport of validator self; timeout bounds one
// RPC (an AppendEntries may carry megabytes of blocks).
func NewTransport(self common.Address, net Caller, timeout time.Duration) *Transport {
	return &Transport{self: self, net: net, timeout: timeout, consumer: make(chan hraft.RPC), closed: make(chan struct{})}
}

var (
	_ hraft.Transport   = (*Transport)(nil)
	_ hraft.WithPreVote = (*Transport)(nil)
	_ hraft.WithClose   = (*Transport)(nil)
)

// Consumer implements hraft.Transport.
func (t *Transport) Consumer() <-chan hraft.RPC { return t.consumer }

// LocalAddr implements hraft.Transport.
func (t *Transport) LocalAddr() hraft.ServerAddress {
	return hraft.ServerAddress(craft.ServerID(t.self))
}

// AppendEntriesPipeline implements hraft.Transport: blocks are proposed
// one at a time, so there is nothing to pipeline.
func (t *Transport) AppendEntriesPipeline(hraft.ServerID, hraft.ServerAddress) (hraft.AppendPipeline, error) {
	return nil, hraft.ErrPipelineReplicationNotSupported
}

// MaxAppendBytes bounds the entries one AppendEntries carries (a whole
// block each): below the network's message bound and below what the
// follower's log store writes in one badger transaction.
const MaxAppendBytes = 8 << 20

// AppendEntries implements hraft.Transport. A batch of blocks over
// MaxAppendBytes is cut to a prefix that fits (at least one entry): Raft
// advances the follower by the entries the request it passed in carries
// when the call returns, so the rest simply goes in the next request.
func (t *Transport) AppendEntries(_ hraft.ServerID, target hraft.ServerAddress, args *hraft.AppendEntriesRequest, resp *hraft.AppendEntriesResponse) error {
	args.Entries = fitEntries(args.Entries, MaxAppendBytes)
	return t.call(target, wire.KindAppendEntries, args, nil, resp)
}

// fitEntries returns the longest prefix of entries (at least one) whose
// payloads fit in budget bytes.
func fitEntries(entries []*hraft.Log, budget int) []*hraft.Log {
	size := 0
	for i, e := range entries {
		size += len(e.Data) + len(e.Extensions) + 64
		if size > budget && i > 0 {
			return entries[:i]
		}
	}
	return entries
}

// RequestVote implements hraft.Transport.
func (t *Transport) RequestVote(_ hraft.ServerID, target hraft.ServerAddress, args *hraft.RequestVoteRequest, resp *hraft.RequestVoteResponse) error {
	return t.call(target, wire.KindRequestVote, args, nil, resp)
}

// RequestPreVote implements hraft.WithPreVote.
func (t *Transport) RequestPreVote(_ hraft.ServerID, target hraft.ServerAddress, args *hraft.RequestPreVoteRequest, resp *hraft.RequestPreVoteResponse) error {
	return t.call(target, wire.KindRequestPreVote, args, nil, resp)
}

// TimeoutNow implements hraft.Transport.
func (t *Transport) TimeoutNow(_ hraft.ServerID, target hraft.ServerAddress, args *hraft.TimeoutNowRequest, resp *hraft.TimeoutNowResponse) error {
	return t.call(target, wire.KindTimeoutNow, args, nil, resp)
}

// InstallSnapshot implements hraft.Transport.
func (t *Transport) InstallSnapshot(_ hraft.ServerID, target hraft.ServerAddress, args *hraft.InstallSnapshotRequest, resp *hraft.InstallSnapshotResponse, data io.Reader) error {
	if args.Size < 0 || args.Size > craft.MaxSnapshotBytes {
		return fmt.Errorf("raft: snapshot of %d bytes exceeds %d", args.Size, craft.MaxSnapshotBytes)
	}
	snap := make([]byte, args.Size)
	if _, err := io.ReadFull(data, snap); err != nil {
		return fmt.Errorf("raft: read snapshot: %w", err)
	}
	return t.call(target, wire.KindInstallSnapshot, args, snap, resp)
}

// EncodePeer implements hraft.Transport.
func (t *Transport) EncodePeer(_ hraft.ServerID, addr hraft.ServerAddress) []byte {
	return []byte(addr)
}

// DecodePeer implements hraft.Transport.
func (t *Transport) DecodePeer(b []byte) hraft.ServerAddress { return hraft.ServerAddress(b) }

// SetHeartbeatHandler implements hraft.Transport.
func (t *Transport) SetHeartbeatHandler(cb func(hraft.RPC)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.heartbeat = cb
}

// Close implements hraft.WithClose.
func (t *Transport) Close() error {
	t.closeOnce.Do(func() { close(t.closed) })
	return nil
}

// call sends one RPC and decodes the answer into resp (a pointer to the
// response struct of the request's kind).
func (t *Transport) call(target hraft.ServerAddress, kind wire.Kind, args any, snap []byte, resp any) error {
	select {
	case <-t.closed:
		return ErrTransportClosed
	default:
	}
	peer, err := craft.AddressOf(string(target))
	if err != nil {
		return err
	}
	req, err := wire.EncodeRequest(args, snap)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), t.timeout)
	defer cancel()
	go func() { // closing the transport ends the call

		select {
		case <-t.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	out, err := t.net.Call(ctx, peer, req)
	if err != nil {
		return err
	}
	got, err := wire.DecodeResponse(kind, out)
	if err != nil {
		return err
	}
	return assign(resp, got)
}

// assign copies a decoded response into raft's response struct.
func assign(dst, src any) error {
	switch d := dst.(type) {
	case *hraft.AppendEntriesResponse:
		*d = *src.(*hraft.AppendEntriesResponse)
	case *hraft.RequestVoteResponse:
		*d = *src.(*hraft.RequestVoteResponse)
	case *hraft.RequestPreVoteResponse:
		*d = *src.(*hraft.RequestPreVoteResponse)
	case *hraft.InstallSnapshotResponse:
		*d = *src.(*hraft.InstallSnapshotResponse)
	case *hraft.TimeoutNowResponse:
		*d = *src.(*hraft.TimeoutNowResponse)
	default:
		return fmt.Errorf("raft: unexpected response type %T", dst)
	}
	return nil
}

// Handle serves a peer's RPC: it hands the request to Raft and returns
// the encoded answer. from is the authenticated sender.
func (t *Transport) Handle(ctx context.Context, from common.Address, payload []byte) ([]byte, error) {
	select {
	case <-t.closed:
		return nil, ErrTransportClosed
	default:
	}
	kind, req, snap, err := wire.DecodeRequest(payload)
	if err != nil {
		return nil, err
	}
	if len(snap) > craft.MaxSnapshotBytes {
		return nil, fmt.Errorf("raft: snapshot of %d bytes exceeds %d", len(snap), craft.MaxSnapshotBytes)
	}
	hdr := req.(hraft.WithRPCHeader).GetRPCHeader()
	want := string(craft.ServerID(from))
	if !strings.EqualFold(string(hdr.ID), want) || !strings.EqualFold(string(hdr.Addr), want) {
		return nil, fmt.Errorf("%w: %q/%q from %s", ErrSpoofedRPC, hdr.ID, hdr.Addr, want)
	}
	respCh := make(chan hraft.RPCResponse, 1)
	rpc := hraft.RPC{Command: req, RespChan: respCh}
	if kind == wire.KindInstallSnapshot {
		rpc.Reader = bytes.NewReader(snap)
	}
	if kind == wire.KindAppendEntries && isHeartbeat(req.(*hraft.AppendEntriesRequest)) {
		t.mu.RLock()
		hb := t.heartbeat
		t.mu.RUnlock()
		if hb != nil {
			hb(rpc)
			return t.answer(ctx, respCh)
		}
	}
	select {
	case t.consumer <- rpc:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.closed:
		return nil, ErrTransportClosed
	}
	return t.answer(ctx, respCh)
}

func (t *Transport) answer(ctx context.Context, respCh chan hraft.RPCResponse) ([]byte, error) {
	select {
	case r := <-respCh:
		if r.Error != nil {
			return nil, r.Error
		}
		return wire.EncodeResponse(r.Response)
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.closed:
		return nil, ErrTransportClosed
	}
}

// isHeartbeat is hashicorp's own test: an AppendEntries that carries
// nothing but the leader's term.
func isHeartbeat(r *hraft.AppendEntriesRequest) bool {
	leader := r.Addr
	if len(leader) == 0 {
		leader = r.Leader //lint:ignore SA1019 hashicorp's own heartbeat test reads it for old peers
	}
	return r.Term != 0 && leader != nil && r.PrevLogEntry == 0 && r.PrevLogTerm == 0 &&
		len(r.Entries) == 0 && r.LeaderCommitIndex == 0
}
