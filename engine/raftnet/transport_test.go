package raftnet

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	hraft "github.com/hashicorp/raft"

	craft "github.com/tallyhq/tally/engine/consensus/raft"
	"github.com/tallyhq/tally/engine/raftnet/wire"
)

// memNet connects Transports in one process: a Call from a to b is
// b.Handle(ctx, a, payload). Hooks drop or delay calls.
type memNet struct {
	mu    sync.RWMutex
	nodes map[common.Address]*Transport
	// drop, if set, refuses the call from -> to.
	drop func(from, to common.Address, kind wire.Kind) bool
	// delay, if set, holds the call from -> to before delivering it.
	delay func(from, to common.Address, kind wire.Kind) time.Duration

	calls [8]atomic.Int64 // delivered calls by kind
}

var errDropped = errors.New("memnet: call dropped")

func newMemNet() *memNet { return &memNet{nodes: map[common.Address]*Transport{}} }

// join makes the transport of self on this network.
func (n *memNet) join(self common.Address, timeout time.Duration) *Transport {
	t := NewTransport(self, &memCaller{net: n, self: self}, timeout)
	n.mu.Lock()
	n.nodes[self] = t
	n.mu.Unlock()
	return t
}

func (n *memNet) setDrop(f func(from, to common.Address, kind wire.Kind) bool) {
	n.mu.Lock()
	n.drop = f
	n.mu.Unlock()
}

func (n *memNet) setDelay(f func(from, to common.Address, kind wire.Kind) time.Duration) {
	n.mu.Lock()
	n.delay = f
	n.mu.Unlock()
}

type memCaller struct {
	net  *memNet
	self common.Address
}

func (c *memCaller) Call(ctx context.Context, peer common.Address, payload []byte) ([]byte, error) {
	n := c.net
	n.mu.RLock()
	target, drop, delay := n.nodes[peer], n.drop, n.delay
	n.mu.RUnlock()
	if target == nil {
		return nil, fmt.Errorf("memnet: no peer %s", peer)
	}
	var kind wire.Kind
	if len(payload) > 0 {
		kind = wire.Kind(payload[0])
	}
	if drop != nil && drop(c.self, peer, kind) {
		return nil, errDropped
	}
	if delay != nil {
		if d := delay(c.self, peer, kind); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	if int(kind) < len(n.calls) {
		n.calls[kind].Add(1)
	}
	return target.Handle(ctx, c.self, payload)
}

// testAddr is a deterministic validator address.
func testAddr(i int) common.Address {
	return common.BytesToAddress([]byte{0xab, byte(i + 1), 0xcd})
}

// countFSM expects commands carrying 0, 1, 2, ... in that order.
type countFSM struct {
	mu   sync.Mutex
	seen []uint64
	err  error
}

func (f *countFSM) Apply(l *hraft.Log) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(l.Data) != 8 {
		if f.err == nil {
			f.err = fmt.Errorf("log %d: %d-byte command", l.Index, len(l.Data))
		}
		return nil
	}
	v := binary.BigEndian.Uint64(l.Data)
	if v != uint64(len(f.seen)) && f.err == nil {
		f.err = fmt.Errorf("log %d: command %d after %d commands", l.Index, v, len(f.seen))
	}
	f.seen = append(f.seen, v)
	return len(f.seen)
}

func (f *countFSM) state() (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.seen), f.err
}

func (f *countFSM) values() []uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]uint64(nil), f.seen...)
}

type countSnapshot []uint64

func (s countSnapshot) Persist(sink hraft.SnapshotSink) error {
	if err := json.NewEncoder(sink).Encode(s); err != nil {
		_ = sink.Cancel()
		return err
	}
	return sink.Close()
}

func (countSnapshot) Release() {}

func (f *countFSM) Snapshot() (hraft.FSMSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return countSnapshot(append([]uint64(nil), f.seen...)), nil
}

func (f *countFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var seen []uint64
	if err := json.NewDecoder(rc).Decode(&seen); err != nil {
		return err
	}
	for i, v := range seen {
		if v != uint64(i) {
			return fmt.Errorf("snapshot holds %d at %d", v, i)
		}
	}
	f.mu.Lock()
	f.seen = seen
	f.mu.Unlock()
	return nil
}

type clusterNode struct {
	addr  common.Address
	trans *Transport
	fsm   *countFSM
	raft  *hraft.Raft
}

func cmd(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// leaderAmong returns the one node of ns that is leader, or nil.
func leaderAmong(ns []*clusterNode) *clusterNode {
	var l *clusterNode
	for _, n := range ns {
		if n.raft.State() == hraft.Leader {
			if l != nil {
				return nil // two claim it (an old term's leader not yet stepped down)
			}
			l = n
		}
	}
	return l
}

func applyRange(t *testing.T, leader *clusterNode, from, to uint64) {
	t.Helper()
	futures := make([]hraft.ApplyFuture, 0, to-from)
	for v := from; v < to; v++ {
		futures = append(futures, leader.raft.Apply(cmd(v), 5*time.Second))
	}
	for i, f := range futures {
		if err := f.Error(); err != nil {
			t.Fatalf("apply %d on %s: %v", from+uint64(i), leader.addr, err)
		}
	}
}

func waitCount(t *testing.T, n *clusterNode, want int) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("%s to apply %d commands", n.addr, want), func() bool {
		got, err := n.fsm.state()
		if err != nil {
			t.Fatalf("%s: %v", n.addr, err)
		}
		return got >= want
	})
	got, err := n.fsm.state()
	if err != nil || got != want {
		t.Fatalf("%s applied %d commands (err %v), want %d", n.addr, got, err, want)
	}
}

// A real three-node hashicorp raft cluster over Transport: it elects a
// leader and replicates in order; a leader cut off from the others is
// replaced; when it returns it catches up, here by InstallSnapshot because
// the new leader compacted its log meanwhile.
func TestTransportRaftCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a raft cluster")
	}
	cfg := craft.Config{HeartbeatMs: 100, ElectionMs: 100, CommitMs: 5, RPCTimeoutMs: 1000, TrailingLogs: 8}.WithDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	net := newMemNet()
	// Some jitter so that requests and answers interleave.
	net.setDelay(func(_, _ common.Address, _ wire.Kind) time.Duration {
		return time.Duration(rand.IntN(300)) * time.Microsecond
	})

	nodes := make([]*clusterNode, 3)
	var conf hraft.Configuration
	for i := range nodes {
		a := testAddr(i)
		nodes[i] = &clusterNode{addr: a, trans: net.join(a, cfg.RPCTimeout()), fsm: &countFSM{}}
		conf.Servers = append(conf.Servers, hraft.Server{Suffrage: hraft.Voter, ID: craft.ServerID(a), Address: hraft.ServerAddress(craft.ServerID(a))})
	}
	for _, n := range nodes {
		rc := cfg.Raft(n.addr, log)
		if err := hraft.ValidateConfig(rc); err != nil {
			t.Fatal(err)
		}
		logs, snaps := hraft.NewInmemStore(), hraft.NewInmemSnapshotStore()
		if err := hraft.BootstrapCluster(rc, logs, logs, snaps, n.trans, conf); err != nil {
			t.Fatal(err)
		}
		r, err := hraft.NewRaft(rc, n.fsm, logs, logs, snaps, n.trans)
		if err != nil {
			t.Fatal(err)
		}
		n.raft = r
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			if err := n.raft.Shutdown().Error(); err != nil {
				t.Error(err)
			}
		}
		// Shutdown closes the transport (hraft.WithClose).
		for _, n := range nodes {
			if err := n.trans.AppendEntries("", n.trans.LocalAddr(), &hraft.AppendEntriesRequest{}, &hraft.AppendEntriesResponse{}); !errors.Is(err, ErrTransportClosed) {
				t.Errorf("%s: call after raft shutdown: %v, want ErrTransportClosed", n.addr, err)
			}
		}
	})

	var leader *clusterNode
	waitUntil(t, "a leader", func() bool { leader = leaderAmong(nodes); return leader != nil })
	applyRange(t, leader, 0, 200)
	for _, n := range nodes {
		waitCount(t, n, 200)
	}
	if net.calls[wire.KindAppendEntries].Load() == 0 || net.calls[wire.KindRequestVote].Load() == 0 {
		t.Fatalf("no AppendEntries or RequestVote went over the transport")
	}

	// Cut the leader off: every call from or to it fails.
	old := leader
	net.setDrop(func(from, to common.Address, _ wire.Kind) bool { return from == old.addr || to == old.addr })
	// A command the isolated leader accepts can never commit.
	stale := old.raft.Apply(cmd(1_000_000), 2*time.Second)

	rest := make([]*clusterNode, 0, 2)
	for _, n := range nodes {
		if n != old {
			rest = append(rest, n)
		}
	}
	waitUntil(t, "a new leader", func() bool { leader = leaderAmong(rest); return leader != nil })
	waitUntil(t, "the old leader to step down", func() bool { return old.raft.State() != hraft.Leader })
	if err := stale.Error(); err == nil {
		t.Fatal("a command applied on an isolated leader committed")
	}
	applyRange(t, leader, 200, 300)
	for _, n := range rest {
		waitCount(t, n, 300)
	}
	if got, _ := old.fsm.state(); got != 200 {
		t.Fatalf("isolated node applied %d commands, want 200", got)
	}
	// Compact the new leader's log so the old one needs the snapshot.
	if err := leader.raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}

	// Reconnect: the old leader catches up and the cluster goes on.
	net.setDrop(nil)
	waitCount(t, old, 300)
	if net.calls[wire.KindInstallSnapshot].Load() == 0 {
		t.Fatal("the old leader caught up without InstallSnapshot over the transport")
	}
	waitUntil(t, "a leader", func() bool { leader = leaderAmong(nodes); return leader != nil })
	applyRange(t, leader, 300, 320)
	for _, n := range nodes {
		waitCount(t, n, 320)
	}
	want := nodes[0].fsm.values()
	for _, n := range nodes[1:] {
		if got := n.fsm.values(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s applied %v, %s applied %v", n.addr, got, nodes[0].addr, want)
		}
	}
}

// rpcHeader is the header a server named by a puts on its requests.
func rpcHeader(a common.Address) hraft.RPCHeader {
	id := craft.ServerID(a)
	return hraft.RPCHeader{ProtocolVersion: hraft.ProtocolVersionMax, ID: []byte(id), Addr: []byte(id)}
}

func heartbeatReq(from common.Address) *hraft.AppendEntriesRequest {
	// As hashicorp's replication sends it, with the legacy Leader field.
	//lint:ignore SA1019 hashicorp still sets it
	return &hraft.AppendEntriesRequest{RPCHeader: rpcHeader(from), Term: 7, Leader: []byte(craft.ServerID(from))}
}

func mustEncodeRequest(t testing.TB, req any, snap []byte) []byte {
	t.Helper()
	b, err := wire.EncodeRequest(req, snap)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// serve answers every RPC on t's consumer with resp until stop closes,
// sending each to got.
func serve(tr *Transport, got chan<- hraft.RPC, stop <-chan struct{}) {
	for {
		select {
		case rpc := <-tr.Consumer():
			if got != nil {
				got <- rpc
			}
			var resp any
			switch rpc.Command.(type) {
			case *hraft.AppendEntriesRequest:
				resp = &hraft.AppendEntriesResponse{Term: 7, LastLog: 3, Success: true}
			case *hraft.RequestVoteRequest:
				resp = &hraft.RequestVoteResponse{Term: 7, Granted: true}
			case *hraft.RequestPreVoteRequest:
				resp = &hraft.RequestPreVoteResponse{Term: 7, Granted: true}
			case *hraft.InstallSnapshotRequest:
				if rpc.Reader != nil {
					_, _ = io.Copy(io.Discard, rpc.Reader)
				}
				resp = &hraft.InstallSnapshotResponse{Term: 7, Success: true}
			case *hraft.TimeoutNowRequest:
				resp = &hraft.TimeoutNowResponse{}
			}
			rpc.Respond(resp, nil)
		case <-stop:
			return
		}
	}
}

// An RPC whose header names a server other than the authenticated
// sender is refused before it reaches Raft.
func TestTransportRefusesSpoofedRPC(t *testing.T) {
	net := newMemNet()
	a, b, c := testAddr(0), testAddr(1), testAddr(2)
	ta, tb := net.join(a, time.Second), net.join(b, time.Second)
	_ = net.join(c, time.Second)
	got := make(chan hraft.RPC, 256) // room for every request, should they get through
	stop := make(chan struct{})
	defer close(stop)
	go serve(tb, got, stop)

	ctx := context.Background()
	idOf := func(x common.Address) []byte { return []byte(craft.ServerID(x)) }
	cases := map[string]hraft.RPCHeader{
		"other id and addr": {ProtocolVersion: 3, ID: idOf(c), Addr: idOf(c)},
		"other id":          {ProtocolVersion: 3, ID: idOf(c), Addr: idOf(a)},
		"other addr":        {ProtocolVersion: 3, ID: idOf(a), Addr: idOf(c)},
		"no id":             {ProtocolVersion: 3, Addr: idOf(a)},
		"no header":         {ProtocolVersion: 3},
		"the target's own":  {ProtocolVersion: 3, ID: idOf(b), Addr: idOf(b)},
		"not an address":    {ProtocolVersion: 3, ID: []byte("node-a"), Addr: []byte("node-a")},
	}
	for name, hdr := range cases {
		reqs := []any{
			&hraft.AppendEntriesRequest{RPCHeader: hdr, Term: 1, Entries: []*hraft.Log{{Index: 1, Term: 1, Data: []byte("x")}}},
			&hraft.AppendEntriesRequest{RPCHeader: hdr, Term: 1}, // a heartbeat
			&hraft.RequestVoteRequest{RPCHeader: hdr, Term: 1},
			&hraft.RequestPreVoteRequest{RPCHeader: hdr, Term: 1},
			&hraft.TimeoutNowRequest{RPCHeader: hdr},
			&hraft.InstallSnapshotRequest{RPCHeader: hdr, Term: 1, Size: 3},
		}
		for _, req := range reqs {
			var snap []byte
			if _, ok := req.(*hraft.InstallSnapshotRequest); ok {
				snap = []byte("abc")
			}
			payload := mustEncodeRequest(t, req, snap)
			// Through the network, which authenticates the sender as a.
			if _, err := ta.net.Call(ctx, b, payload); !errors.Is(err, ErrSpoofedRPC) {
				t.Errorf("%s %T: got %v, want ErrSpoofedRPC", name, req, err)
			}
			// And served directly.
			if _, err := tb.Handle(ctx, a, payload); !errors.Is(err, ErrSpoofedRPC) {
				t.Errorf("%s %T (Handle): got %v, want ErrSpoofedRPC", name, req, err)
			}
		}
	}
	select {
	case rpc := <-got:
		t.Fatalf("a spoofed %T reached raft", rpc.Command)
	default:
	}

	// The honest header, in any letter case, passes.
	for _, id := range []string{string(craft.ServerID(a)), a.Hex(), strings.ToUpper(string(craft.ServerID(a)))} {
		req := &hraft.RequestVoteRequest{RPCHeader: hraft.RPCHeader{ProtocolVersion: 3, ID: []byte(id), Addr: []byte(id)}, Term: 1}
		out, err := ta.net.Call(ctx, b, mustEncodeRequest(t, req, nil))
		if err != nil {
			t.Fatalf("header %q: %v", id, err)
		}
		resp, err := wire.DecodeResponse(wire.KindRequestVote, out)
		if err != nil || !resp.(*hraft.RequestVoteResponse).Granted {
			t.Fatalf("header %q: answer %v, %v", id, resp, err)
		}
		<-got
	}
}

// Every RPC kind goes through Transport, the network and Handle to Raft
// and back.
func TestTransportRoundTrip(t *testing.T) {
	net := newMemNet()
	a, b := testAddr(0), testAddr(1)
	ta, tb := net.join(a, time.Second), net.join(b, time.Second)
	got := make(chan hraft.RPC, 16)
	stop := make(chan struct{})
	defer close(stop)
	go serve(tb, got, stop)
	target := tb.LocalAddr()
	if target != hraft.ServerAddress(craft.ServerID(b)) {
		t.Fatalf("LocalAddr %q", target)
	}
	if _, err := ta.AppendEntriesPipeline(craft.ServerID(b), target); !errors.Is(err, hraft.ErrPipelineReplicationNotSupported) {
		t.Fatalf("pipeline: %v", err)
	}

	ae := &hraft.AppendEntriesRequest{RPCHeader: rpcHeader(a), Term: 7, PrevLogEntry: 2, PrevLogTerm: 6, LeaderCommitIndex: 2,
		Entries: []*hraft.Log{{Index: 3, Term: 7, Type: hraft.LogCommand, Data: []byte("block")}}}
	var aer hraft.AppendEntriesResponse
	if err := ta.AppendEntries(craft.ServerID(b), target, ae, &aer); err != nil || !aer.Success || aer.LastLog != 3 {
		t.Fatalf("AppendEntries: %+v, %v", aer, err)
	}
	if rpc := <-got; string(rpc.Command.(*hraft.AppendEntriesRequest).Entries[0].Data) != "block" {
		t.Fatalf("AppendEntries delivered %+v", rpc.Command)
	}
	var rvr hraft.RequestVoteResponse
	if err := ta.RequestVote(craft.ServerID(b), target, &hraft.RequestVoteRequest{RPCHeader: rpcHeader(a), Term: 7}, &rvr); err != nil || !rvr.Granted {
		t.Fatalf("RequestVote: %+v, %v", rvr, err)
	}
	<-got
	var pvr hraft.RequestPreVoteResponse
	if err := ta.RequestPreVote(craft.ServerID(b), target, &hraft.RequestPreVoteRequest{RPCHeader: rpcHeader(a), Term: 7}, &pvr); err != nil || !pvr.Granted {
		t.Fatalf("RequestPreVote: %+v, %v", pvr, err)
	}
	<-got
	var tnr hraft.TimeoutNowResponse
	if err := ta.TimeoutNow(craft.ServerID(b), target, &hraft.TimeoutNowRequest{RPCHeader: rpcHeader(a)}, &tnr); err != nil {
		t.Fatalf("TimeoutNow: %v", err)
	}
	<-got

	// A snapshot within the bound arrives with its bytes.
	snap := craft.Marker{ChainID: "c", Height: 9, Hash: common.Hash{1}}.Encode()
	isr := &hraft.InstallSnapshotRequest{RPCHeader: rpcHeader(a), Term: 7, LastLogIndex: 9, LastLogTerm: 7, Size: int64(len(snap))}
	var isResp hraft.InstallSnapshotResponse
	done := make(chan error, 1)
	go func() { done <- ta.InstallSnapshot(craft.ServerID(b), target, isr, &isResp, bytes.NewReader(snap)) }()
	if rpc := <-got; rpc.Command.(*hraft.InstallSnapshotRequest).LastLogIndex != 9 {
		t.Fatalf("InstallSnapshot delivered %+v", rpc.Command)
	}
	if err := <-done; err != nil || !isResp.Success {
		t.Fatalf("InstallSnapshot: %+v, %v", isResp, err)
	}

	// Targets that are not validator addresses are refused locally.
	if err := ta.RequestVote("x", "not-an-address", &hraft.RequestVoteRequest{RPCHeader: rpcHeader(a)}, &rvr); err == nil {
		t.Fatal("RequestVote to a non-address target succeeded")
	}
	if got := ta.DecodePeer(ta.EncodePeer(craft.ServerID(b), target)); got != target {
		t.Fatalf("peer round trip %q", got)
	}
}

// The snapshot bytes Handle hands Raft are the ones sent.
func TestTransportInstallSnapshotCarriesBytes(t *testing.T) {
	net := newMemNet()
	a, b := testAddr(0), testAddr(1)
	ta, tb := net.join(a, time.Second), net.join(b, time.Second)
	snap := craft.Marker{ChainID: "chain", Height: 42, Hash: common.Hash{0xee}}.Encode()
	errc := make(chan error, 1)
	go func() {
		rpc := <-tb.Consumer()
		m, err := craft.ReadMarker(rpc.Reader)
		if err == nil && (m.Height != 42 || m.ChainID != "chain") {
			err = fmt.Errorf("marker %+v", m)
		}
		errc <- err
		rpc.Respond(&hraft.InstallSnapshotResponse{Term: 1, Success: true}, nil)
	}()
	var resp hraft.InstallSnapshotResponse
	req := &hraft.InstallSnapshotRequest{RPCHeader: rpcHeader(a), Term: 1, Size: int64(len(snap))}
	if err := ta.InstallSnapshot(craft.ServerID(b), tb.LocalAddr(), req, &resp, bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// A snapshot over craft.MaxSnapshotBytes (or of a negative or unmet size) is
// refused without a call.
func TestTransportInstallSnapshotBounded(t *testing.T) {
	net := newMemNet()
	a, b := testAddr(0), testAddr(1)
	ta, tb := net.join(a, time.Second), net.join(b, time.Second)
	var called atomic.Int64
	net.setDrop(func(_, _ common.Address, _ wire.Kind) bool { called.Add(1); return true })

	big := make([]byte, craft.MaxSnapshotBytes+1)
	for _, tc := range []struct {
		name string
		size int64
		data []byte
	}{
		{"one byte over", craft.MaxSnapshotBytes + 1, big},
		{"huge", 1 << 40, big},
		{"negative", -1, nil},
		{"short stream", 100, make([]byte, 99)},
	} {
		req := &hraft.InstallSnapshotRequest{RPCHeader: rpcHeader(a), Term: 1, Size: tc.size}
		var resp hraft.InstallSnapshotResponse
		if err := ta.InstallSnapshot(craft.ServerID(b), tb.LocalAddr(), req, &resp, bytes.NewReader(tc.data)); err == nil {
			t.Errorf("%s: snapshot accepted", tc.name)
		}
	}
	if n := called.Load(); n != 0 {
		t.Fatalf("%d calls made for refused snapshots", n)
	}
	// Exactly the bound is sent.
	req := &hraft.InstallSnapshotRequest{RPCHeader: rpcHeader(a), Term: 1, Size: craft.MaxSnapshotBytes}
	var resp hraft.InstallSnapshotResponse
	if err := ta.InstallSnapshot(craft.ServerID(b), tb.LocalAddr(), req, &resp, bytes.NewReader(big)); !errors.Is(err, errDropped) {
		t.Fatalf("snapshot of craft.MaxSnapshotBytes: %v, want the network's answer", err)
	}
}

// A heartbeat goes to the heartbeat handler, never to the consumer; an
// AppendEntries that carries anything goes to the consumer.
func TestTransportHeartbeatRouting(t *testing.T) {
	net := newMemNet()
	a, b := testAddr(0), testAddr(1)
	ta, tb := net.join(a, time.Second), net.join(b, time.Second)

	var beats atomic.Int64
	tb.SetHeartbeatHandler(func(rpc hraft.RPC) {
		req, ok := rpc.Command.(*hraft.AppendEntriesRequest)
		if !ok || !isHeartbeat(req) {
			t.Errorf("heartbeat handler got %#v", rpc.Command)
		}
		beats.Add(1)
		rpc.Respond(&hraft.AppendEntriesResponse{Term: req.Term, Success: true, LastLog: 99}, nil)
	})
	consumed := make(chan hraft.RPC, 16)
	stop := make(chan struct{})
	defer close(stop)
	go serve(tb, consumed, stop)

	var resp hraft.AppendEntriesResponse
	if err := ta.AppendEntries(craft.ServerID(b), tb.LocalAddr(), heartbeatReq(a), &resp); err != nil {
		t.Fatal(err)
	}
	if beats.Load() != 1 || resp.LastLog != 99 || !resp.Success {
		t.Fatalf("heartbeat: %d beats, answer %+v", beats.Load(), resp)
	}
	// Not heartbeats: each carries something besides the term.
	notBeats := []*hraft.AppendEntriesRequest{
		{RPCHeader: rpcHeader(a), Term: 7, Entries: []*hraft.Log{{Index: 1, Term: 7}}},
		{RPCHeader: rpcHeader(a), Term: 7, PrevLogEntry: 1},
		{RPCHeader: rpcHeader(a), Term: 7, PrevLogTerm: 1},
		{RPCHeader: rpcHeader(a), Term: 7, LeaderCommitIndex: 1},
		{RPCHeader: rpcHeader(a), Term: 0},
	}
	for i, req := range notBeats {
		if err := ta.AppendEntries(craft.ServerID(b), tb.LocalAddr(), req, &resp); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		select {
		case <-consumed:
		case <-time.After(time.Second):
			t.Fatalf("request %d did not reach the consumer", i)
		}
	}
	if beats.Load() != 1 {
		t.Fatalf("%d heartbeats, want 1", beats.Load())
	}
	select {
	case rpc := <-consumed:
		t.Fatalf("the consumer got %#v", rpc.Command)
	default:
	}

	// Without a heartbeat handler a heartbeat goes to the consumer.
	tb.SetHeartbeatHandler(nil)
	if err := ta.AppendEntries(craft.ServerID(b), tb.LocalAddr(), heartbeatReq(a), &resp); err != nil {
		t.Fatal(err)
	}
	select {
	case <-consumed:
	case <-time.After(time.Second):
		t.Fatal("a heartbeat without a handler did not reach the consumer")
	}
	if beats.Load() != 1 {
		t.Fatalf("%d heartbeats, want 1", beats.Load())
	}
}

// An error Raft answers with comes back as the call's error.
func TestTransportRemoteError(t *testing.T) {
	net := newMemNet()
	a, b := testAddr(0), testAddr(1)
	ta, tb := net.join(a, time.Second), net.join(b, time.Second)
	go func() {
		rpc := <-tb.Consumer()
		rpc.Respond(nil, errors.New("remote says no"))
	}()
	var resp hraft.RequestVoteResponse
	err := ta.RequestVote(craft.ServerID(b), tb.LocalAddr(), &hraft.RequestVoteRequest{RPCHeader: rpcHeader(a), Term: 1}, &resp)
	if err == nil || !strings.Contains(err.Error(), "remote says no") {
		t.Fatalf("got %v", err)
	}
}

// An RPC is bounded by the transport's timeout.
func TestTransportTimeout(t *testing.T) {
	net := newMemNet()
	a, b := testAddr(0), testAddr(1)
	ta, tb := net.join(a, 50*time.Millisecond), net.join(b, time.Second)
	_ = tb // nobody reads tb's consumer
	start := time.Now()
	var resp hraft.RequestVoteResponse
	err := ta.RequestVote(craft.ServerID(b), tb.LocalAddr(), &hraft.RequestVoteRequest{RPCHeader: rpcHeader(a), Term: 1}, &resp)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("call took %v", d)
	}
}

// After Close calls fail with ErrTransportClosed, and Handles blocked on
// Raft (to take the request, or to answer it) and calls in flight return.
func TestTransportClose(t *testing.T) {
	net := newMemNet()
	a, b, c := testAddr(0), testAddr(1), testAddr(2)
	ta, tb, tc := net.join(a, 10*time.Second), net.join(b, 10*time.Second), net.join(c, 10*time.Second)
	ctx := context.Background()

	// b: one Handle waits for the consumer (nobody reads it yet) ...
	waiting := make(chan error, 1)
	go func() {
		_, err := tb.Handle(ctx, a, mustEncodeRequest(t, &hraft.RequestVoteRequest{RPCHeader: rpcHeader(a), Term: 1}, nil))
		waiting <- err
	}()
	// ... and one waits for Raft's answer to a request it took.
	answering := make(chan error, 1)
	go func() {
		_, err := tb.Handle(ctx, c, mustEncodeRequest(t, &hraft.RequestVoteRequest{RPCHeader: rpcHeader(c), Term: 1}, nil))
		answering <- err
	}()
	select {
	case <-tb.Consumer(): // taken, never answered
	case <-time.After(5 * time.Second):
		t.Fatal("no request reached the consumer")
	}
	// Whichever Handle's request was taken waits for the answer; the
	// other still waits for the consumer.
	time.Sleep(20 * time.Millisecond)
	if err := tb.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tb.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	for _, ch := range []chan error{waiting, answering} {
		select {
		case err := <-ch:
			if !errors.Is(err, ErrTransportClosed) {
				t.Fatalf("blocked Handle returned %v, want ErrTransportClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a Handle blocked on Raft did not return after Close")
		}
	}
	// Calls from b, and Handles on b, fail.
	var rvr hraft.RequestVoteResponse
	if err := tb.RequestVote(craft.ServerID(a), ta.LocalAddr(), &hraft.RequestVoteRequest{RPCHeader: rpcHeader(b)}, &rvr); !errors.Is(err, ErrTransportClosed) {
		t.Fatalf("RequestVote after Close: %v", err)
	}
	var aer hraft.AppendEntriesResponse
	if err := tb.AppendEntries(craft.ServerID(a), ta.LocalAddr(), heartbeatReq(b), &aer); !errors.Is(err, ErrTransportClosed) {
		t.Fatalf("AppendEntries after Close: %v", err)
	}
	var isr hraft.InstallSnapshotResponse
	if err := tb.InstallSnapshot(craft.ServerID(a), ta.LocalAddr(), &hraft.InstallSnapshotRequest{RPCHeader: rpcHeader(b), Size: 1}, &isr, bytes.NewReader([]byte{1})); !errors.Is(err, ErrTransportClosed) {
		t.Fatalf("InstallSnapshot after Close: %v", err)
	}
	if _, err := tb.Handle(ctx, a, mustEncodeRequest(t, &hraft.RequestVoteRequest{RPCHeader: rpcHeader(a), Term: 1}, nil)); !errors.Is(err, ErrTransportClosed) {
		t.Fatalf("Handle after Close: %v", err)
	}
	// A call to b (from a) fails too.
	if err := ta.RequestVote(craft.ServerID(b), tb.LocalAddr(), &hraft.RequestVoteRequest{RPCHeader: rpcHeader(a)}, &rvr); !errors.Is(err, ErrTransportClosed) {
		t.Fatalf("RequestVote to a closed transport: %v", err)
	}

	// Closing a transport ends its calls in flight.
	net.setDelay(func(from, _ common.Address, _ wire.Kind) time.Duration {
		if from == c {
			return time.Hour
		}
		return 0
	})
	inflight := make(chan error, 1)
	go func() {
		inflight <- tc.RequestVote(craft.ServerID(a), ta.LocalAddr(), &hraft.RequestVoteRequest{RPCHeader: rpcHeader(c)}, &hraft.RequestVoteResponse{})
	}()
	time.Sleep(20 * time.Millisecond)
	_ = tc.Close()
	select {
	case err := <-inflight:
		if err == nil {
			t.Fatal("an interrupted call succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a call in flight did not end when its transport closed")
	}
}

func logOfSize(n int) *hraft.Log { return &hraft.Log{Data: make([]byte, n)} }

func entryCost(e *hraft.Log) int { return len(e.Data) + len(e.Extensions) + 64 }

// fitEntries returns the longest prefix within budget, and at least one entry.
func TestFitEntriesProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	if got := fitEntries(nil, 100); len(got) != 0 {
		t.Fatalf("fitEntries(nil) = %d entries", len(got))
	}
	for iter := range 20000 {
		n := rng.IntN(12)
		entries := make([]*hraft.Log, n)
		for i := range entries {
			entries[i] = &hraft.Log{Data: make([]byte, rng.IntN(400)), Extensions: make([]byte, rng.IntN(3)*rng.IntN(50))}
		}
		budget := rng.IntN(3000) - 10
		got := fitEntries(entries, budget)
		if n > 0 && len(got) == 0 {
			t.Fatalf("iter %d: no entry of %d kept", iter, n)
		}
		if len(got) > n {
			t.Fatalf("iter %d: %d entries out of %d", iter, len(got), n)
		}
		for i := range got {
			if got[i] != entries[i] {
				t.Fatalf("iter %d: entry %d is not the input's", iter, i)
			}
		}
		size := 0
		for _, e := range got {
			size += entryCost(e)
		}
		if len(got) > 1 && size > budget {
			t.Fatalf("iter %d: %d entries of %d bytes over budget %d", iter, len(got), size, budget)
		}
		if len(got) < n && size+entryCost(entries[len(got)]) <= budget {
			t.Fatalf("iter %d: stopped at %d of %d though the next fits (%d + %d <= %d)", iter, len(got), n, size, entryCost(entries[len(got)]), budget)
		}
	}
	// The first entry alone is kept however large.
	if got := fitEntries([]*hraft.Log{logOfSize(1000), logOfSize(1)}, 10); len(got) != 1 {
		t.Fatalf("kept %d entries", len(got))
	}
}

// AppendEntries cuts a batch over MaxAppendBytes to a prefix that fits,
// and Raft sees the cut in the request it passed in.
func TestTransportAppendEntriesTrimmed(t *testing.T) {
	net := newMemNet()
	a, b := testAddr(0), testAddr(1)
	ta, tb := net.join(a, 10*time.Second), net.join(b, 10*time.Second)
	got := make(chan hraft.RPC, 1)
	stop := make(chan struct{})
	defer close(stop)
	go serve(tb, got, stop)

	third := MaxAppendBytes / 3
	req := &hraft.AppendEntriesRequest{RPCHeader: rpcHeader(a), Term: 1, Entries: []*hraft.Log{
		{Index: 1, Term: 1, Data: make([]byte, third)},
		{Index: 2, Term: 1, Data: make([]byte, third)},
		{Index: 3, Term: 1, Data: make([]byte, third)},
		{Index: 4, Term: 1, Data: []byte("x")},
	}}
	var resp hraft.AppendEntriesResponse
	if err := ta.AppendEntries(craft.ServerID(b), tb.LocalAddr(), req, &resp); err != nil {
		t.Fatal(err)
	}
	rpc := <-got
	sent := rpc.Command.(*hraft.AppendEntriesRequest)
	if len(sent.Entries) != 2 || len(req.Entries) != 2 || sent.Entries[1].Index != 2 {
		t.Fatalf("sent %d entries, request left with %d; want 2", len(sent.Entries), len(req.Entries))
	}
}

// Handle survives any payload: it refuses it or answers it, and never
// hands Raft an RPC whose header is not its sender's.
func FuzzTransportHandle(f *testing.F) {
	a := testAddr(0)
	for _, req := range []any{
		heartbeatReq(a),
		&hraft.AppendEntriesRequest{RPCHeader: rpcHeader(a), Term: 2, PrevLogEntry: 1, Entries: []*hraft.Log{{Index: 2, Term: 2, Data: []byte("b")}}},
		&hraft.RequestVoteRequest{RPCHeader: rpcHeader(a), Term: 3},
		&hraft.RequestPreVoteRequest{RPCHeader: rpcHeader(a), Term: 3},
		&hraft.TimeoutNowRequest{RPCHeader: rpcHeader(a)},
		&hraft.RequestVoteRequest{RPCHeader: rpcHeader(testAddr(5)), Term: 3},
	} {
		f.Add(mustEncodeRequest(f, req, nil))
	}
	f.Add(mustEncodeRequest(f, &hraft.InstallSnapshotRequest{RPCHeader: rpcHeader(a), Term: 1, Size: 2}, []byte("hi")))

	tb := NewTransport(testAddr(1), nil, time.Second)
	want := string(craft.ServerID(a))
	bad := make(chan string, 1)
	stop := make(chan struct{})
	f.Cleanup(func() { close(stop) })
	go func() {
		for {
			select {
			case rpc := <-tb.Consumer():
				hdr := rpc.Command.(hraft.WithRPCHeader).GetRPCHeader()
				if !strings.EqualFold(string(hdr.ID), want) || !strings.EqualFold(string(hdr.Addr), want) {
					select {
					case bad <- fmt.Sprintf("%q/%q", hdr.ID, hdr.Addr):
					default:
					}
				}
				var resp any
				switch rpc.Command.(type) {
				case *hraft.AppendEntriesRequest:
					resp = &hraft.AppendEntriesResponse{}
				case *hraft.RequestVoteRequest:
					resp = &hraft.RequestVoteResponse{}
				case *hraft.RequestPreVoteRequest:
					resp = &hraft.RequestPreVoteResponse{}
				case *hraft.InstallSnapshotRequest:
					resp = &hraft.InstallSnapshotResponse{}
				case *hraft.TimeoutNowRequest:
					resp = &hraft.TimeoutNowResponse{}
				}
				rpc.Respond(resp, nil)
			case <-stop:
				return
			}
		}
	}()
	f.Fuzz(func(t *testing.T, payload []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		out, err := tb.Handle(ctx, a, payload)
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatal("Handle hung")
		}
		if err == nil && len(out) == 0 {
			t.Fatal("empty answer")
		}
		select {
		case h := <-bad:
			t.Fatalf("Raft got an RPC from %s", h)
		default:
		}
	})
}
