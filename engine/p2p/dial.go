package p2p

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	grpcbackoff "google.golang.org/grpc/backoff"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/peer"

	"github.com/tallyhq/tally/engine/p2p/pb"
)

// dialer keeps one configured address connected.
type dialer struct {
	addr string
	want NodeID      // pinned id, or zero
	self atomic.Bool // the address is this node's own
	// last is the node last authenticated at this address, set by the
	// handshake, so the loop can wait out that node's other connection
	// even when this one was refused as a duplicate.
	last atomic.Pointer[NodeID]
}

func (d *dialer) lastPeer() NodeID {
	if p := d.last.Load(); p != nil {
		return *p
	}
	return NodeID{}
}

// dialLoop dials d until Stop, with exponential backoff and jitter between
// attempts. While another connection to the same node is live (it dialed
// us and won the duplicate rule) the loop waits for it to end instead.
func (n *Network) dialLoop(d *dialer) {
	attempt := 0
	for n.ctx.Err() == nil {
		connected, err := n.dialOnce(d)
		if connected {
			attempt = 0
		}
		if err != nil {
			n.logDialError(d, attempt, err)
		}
		if d.self.Load() {
			n.log.Info("not dialing this node's own address", "addr", d.addr)
			return
		}
		n.waitGone(d.lastPeer())
		if !n.sleep(n.backoff.next(attempt)) {
			return
		}
		attempt++
	}
}

// waitGone waits while a connection to id is live.
func (n *Network) waitGone(id NodeID) {
	for s := n.session(id); s != nil && !id.IsZero(); s = n.session(id) {
		select {
		case <-s.done:
		case <-n.ctx.Done():
			return
		}
	}
}

func (n *Network) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-n.ctx.Done():
		return false
	}
}

// logDialError reports a failed dial: the first after a working connection
// at Info, the retries at Debug, so that a peer that is down for hours does
// not flood the log. Admission refusals were already logged by the guard.
func (n *Network) logDialError(d *dialer, attempt int, err error) {
	level := slog.LevelDebug
	if attempt == 0 && !errors.Is(err, ErrDuplicate) { // a duplicate is the mesh settling, not a fault
		level = slog.LevelInfo
	}
	n.log.Log(n.ctx, level, "dial failed; will retry", "addr", d.addr, "attempt", attempt+1, "err", err)
}

// dialOnce connects to d.addr and serves the connection until it ends. It
// reports whether a session was established, or why not. Each attempt gets
// its own ClientConn, so gRPC's own reconnection never runs behind our back.
func (n *Network) dialOnce(d *dialer) (bool, error) {
	var raw rawConn
	cc, err := grpc.NewClient(d.addr, n.dialOptions(d, &raw)...)
	if err != nil {
		return false, err
	}
	defer cc.Close()
	ctx, cancel := context.WithCancel(n.ctx)
	defer cancel()
	s, err := n.open(ctx, cc, d, func() { cancel(); raw.close() })
	if err != nil {
		return false, err
	}
	if err := n.register(s); err != nil {
		return false, err
	}
	n.run(s)
	return true, nil
}

// open starts the Connect stream and waits, within HandshakeTimeout, for
// the server to accept it.
func (n *Network) open(ctx context.Context, cc *grpc.ClientConn, d *dialer, hangup func()) (*session, error) {
	timer := time.AfterFunc(n.cfg.HandshakeTimeout, hangup)
	st, err := pb.NewPeerClient(cc).Connect(ctx)
	if err == nil {
		_, err = st.Header()
	}
	if !timer.Stop() {
		return nil, fmt.Errorf("no answer within %v", n.cfg.HandshakeTimeout)
	}
	if err != nil {
		return nil, err
	}
	p, ok := peer.FromContext(st.Context())
	if !ok {
		return nil, fmt.Errorf("no peer information")
	}
	id, err := n.admit(p.AuthInfo, d.want)
	if err != nil {
		return nil, err
	}
	return n.newSession(id, d.addr, true, st, p.AuthInfo, hangup), nil
}

func (n *Network) dialOptions(d *dialer, raw *rawConn) []grpc.DialOption {
	frame := n.cfg.MaxMsgBytes + envelopeOverhead
	ka := n.cfg.KeepaliveInterval
	return []grpc.DialOption{
		grpc.WithTransportCredentials(&guard{TransportCredentials: n.creds.ClientCredentials(), n: n, d: d}),
		grpc.WithContextDialer(raw.dial),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(frame), grpc.MaxCallSendMsgSize(frame), grpc.ForceCodecV2(codec{})),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: ka, Timeout: ka, PermitWithoutStream: true}),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: grpcbackoff.DefaultConfig, MinConnectTimeout: n.cfg.HandshakeTimeout}),
	}
}

// rawConn remembers the TCP connection under a ClientConn, so a session
// can cut it at once: closing it unblocks a Send stuck on a peer that
// stopped reading, which cancelling the stream alone may not.
type rawConn struct {
	mu   sync.Mutex
	conn net.Conn
}

func (r *rawConn) dial(ctx context.Context, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err == nil {
		r.mu.Lock()
		r.conn = c
		r.mu.Unlock()
	}
	return c, err
}

func (r *rawConn) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conn != nil {
		r.conn.Close()
	}
}

// backoff computes redial waits: min·2^attempt capped at max, then drawn
// uniformly from [d/2, d]. The upper half keeps waits growing while the
// randomness spreads the redials of many nodes after a restart. The source
// is seeded (Config.JitterSeed) so that runs replay.
type backoff struct {
	min, max time.Duration
	mu       sync.Mutex
	rng      *rand.Rand
}

func newBackoff(lo, hi time.Duration, seed uint64) *backoff {
	if seed == 0 {
		var b [8]byte
		crand.Read(b[:])
		seed = binary.LittleEndian.Uint64(b[:])
	}
	return &backoff{min: lo, max: hi, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (b *backoff) next(attempt int) time.Duration {
	d := b.min
	for i := 0; i < attempt && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	b.mu.Lock()
	defer b.mu.Unlock()
	return d/2 + time.Duration(b.rng.Int64N(int64(d-d/2)+1))
}
