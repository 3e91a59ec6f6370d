package p2p

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"github.com/tallyhq/tally/engine/p2p/pb"
)

// Network is one node's connections to its peers, shared by every chain
// the node hosts.
type Network struct {
	cfg     Config
	creds   Credentials
	log     *slog.Logger
	self    NodeID
	stats   counters
	backoff *backoff
	ic      atomic.Pointer[Interceptor]
	conns   connTable
	reqs    requests

	mu       sync.RWMutex
	running  bool
	stopped  bool
	chains   map[string]*ChainHandle
	sessions map[NodeID]*session // at most one live connection per peer
	queues   map[NodeID]*queue   // send queues, kept across reconnections
	bans     map[NodeID]time.Time
	dialers  map[string]*dialer // by address

	ctx    context.Context // cancelled by Stop
	cancel context.CancelFunc
	wg     sync.WaitGroup
	lis    net.Listener
	srv    *grpc.Server
	once   sync.Once
}

// New builds a network for cfg with the given credentials. Nothing listens
// or dials until Start; chains may be joined before. log nil uses
// slog.Default.
func New(cfg Config, creds Credentials, log *slog.Logger) (*Network, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if creds == nil {
		return nil, fmt.Errorf("%w: credentials are required", ErrConfig)
	}
	if log == nil {
		log = slog.Default()
	}
	self := creds.Self()
	n := &Network{
		cfg: cfg, creds: creds, self: self, log: log.With("self", self.Short()),
		backoff: newBackoff(cfg.DialBackoffMin, cfg.DialBackoffMax, cfg.JitterSeed),
		chains:  make(map[string]*ChainHandle), sessions: make(map[NodeID]*session),
		queues: make(map[NodeID]*queue), bans: make(map[NodeID]time.Time), dialers: make(map[string]*dialer),
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.reqs.pending = make(map[NodeID]map[uint64]*call)
	return n, nil
}

// Self is this node's id.
func (n *Network) Self() NodeID { return n.self }

// Start listens on ListenAddr and dials every configured peer.
func (n *Network) Start() error {
	lis, err := net.Listen("tcp", n.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("p2p listen %s: %w", n.cfg.ListenAddr, err)
	}
	n.mu.Lock()
	if n.running || n.stopped {
		n.mu.Unlock()
		lis.Close()
		return fmt.Errorf("%w: Start called twice or after Stop", ErrClosed)
	}
	n.running, n.lis, n.srv = true, lis, grpc.NewServer(n.serverOptions()...)
	pb.RegisterPeerServer(n.srv, service{n: n})
	n.mu.Unlock()
	n.spawn(func() { n.srv.Serve(lis) })
	n.spawn(n.revalidateLoop)
	for _, p := range n.cfg.Peers {
		if err := n.AddPeer(p); err != nil {
			return err
		}
	}
	n.log.Info("p2p started", "addr", n.Addr(), "peers", len(n.cfg.Peers))
	return nil
}

func (n *Network) serverOptions() []grpc.ServerOption {
	frame := n.cfg.MaxMsgBytes + envelopeOverhead
	ka := n.cfg.KeepaliveInterval
	return []grpc.ServerOption{
		grpc.Creds(&guard{TransportCredentials: n.creds.ServerCredentials(), n: n}),
		grpc.MaxRecvMsgSize(frame),
		grpc.MaxSendMsgSize(frame),
		grpc.MaxConcurrentStreams(1), // one Connect stream per connection
		grpc.ConnectionTimeout(n.cfg.HandshakeTimeout),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: ka, Timeout: ka}),
		// Below the 10s floor gRPC clients ping at, so pings are never
		// mistaken for abuse.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
		grpc.WaitForHandlers(true),
		grpc.ForceServerCodecV2(codec{}),
	}
}

// Addr is the bound listen address ("" before Start).
func (n *Network) Addr() string {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.lis == nil {
		return ""
	}
	return n.lis.Addr().String()
}

// AddPeer dials peer ("host:port" or "id@host:port") from now on, and
// redials it whenever the connection is lost. Adding an address twice does
// nothing. Before Start it only records the peer.
func (n *Network) AddPeer(peer string) error {
	p, err := parsePeer(peer)
	if err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopped {
		return ErrClosed
	}
	if !n.running {
		n.cfg.Peers = append(n.cfg.Peers, peer)
		return nil
	}
	if n.dialers[p.addr] != nil {
		return nil
	}
	d := &dialer{addr: p.addr, want: p.id}
	n.dialers[p.addr] = d
	n.spawnLocked(func() { n.dialLoop(d) })
	return nil
}

// Stop closes every connection, fails pending requests and waits for the
// network's goroutines, including handlers still running, so no handler is
// called after Stop returns. Stop is idempotent.
func (n *Network) Stop() {
	n.once.Do(func() {
		n.mu.Lock()
		n.stopped = true
		srv, sessions := n.srv, n.sessionsLocked()
		n.mu.Unlock()
		n.cancel()
		for _, s := range sessions {
			s.close(ErrClosed)
		}
		if srv != nil {
			srv.Stop()
		}
		n.wg.Wait()
		n.log.Info("p2p stopped")
	})
}

// spawn runs f on a goroutine that Stop waits for, unless Stop has begun.
func (n *Network) spawn(f func()) bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.spawnLocked(f)
}

// spawnLocked is spawn with n.mu held (read or write): the stopped check
// and wg.Add happen under the lock Stop takes, so no Add races its Wait.
func (n *Network) spawnLocked(f func()) bool {
	if n.stopped {
		return false
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
	return true
}

func (n *Network) sessionsLocked() []*session {
	out := make([]*session, 0, len(n.sessions))
	for _, s := range n.sessions {
		out = append(out, s)
	}
	return out
}

// queueFor returns id's send queue, creating it.
func (n *Network) queueFor(id NodeID) *queue {
	n.mu.RLock()
	q := n.queues[id]
	n.mu.RUnlock()
	if q != nil {
		return q
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if q = n.queues[id]; q == nil {
		q = newQueue(n.cfg.QueueLen, n.cfg.QueueBytes)
		n.queues[id] = q
	}
	return q
}

// enqueue queues an envelope for id; it never blocks.
func (n *Network) enqueue(id NodeID, it item) {
	if dropped := n.queueFor(id).push(it); dropped > 0 {
		n.stats.queueDrops.Add(uint64(dropped))
		n.log.Debug("send queue full, dropped oldest", "peer", id.Short(), "dropped", dropped)
	}
}

// register installs s as the connection to its peer. Between two
// connections to one peer both ends keep the same one: the one dialed by
// the node with the lower id, or, if both were dialed the same way, the
// newer (the older is likely dead and not yet noticed).
func (n *Network) register(s *session) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopped {
		return ErrClosed
	}
	if until, ok := n.bans[s.peer]; ok && time.Now().Before(until) {
		return fmt.Errorf("%w: %s", ErrBanned, s.peer.Short())
	}
	old := n.sessions[s.peer]
	if old != nil && s.outbound != old.outbound && s.outbound != n.dialsFirst(s.peer) {
		return fmt.Errorf("%w: keeping the connection dialed by %s", ErrDuplicate, old.peer.Short())
	}
	n.sessions[s.peer] = s
	if old != nil {
		old.close(ErrDuplicate)
	}
	return nil
}

// dialsFirst reports whether this node's connection to peer is the one to keep.
func (n *Network) dialsFirst(peer NodeID) bool { return bytes.Compare(n.self[:], peer[:]) < 0 }

// unregister removes s, and fails requests to its peer if no other
// connection to it remains.
func (n *Network) unregister(s *session) {
	n.mu.Lock()
	gone := n.sessions[s.peer] == s
	if gone {
		delete(n.sessions, s.peer)
	}
	n.mu.Unlock()
	if gone {
		reason := s.reason
		if !errors.Is(reason, ErrDisconnected) {
			reason = fmt.Errorf("%w: %v", ErrDisconnected, reason)
		}
		n.reqs.failPeer(s.peer, reason)
	}
}

// session returns the live connection to id, or nil.
func (n *Network) session(id NodeID) *session {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.sessions[id]
}

func (n *Network) bannedUntil(id NodeID) time.Time {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if until, ok := n.bans[id]; ok && time.Now().Before(until) {
		return until
	}
	return time.Time{}
}

// ban refuses id for BanDuration and cuts its connection.
func (n *Network) ban(s *session, reason error) {
	until := time.Now().Add(n.cfg.BanDuration)
	n.mu.Lock()
	n.bans[s.peer] = until
	n.mu.Unlock()
	n.stats.banned.Add(1)
	n.log.Warn("peer banned", "peer", s.peer.Short(), "addr", s.addr, "until", until.Format(time.RFC3339), "reason", reason)
	s.close(reason)
}

// Revalidate checks every live connection against the credentials again
// (reloading them first if they are a Refresher) and disconnects peers
// whose certificates have expired or been revoked since their handshake.
// It returns how many it disconnected. It also runs every
// RevalidateInterval.
func (n *Network) Revalidate() int {
	if r, ok := n.creds.(Refresher); ok {
		if err := r.Refresh(); err != nil {
			n.log.Warn("reloading credentials failed; keeping the current ones", "err", err)
		}
	}
	n.mu.RLock()
	sessions := n.sessionsLocked()
	n.mu.RUnlock()
	cut := 0
	for _, s := range sessions {
		if _, err := n.creds.Verify(s.auth); err != nil {
			n.refused(s.addr, s.dir(), "revalidate", err)
			s.close(err)
			cut++
		}
	}
	return cut
}

func (n *Network) revalidateLoop() {
	t := time.NewTicker(n.cfg.RevalidateInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			n.Revalidate()
		case <-n.ctx.Done():
			return
		}
	}
}
