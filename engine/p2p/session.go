package p2p

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/tallyhq/tally/engine/p2p/pb"
)

// stream is the Connect stream, from either end.
type stream interface {
	Send(*pb.Envelope) error
	Recv() (*pb.Envelope, error)
}

// session is one live connection to a peer: a reader that dispatches
// inbound envelopes and a writer that drains the peer's send queue.
type session struct {
	n        *Network
	peer     NodeID
	addr     string
	outbound bool
	since    time.Time
	stream   stream
	auth     credentials.AuthInfo
	hangup   func() // cuts the connection: unblocks Recv and Send
	serving  chan struct{}
	strikes  atomic.Int32

	once   sync.Once
	done   chan struct{}
	reason error // why it closed; set before done is closed
}

func (n *Network) newSession(id NodeID, addr string, outbound bool, st stream, auth credentials.AuthInfo, hangup func()) *session {
	return &session{n: n, peer: id, addr: addr, outbound: outbound, since: time.Now(), stream: st, auth: auth,
		hangup: hangup, serving: make(chan struct{}, n.cfg.MaxInflightRequests), done: make(chan struct{})}
}

func (s *session) dir() string {
	if s.outbound {
		return "out"
	}
	return "in"
}

// close ends the session once; the first reason sticks.
func (s *session) close(reason error) {
	s.once.Do(func() {
		s.reason = reason
		close(s.done)
		if s.hangup != nil {
			s.hangup()
		}
	})
}

func (s *session) closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// run serves a registered session until it closes.
func (n *Network) run(s *session) error {
	n.log.Info("peer connected", "peer", s.peer.Short(), "addr", s.addr, "dir", s.dir())
	written := make(chan struct{})
	go func() {
		defer close(written)
		s.writeLoop()
	}()
	s.readLoop()
	<-written
	n.unregister(s)
	level := slog.LevelInfo
	if isFault(s.reason) {
		level = slog.LevelWarn
	}
	n.log.Log(n.ctx, level, "peer disconnected", "peer", s.peer.Short(), "addr", s.addr, "dir", s.dir(), "reason", s.reason)
	return s.reason
}

func (s *session) readLoop() {
	for {
		env, err := s.stream.Recv()
		if err != nil {
			s.recvFailed(err)
			return
		}
		if s.closed() {
			return
		}
		s.n.stats.msgsRecv.Add(1)
		s.n.stats.bytesRecv.Add(uint64(len(env.Payload)))
		if err := s.n.receive(s, env); err != nil {
			s.n.punish(s, err)
		}
	}
}

// recvFailed closes the session after a failed Recv. gRPC refuses a frame
// above the size limit from its length prefix (ResourceExhausted) and
// reports an undecodable one as Internal: both are the peer's fault.
func (s *session) recvFailed(err error) {
	switch status.Code(err) {
	case codes.ResourceExhausted:
		s.n.punish(s, fmt.Errorf("%w: %v", ErrTooLarge, status.Convert(err).Message()))
	case codes.Internal:
		s.n.punish(s, fmt.Errorf("%w: %v", ErrMalformed, status.Convert(err).Message()))
	}
	if errors.Is(err, io.EOF) {
		err = errors.New("peer closed the stream")
	}
	s.close(fmt.Errorf("%w: %v", ErrDisconnected, err))
}

func (s *session) writeLoop() {
	q := s.n.queueFor(s.peer)
	defer q.signal() // hand any remaining items to the connection that replaces this one
	for {
		it, ok := q.pop()
		if !ok {
			select {
			case <-q.ready:
				continue
			case <-s.done:
				return
			}
		}
		if s.closed() {
			q.unpop(it)
			return
		}
		if !s.n.intercept(Outbound, s.peer, it.env, s.done) {
			continue
		}
		if err := s.stream.Send(it.env); err != nil {
			s.close(fmt.Errorf("%w: send: %v", ErrDisconnected, err))
			return
		}
		s.n.stats.msgsSent.Add(1)
		s.n.stats.bytesSent.Add(uint64(it.size))
	}
}

// isFault reports whether a close reason blames the peer.
func isFault(err error) bool {
	return errors.Is(err, ErrMalformed) || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrMisbehaving)
}

// punish handles an envelope the peer should not have sent: a protocol
// fault bans at once; an invalid message is a strike, and InvalidLimit
// strikes ban.
func (n *Network) punish(s *session, err error) {
	if isFault(err) {
		n.stats.malformed.Add(1)
		n.ban(s, err)
		return
	}
	n.log.Debug("invalid message", "peer", s.peer.Short(), "err", err)
	if k := int(s.strikes.Add(1)); k >= n.cfg.InvalidLimit {
		n.ban(s, fmt.Errorf("%w: %d invalid messages, the last: %v", ErrMisbehaving, k, err))
	}
}

// service is the gRPC server side of Connect.
type service struct {
	pb.UnimplementedPeerServer
	n *Network
}

// Connect accepts a peer that dialed this node. The handshake already
// admitted it; the check is repeated because a ban may have begun since.
func (v service) Connect(st pb.Peer_ConnectServer) error {
	n := v.n
	p, ok := peer.FromContext(st.Context())
	if !ok {
		return status.Error(codes.Internal, "no peer information")
	}
	id, err := n.admit(p.AuthInfo, NodeID{})
	if err != nil {
		return status.Error(codes.PermissionDenied, err.Error())
	}
	hangup := n.conns.hangup(p.Addr.String())
	if hangup == nil {
		return status.Error(codes.Internal, "connection not tracked")
	}
	s := n.newSession(id, p.Addr.String(), false, st, p.AuthInfo, hangup)
	if err := n.register(s); err != nil {
		return status.Error(codes.AlreadyExists, err.Error())
	}
	// The headers tell the dialer it was accepted.
	if err := st.SendHeader(metadata.MD{}); err != nil {
		s.close(fmt.Errorf("%w: %v", ErrDisconnected, err))
		n.unregister(s)
		return err
	}
	return status.Error(codes.Aborted, n.run(s).Error())
}
