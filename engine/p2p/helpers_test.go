package p2p_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tallyhq/tally/engine/p2p"
	"github.com/tallyhq/tally/engine/p2p/ca"
)

// waitLimit bounds every wait in these tests. Tests never assert timings:
// reaching it means the awaited event did not happen.
const waitLimit = 30 * time.Second

// eventually polls cond until it holds or waitLimit passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// newCA creates a CA in a temporary directory.
func newCA(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := ca.InitCA(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// issue writes a node directory for name, signed by the CA in caDir.
func issue(t testing.TB, caDir, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if _, err := ca.IssueNode(caDir, dir, name, nil); err != nil {
		t.Fatal(err)
	}
	return dir
}

// testConfig is DefaultConfig on a free loopback port, with fast redials
// and a fixed jitter seed.
func testConfig() p2p.Config {
	cfg := p2p.DefaultConfig()
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.DialBackoffMin = 20 * time.Millisecond
	cfg.DialBackoffMax = 300 * time.Millisecond
	cfg.JitterSeed = 1
	cfg.HandshakeTimeout = 5 * time.Second
	cfg.RequestTimeout = 5 * time.Second
	return cfg
}

// node is one started Network with its recorded log.
type node struct {
	name string
	dir  string
	net  *p2p.Network
	log  *logRecorder
	id   p2p.NodeID
}

// startNode starts a network for the node directory dir; mod adjusts the config.
func startNode(t testing.TB, name, dir string, mod func(*p2p.Config)) *node {
	t.Helper()
	creds, err := p2p.LoadTLS(dir)
	if err != nil {
		t.Fatal(err)
	}
	return startWith(t, name, creds, mod)
}

func startWith(t testing.TB, name string, creds p2p.Credentials, mod func(*p2p.Config)) *node {
	t.Helper()
	n := newNode(t, name, creds, mod)
	if err := n.net.Start(); err != nil {
		t.Fatal(err)
	}
	return n
}

// newNode builds but does not start a network, so chains can be joined first.
func newNode(t testing.TB, name string, creds p2p.Credentials, mod func(*p2p.Config)) *node {
	t.Helper()
	cfg := testConfig()
	if mod != nil {
		mod(&cfg)
	}
	rec := newLogRecorder(t, name)
	nw, err := p2p.New(cfg, creds, slog.New(rec))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nw.Stop(); rec.detach() })
	return &node{name: name, net: nw, log: rec, id: creds.Self()}
}

// connect makes a dial b and waits until both see the connection.
func connect(t testing.TB, a, b *node) {
	t.Helper()
	if err := a.net.AddPeer(b.net.Addr()); err != nil {
		t.Fatal(err)
	}
	waitConnected(t, a, b)
}

func waitConnected(t testing.TB, a, b *node) {
	t.Helper()
	eventually(t, a.name+" and "+b.name+" connected", func() bool {
		return isConnected(a, b.id) && isConnected(b, a.id)
	})
}

func isConnected(n *node, id p2p.NodeID) bool {
	for _, p := range n.net.Connected() {
		if p.ID == id {
			return true
		}
	}
	return false
}

// msg is one delivered message.
type msg struct {
	chain   string
	from    p2p.NodeID
	kind    uint32
	payload string
}

// inbox collects what a chain handler receives.
type inbox struct {
	chain string
	mu    sync.Mutex
	got   []msg
}

func (b *inbox) handler(from p2p.NodeID, kind uint32, payload []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.got = append(b.got, msg{chain: b.chain, from: from, kind: kind, payload: string(payload)})
	return nil
}

func (b *inbox) all() []msg {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]msg(nil), b.got...)
}

func (b *inbox) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.got)
}

func join(t testing.TB, n *node, chain string, members ...*node) (*p2p.ChainHandle, *inbox) {
	t.Helper()
	box := &inbox{chain: chain}
	ch, err := n.net.Join(chain, ids(members...), box.handler)
	if err != nil {
		t.Fatal(err)
	}
	return ch, box
}

func ids(ns ...*node) []p2p.NodeID {
	out := make([]p2p.NodeID, len(ns))
	for i, n := range ns {
		out[i] = n.id
	}
	return out
}

// logRecorder is an slog.Handler that keeps every record for assertions
// and echoes it to t.Log.
type logRecorder struct {
	name  string
	mu    sync.Mutex
	t     testing.TB // nil once the test is over
	recs  []logRec
	attrs []slog.Attr
	root  *logRecorder
}

type logRec struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func newLogRecorder(t testing.TB, name string) *logRecorder {
	r := &logRecorder{name: name, t: t}
	r.root = r
	return r
}

func (r *logRecorder) detach() {
	r.mu.Lock()
	r.t = nil
	r.mu.Unlock()
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	lr := logRec{level: rec.Level, msg: rec.Message, attrs: map[string]string{}}
	var sb strings.Builder
	add := func(a slog.Attr) bool {
		lr.attrs[a.Key] = a.Value.String()
		fmt.Fprintf(&sb, " %s=%q", a.Key, a.Value.String())
		return true
	}
	for _, a := range r.attrs {
		add(a)
	}
	rec.Attrs(add)
	root := r.root
	root.mu.Lock()
	defer root.mu.Unlock()
	root.recs = append(root.recs, lr)
	if root.t != nil && rec.Level >= slog.LevelInfo {
		root.t.Logf("[%s] %s %s%s", root.name, rec.Level, rec.Message, sb.String())
	}
	return nil
}

func (r *logRecorder) WithAttrs(as []slog.Attr) slog.Handler {
	return &logRecorder{name: r.name, root: r.root, attrs: append(append([]slog.Attr(nil), r.attrs...), as...)}
}

func (r *logRecorder) WithGroup(string) slog.Handler { return r }

// find returns the records with message msg whose attributes contain want
// (as substrings).
func (r *logRecorder) find(msg string, want map[string]string) []logRec {
	r.root.mu.Lock()
	defer r.root.mu.Unlock()
	var out []logRec
	for _, rec := range r.root.recs {
		if rec.msg == msg && matches(rec, want) {
			out = append(out, rec)
		}
	}
	return out
}

func matches(rec logRec, want map[string]string) bool {
	for k, v := range want {
		if !strings.Contains(rec.attrs[k], v) {
			return false
		}
	}
	return true
}

// waitLog waits for a record like find's.
func (r *logRecorder) waitLog(t testing.TB, msg string, want map[string]string) logRec {
	t.Helper()
	var got []logRec
	eventually(t, fmt.Sprintf("log %q %v on %s", msg, want, r.name), func() bool {
		got = r.find(msg, want)
		return len(got) > 0
	})
	return got[0]
}
