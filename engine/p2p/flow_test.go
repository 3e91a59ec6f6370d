package p2p_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tallyhq/tally/engine/p2p"
)

// A peer that restarts on the same address is redialed, and what was sent
// while it was down is delivered once it is back (up to the queue bound).
func TestReconnectAfterRestart(t *testing.T) {
	caDir := newCA(t)
	aDir, bDir := issue(t, caDir, "a"), issue(t, caDir, "b")
	a := newNode(t, "a", loadTLS(t, aDir), nil)
	b := newNode(t, "b", loadTLS(t, bDir), nil)
	chA, boxA := join(t, a, "c", a, b)
	_, boxB := join(t, b, "c", a, b)
	mustOK(t, a.net.Start())
	mustOK(t, b.net.Start())
	connect(t, a, b) // only a dials, so only a's redials can bring b back
	mustOK(t, chA.Send(b.id, 1, []byte("before")))
	eventually(t, "first message", func() bool { return boxB.count() == 1 })

	addr := b.net.Addr()
	b.net.Stop()
	eventually(t, "a sees b gone", func() bool { return !isConnected(a, b.id) })
	mustOK(t, chA.Send(b.id, 1, []byte("while down")))

	b2 := newNode(t, "b2", loadTLS(t, bDir), func(c *p2p.Config) { c.ListenAddr = addr })
	chB2, boxB2 := join(t, b2, "c", a, b)
	mustOK(t, b2.net.Start())
	waitConnected(t, a, b2)
	eventually(t, "message sent while b was down", func() bool { return boxB2.count() == 1 })
	if got := boxB2.all()[0].payload; got != "while down" {
		t.Fatalf("b2 got %q", got)
	}
	mustOK(t, chB2.Send(a.id, 2, []byte("back")))
	eventually(t, "reply from b2", func() bool { return boxA.count() == 1 })
	if a.log.find("peer connected", map[string]string{"peer": b.id.Short()}) == nil {
		t.Fatal("no reconnection logged")
	}
}

// A receiver that stops reading cannot make the sender block or grow
// without bound: the send queue stays within QueueLen and QueueBytes,
// drops its oldest, and once the receiver resumes every message not
// dropped is delivered, the newest among them.
func TestSlowReceiverBoundedQueue(t *testing.T) {
	const (
		total    = 8000
		size     = 32 << 10 // 8000 × 32 KiB = 250 MiB sent in all
		queueLen = 64
		queueMax = 1 << 20
	)
	caDir := newCA(t)
	small := func(c *p2p.Config) { c.MaxMsgBytes, c.QueueLen, c.QueueBytes = 64<<10, queueLen, queueMax }
	a := newNode(t, "a", loadTLS(t, issue(t, caDir, "a")), small)
	b := newNode(t, "b", loadTLS(t, issue(t, caDir, "b")), small)
	chA, _ := join(t, a, "c", a, b)
	release := make(chan struct{})
	var delivered atomic.Int64
	var last atomic.Int64
	_, err := b.net.Join("c", ids(a, b), func(_ p2p.NodeID, kind uint32, _ []byte) error {
		<-release
		delivered.Add(1)
		last.Store(int64(kind))
		return nil
	})
	mustOK(t, err)
	mustOK(t, a.net.Start())
	mustOK(t, b.net.Start())
	connect(t, a, b)

	base := heapAlloc()
	maxQueued := 0
	for i := range total {
		mustOK(t, chA.Send(b.id, uint32(i), make([]byte, size))) // fresh, as consensus would
		msgs, bytes, _ := a.net.Queued(b.id)
		if msgs > queueLen || bytes > queueMax {
			t.Fatalf("after %d sends the queue holds %d messages, %d bytes", i+1, msgs, bytes)
		}
		maxQueued = max(maxQueued, msgs)
	}
	grown := int64(heapAlloc()) - int64(base)
	t.Logf("sent %d MiB; queue peaked at %d messages; live heap grew %d MiB", total*size>>20, maxQueued, grown>>20)
	if grown > 100<<20 {
		t.Fatalf("live heap grew by %d MiB while sending %d MiB to a stalled peer", grown>>20, total*size>>20)
	}
	close(release)
	_, _, drops := a.net.Queued(b.id)
	if drops == 0 {
		t.Fatal("nothing dropped although the receiver was stalled")
	}
	eventually(t, "every message not dropped delivered", func() bool {
		_, _, drops = a.net.Queued(b.id)
		return delivered.Load()+int64(drops) == total
	})
	if last.Load() != total-1 {
		t.Fatalf("last delivered message %d, want the newest, %d", last.Load(), total-1)
	}
	if s := a.net.Stats(); s.QueueDrops != drops {
		t.Fatalf("Stats.QueueDrops = %d, queue says %d", s.QueueDrops, drops)
	}
}

func heapAlloc() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// Requests are answered by the peer's request handler, fail with the
// peer's error, time out, and fail fast when they cannot be sent.
func TestRequestResponse(t *testing.T) {
	caDir := newCA(t)
	a := newNode(t, "a", loadTLS(t, issue(t, caDir, "a")), nil)
	b := newNode(t, "b", loadTLS(t, issue(t, caDir, "b")), func(c *p2p.Config) {
		c.RequestTimeout, c.MaxInflightRequests, c.MaxMsgBytes = 2*time.Second, 1, 1<<20
	})
	c := newNode(t, "c", loadTLS(t, issue(t, caDir, "c")), nil)
	chA, _ := join(t, a, "sync", a, b, c)
	chB, _ := join(t, b, "sync", a, b, c)
	slowDone := make(chan struct{})
	chB.HandleRequests(func(ctx context.Context, from p2p.NodeID, kind uint32, req []byte) ([]byte, error) {
		switch kind {
		case 1:
			return append([]byte("block "), req...), nil
		case 2:
			return nil, errors.New("no such block")
		case 3: // slow: holds until its own deadline
			defer close(slowDone)
			<-ctx.Done()
			return []byte("too late"), nil
		case 4:
			return make([]byte, 2<<20), nil
		}
		return nil, fmt.Errorf("unknown kind %d", kind)
	})
	mustOK(t, a.net.Start())
	mustOK(t, b.net.Start())
	mustOK(t, c.net.Start())
	connect(t, a, b)
	bg := context.Background()

	got, err := chA.Request(bg, b.id, 1, []byte("7"))
	if err != nil || string(got) != "block 7" {
		t.Fatalf("request: %q, %v", got, err)
	}
	if _, err := chA.Request(bg, b.id, 2, nil); !errors.Is(err, p2p.ErrRemote) || !strings.Contains(err.Error(), "no such block") {
		t.Fatalf("failing request: %v, want ErrRemote with the peer's message", err)
	}
	if _, err := chA.Request(bg, b.id, 4, nil); !errors.Is(err, p2p.ErrRemote) || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("oversized response: %v, want ErrRemote saying it exceeds the limit", err)
	}
	ctx, cancel := context.WithTimeout(bg, 200*time.Millisecond)
	defer cancel()
	if _, err := chA.Request(ctx, b.id, 3, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow request: %v, want DeadlineExceeded", err)
	}
	// b serves one request at a time for a (MaxInflightRequests 1): while the
	// slow one runs, the next is answered "busy".
	if _, err := chA.Request(bg, b.id, 1, nil); !errors.Is(err, p2p.ErrRemote) || !strings.Contains(err.Error(), "busy") {
		t.Fatalf("request while one is in flight: %v, want busy", err)
	}
	<-slowDone // b's handler gave up at its own RequestTimeout and answered
	eventually(t, "late response counted", func() bool { return a.net.Stats().LateResponses == 1 })
	if _, err := chA.Request(bg, c.id, 1, nil); !errors.Is(err, p2p.ErrNotConnected) {
		t.Fatalf("request to an unconnected member: %v, want ErrNotConnected", err)
	}
	chA.SetMembers(ids(a, c))
	if _, err := chA.Request(bg, b.id, 1, nil); !errors.Is(err, p2p.ErrNotMember) {
		t.Fatalf("request to a non-member: %v, want ErrNotMember", err)
	}
}

// A request fails at once when its peer disconnects.
func TestRequestPeerGone(t *testing.T) {
	caDir := newCA(t)
	a := newNode(t, "a", loadTLS(t, issue(t, caDir, "a")), nil)
	b := newNode(t, "b", loadTLS(t, issue(t, caDir, "b")), nil)
	chA, _ := join(t, a, "sync", a, b)
	chB, _ := join(t, b, "sync", a, b)
	started := make(chan struct{})
	chB.HandleRequests(func(ctx context.Context, _ p2p.NodeID, _ uint32, _ []byte) ([]byte, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	})
	mustOK(t, a.net.Start())
	mustOK(t, b.net.Start())
	connect(t, a, b)
	go func() { <-started; b.net.Stop() }()
	_, err := chA.Request(context.Background(), b.id, 1, nil)
	if !errors.Is(err, p2p.ErrDisconnected) {
		t.Fatalf("request to a peer that stopped: %v, want ErrDisconnected", err)
	}
}

// An interceptor shared by three nodes partitions a from c; b still hears
// both. Healing the partition lets traffic through again.
func TestInterceptorPartition(t *testing.T) {
	caDir := newCA(t)
	ns := []*node{
		newNode(t, "a", loadTLS(t, issue(t, caDir, "a")), nil),
		newNode(t, "b", loadTLS(t, issue(t, caDir, "b")), nil),
		newNode(t, "c", loadTLS(t, issue(t, caDir, "c")), nil),
	}
	a, b, c := ns[0], ns[1], ns[2]
	chA, _ := join(t, a, "x", ns...)
	_, boxB := join(t, b, "x", ns...)
	_, boxC := join(t, c, "x", ns...)
	cut := func(p p2p.Packet) p2p.Verdict {
		split := (p.From == a.id) != (p.To == a.id) && (p.From == c.id || p.To == c.id)
		return p2p.Verdict{Drop: split, Delay: time.Millisecond}
	}
	for _, n := range ns {
		n.net.SetInterceptor(cut)
	}
	startMesh(t, ns)
	mustOK(t, chA.Broadcast(1, []byte("partitioned")))
	eventually(t, "b hears a", func() bool { return boxB.count() == 1 })
	eventually(t, "a's packet to c dropped", func() bool { return a.net.Stats().Intercepted == 1 })
	for _, n := range ns {
		n.net.SetInterceptor(nil)
	}
	mustOK(t, chA.Broadcast(1, []byte("healed")))
	eventually(t, "c hears a after healing", func() bool { return boxC.count() == 1 })
	if got := boxC.all()[0].payload; got != "healed" {
		t.Fatalf("c got %q across the partition", got)
	}
}
