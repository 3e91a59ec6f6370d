package raftstore

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/tallyhq/tally/engine/storage"
)

// countingFSM expects commands carrying 0, 1, 2, ... in that order.
type countingFSM struct {
	mu   sync.Mutex
	seen []uint64
	err  error
}

func (f *countingFSM) Apply(l *raft.Log) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(l.Data) != 8 {
		f.err = fmt.Errorf("log %d: %d-byte command", l.Index, len(l.Data))
		return nil
	}
	if v := binary.BigEndian.Uint64(l.Data); v != uint64(len(f.seen)) && f.err == nil {
		f.err = fmt.Errorf("log %d: command %d after %d commands", l.Index, v, len(f.seen))
	}
	f.seen = append(f.seen, binary.BigEndian.Uint64(l.Data))
	return len(f.seen)
}

func (f *countingFSM) state() (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.seen), f.err
}

type fsmSnapshot []uint64

func (s fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := json.NewEncoder(sink).Encode(s); err != nil {
		_ = sink.Cancel()
		return err
	}
	return sink.Close()
}

func (fsmSnapshot) Release() {}

func (f *countingFSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fsmSnapshot(append([]uint64(nil), f.seen...)), nil
}

func (f *countingFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var seen []uint64
	if err := json.NewDecoder(rc).Decode(&seen); err != nil {
		return err
	}
	f.mu.Lock()
	f.seen = seen
	f.mu.Unlock()
	return nil
}

type node struct {
	id    raft.ServerID
	addr  raft.ServerAddress
	trans *raft.InmemTransport
	dir   string
	db    storage.DB
	store *Store
	snaps raft.SnapshotStore
	fsm   *countingFSM
	raft  *raft.Raft
}

func (n *node) start(t *testing.T) {
	t.Helper()
	conf := raft.DefaultConfig()
	conf.LocalID = n.id
	conf.HeartbeatTimeout = 100 * time.Millisecond
	conf.ElectionTimeout = 100 * time.Millisecond
	conf.LeaderLeaseTimeout = 50 * time.Millisecond
	conf.CommitTimeout = 5 * time.Millisecond
	conf.LogOutput = io.Discard
	n.fsm = &countingFSM{}
	r, err := raft.NewRaft(conf, n.fsm, n.store, n.store, n.snaps, n.trans)
	if err != nil {
		t.Fatal(err)
	}
	n.raft = r
}

func (n *node) stop(t *testing.T) {
	t.Helper()
	if n.raft == nil {
		return
	}
	if err := n.raft.Shutdown().Error(); err != nil {
		t.Fatal(err)
	}
	n.raft = nil
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func command(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func leaderOf(nodes []*node) *node {
	for _, n := range nodes {
		if n.raft != nil && n.raft.State() == raft.Leader {
			return n
		}
	}
	return nil
}

// applyAll applies commands from..to-1 on whichever node leads.
func applyAll(t *testing.T, nodes []*node, from, to uint64) {
	t.Helper()
	var leader *node
	waitFor(t, "a leader", func() bool { leader = leaderOf(nodes); return leader != nil })
	futures := make([]raft.ApplyFuture, 0, to-from)
	for v := from; v < to; v++ {
		futures = append(futures, leader.raft.Apply(command(v), 10*time.Second))
	}
	for i, f := range futures {
		if err := f.Error(); err != nil {
			t.Fatalf("apply %d: %v", from+uint64(i), err)
		}
	}
}

func waitApplied(t *testing.T, n *node, want int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%s to apply %d commands", n.id, want), func() bool {
		got, err := n.fsm.state()
		if err != nil {
			t.Fatalf("%s: %v", n.id, err)
		}
		return got >= want
	})
	if got, _ := n.fsm.state(); got != want {
		t.Fatalf("%s applied %d commands, want %d", n.id, got, want)
	}
}

// A three-node raft cluster runs on badger-backed stores, and a node
// restarted on its own database recovers its log and catches up.
func TestRaftCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a raft cluster")
	}
	nodes := make([]*node, 3)
	for i := range nodes {
		n := &node{id: raft.ServerID(fmt.Sprintf("n%d", i)), dir: t.TempDir(), snaps: raft.NewInmemSnapshotStore()}
		n.addr, n.trans = raft.NewInmemTransport("")
		n.db = openBadger(t, n.dir)
		n.store = newStore(t, n.db)
		nodes[i] = n
	}
	// Cleanups run last-registered first: rafts stop before databases close.
	t.Cleanup(func() {
		for _, n := range nodes {
			_ = n.db.Close()
		}
	})
	t.Cleanup(func() {
		for _, n := range nodes {
			n.stop(t)
		}
	})
	for _, a := range nodes {
		for _, b := range nodes {
			if a != b {
				a.trans.Connect(b.addr, b.trans)
			}
		}
	}

	var cfg raft.Configuration
	for _, n := range nodes {
		cfg.Servers = append(cfg.Servers, raft.Server{Suffrage: raft.Voter, ID: n.id, Address: n.addr})
	}
	for _, n := range nodes {
		if ok, err := raft.HasExistingState(n.store, n.store, n.snaps); err != nil || ok {
			t.Fatalf("HasExistingState on a fresh store = %v, %v", ok, err)
		}
		n.start(t)
	}
	if err := nodes[0].raft.BootstrapCluster(cfg).Error(); err != nil {
		t.Fatal(err)
	}

	const first = 500
	applyAll(t, nodes, 0, first)
	for _, n := range nodes {
		waitApplied(t, n, first)
	}

	// Stop a follower; the other two go on without it.
	var down *node
	for _, n := range nodes {
		if n.raft.State() != raft.Leader {
			down = n
			break
		}
	}
	down.stop(t)
	lastBefore, _ := down.store.LastIndex()
	firstBefore, _ := down.store.FirstIndex()
	if lastBefore < first {
		t.Fatalf("%s stopped with LastIndex %d, below the %d commands it applied", down.id, lastBefore, first)
	}
	down.trans.DisconnectAll()
	for _, n := range nodes {
		if n != down {
			n.trans.Disconnect(down.addr)
		}
	}
	const second = 100
	applyAll(t, nodes, first, first+second)

	// Restart it on the same database.
	if err := down.db.Close(); err != nil {
		t.Fatal(err)
	}
	down.db = openBadger(t, down.dir)
	down.store = newStore(t, down.db)
	wantBounds(t, down.store, firstBefore, lastBefore)
	var last raft.Log
	if err := down.store.GetLog(lastBefore, &last); err != nil {
		t.Fatalf("GetLog(%d) after restart: %v", lastBefore, err)
	}
	if term, err := down.store.GetUint64([]byte("CurrentTerm")); err != nil || term == 0 {
		t.Fatalf("CurrentTerm after restart = %d, %v", term, err)
	}
	if ok, err := raft.HasExistingState(down.store, down.store, down.snaps); err != nil || !ok {
		t.Fatalf("HasExistingState after restart = %v, %v", ok, err)
	}
	for _, n := range nodes {
		if n != down {
			n.trans.Connect(down.addr, down.trans)
			down.trans.Connect(n.addr, n.trans)
		}
	}
	down.start(t)

	// It replays its own log and receives what it missed.
	for _, n := range nodes {
		waitApplied(t, n, first+second)
	}
	leader := leaderOf(nodes)
	if leader == nil {
		t.Fatal("no leader")
	}
	want, _ := leader.store.LastIndex()
	waitFor(t, "the restarted node's log to catch up", func() bool {
		got, _ := down.store.LastIndex()
		return got == want
	})
	for _, n := range nodes {
		n.stop(t)
		wantConsistent(t, &handle{db: n.db}, n.store)
	}
}
