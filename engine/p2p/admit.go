package p2p

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc/credentials"

	"github.com/tallyhq/tally/engine/p2p/ca"
)

// guard wraps the injected transport credentials. After the handshake it
// applies the network's own admission (ban, self, pinned id) and logs every
// refusal with its reason; on the server side it also tracks the raw
// connection so that a session can be cut at the TCP level.
type guard struct {
	credentials.TransportCredentials
	n *Network
	d *dialer // nil on the server side
}

func (g *guard) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, ai, err := g.TransportCredentials.ServerHandshake(raw)
	if err == nil {
		if _, err = g.n.admit(ai, NodeID{}); err != nil {
			conn.Close()
		}
	}
	if err != nil {
		g.n.refused(raw.RemoteAddr().String(), "in", "handshake", err)
		return nil, nil, err
	}
	return g.n.conns.track(conn, raw), ai, nil
}

func (g *guard) ClientHandshake(ctx context.Context, authority string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, ai, err := g.TransportCredentials.ClientHandshake(ctx, authority, raw)
	if err == nil {
		var id NodeID
		if id, err = g.n.admit(ai, g.d.want); !id.IsZero() {
			g.d.last.Store(&id)
		}
		if err != nil {
			conn.Close()
		}
	}
	if err != nil {
		if errors.Is(err, ErrSelf) {
			g.d.self.Store(true)
		}
		g.n.refused(raw.RemoteAddr().String(), "out", "handshake", err)
		return nil, nil, err
	}
	return conn, ai, nil
}

func (g *guard) Clone() credentials.TransportCredentials {
	return &guard{TransportCredentials: g.TransportCredentials.Clone(), n: g.n, d: g.d}
}

// admit decides whether an authenticated peer may connect, and who it is.
func (n *Network) admit(ai credentials.AuthInfo, want NodeID) (NodeID, error) {
	id, err := n.creds.Verify(ai)
	switch {
	case err != nil:
		return id, err
	case id == n.self:
		return id, ErrSelf
	case !want.IsZero() && id != want:
		return id, fmt.Errorf("%w: want %s, got %s", ErrWrongPeer, want.Short(), id.Short())
	}
	if until := n.bannedUntil(id); !until.IsZero() {
		return id, fmt.Errorf("%w: %s until %s", ErrBanned, id.Short(), until.Format(time.RFC3339))
	}
	return id, nil
}

// refusalCause names why a peer was refused, for logs and tests.
func refusalCause(err error) string {
	causes := []struct {
		err   error
		cause string
	}{
		{ca.ErrUnknownAuthority, "unknown-authority"},
		{ca.ErrRevoked, "revoked"},
		{ca.ErrExpired, "expired"},
		{ca.ErrNoCertificate, "no-certificate"},
		{ca.ErrInvalidCertificate, "invalid-certificate"},
		{ErrBanned, "banned"},
		{ErrWrongPeer, "wrong-peer"},
		{ErrSelf, "self"},
	}
	for _, c := range causes {
		if errors.Is(err, c.err) {
			return c.cause
		}
	}
	return "handshake"
}

// refused logs a refused connection; stage is "handshake" or "revalidate".
// Admission failures are warnings; plain handshake failures (a peer hanging
// up, a port scanner) are not.
func (n *Network) refused(addr, dir, stage string, err error) {
	cause := refusalCause(err)
	level := slog.LevelWarn
	switch cause {
	case "handshake":
		level = slog.LevelInfo
	case "self":
		level = slog.LevelDebug
	default:
		n.stats.refused.Add(1)
	}
	n.log.Log(context.Background(), level, "peer refused", "addr", addr, "dir", dir, "stage", stage, "cause", cause, "reason", err)
}

// connTable maps a remote address to its raw connection, so that a server
// session can hang up: closing the TCP connection is the one thing that
// unblocks both a Recv and a Send stuck on a peer that stopped reading.
type connTable struct {
	mu sync.Mutex
	m  map[string]net.Conn
}

type trackedConn struct {
	net.Conn
	t    *connTable
	key  string
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.t.mu.Lock()
		delete(c.t.m, c.key)
		c.t.mu.Unlock()
	})
	return c.Conn.Close()
}

func (t *connTable) track(conn, raw net.Conn) net.Conn {
	key := raw.RemoteAddr().String()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = make(map[string]net.Conn)
	}
	t.m[key] = raw
	return &trackedConn{Conn: conn, t: t, key: key}
}

// hangup returns a function that closes the raw connection from addr, or nil.
func (t *connTable) hangup(addr string) func() {
	t.mu.Lock()
	defer t.mu.Unlock()
	raw := t.m[addr]
	if raw == nil {
		return nil
	}
	return func() { raw.Close() }
}
