package p2p

import (
	"fmt"
	"net"
	"strings"
	"time"
)

// Limits that are not configurable because the wire format depends on them.
const (
	// MaxChainIDBytes bounds an envelope's chain id (pbft uses the same bound).
	MaxChainIDBytes = 128
	// maxErrorBytes bounds a failed response's message.
	maxErrorBytes = 1024
	// envelopeOverhead is room for an envelope's fields other than the
	// payload: the chain id, the error and protobuf tags.
	envelopeOverhead = MaxChainIDBytes + maxErrorBytes + 64
	// maxMsgBytesLimit caps MaxMsgBytes well below gRPC's 2 GiB frame limit.
	maxMsgBytesLimit = 1 << 30
)

// Config is one node's network. Sizes are in bytes, durations are
// time.Duration.
type Config struct {
	// ListenAddr is the host:port peers dial; port 0 picks a free port (see
	// Network.Addr).
	ListenAddr string
	// Peers are the nodes to dial, each "host:port" or "<node id>@host:port".
	// With an id, a peer at that address with another certificate is refused.
	// Listing this node's own address is harmless: it is detected and skipped.
	Peers []string
	// MaxMsgBytes bounds one message's payload, both ways. A larger inbound
	// frame is refused from its length prefix, before any allocation, and the
	// sender is disconnected and banned. Set it above the consensus layer's
	// largest message (a block proposal).
	MaxMsgBytes int
	// QueueLen bounds each peer's send queue in messages. A full queue drops
	// its oldest message to admit the new one, so Send never blocks.
	QueueLen int
	// QueueBytes bounds each peer's send queue in payload bytes, the same way.
	// It must be at least MaxMsgBytes.
	QueueBytes int
	// DialBackoffMin is the wait before the first redial of a lost peer; each
	// failure doubles it up to DialBackoffMax. Each wait is drawn at random
	// from [d/2, d] so that nodes do not redial in lockstep.
	DialBackoffMin time.Duration
	// DialBackoffMax caps the redial wait.
	DialBackoffMax time.Duration
	// JitterSeed seeds the redial jitter; 0 seeds it from crypto/rand. Tests
	// and the simulator set it to replay a run.
	JitterSeed uint64
	// HandshakeTimeout bounds connecting, the TLS handshake and the stream's
	// acceptance.
	HandshakeTimeout time.Duration
	// KeepaliveInterval is how often an idle connection is pinged, and how
	// long an unanswered ping waits before the connection is dropped. gRPC
	// pings no more often than every 10s from the dialing side.
	KeepaliveInterval time.Duration
	// InvalidLimit is how many invalid messages (for an unknown chain, or
	// rejected by the handler) one connection may carry before the peer is
	// disconnected and banned. Malformed or oversized frames need only one.
	InvalidLimit int
	// BanDuration is how long a peer disconnected for misbehaving is refused.
	BanDuration time.Duration
	// RequestTimeout bounds a Request whose context has no deadline, and how
	// long a served request may run.
	RequestTimeout time.Duration
	// MaxInflightRequests bounds the requests served at once for one peer;
	// more are answered "busy" at once rather than queued.
	MaxInflightRequests int
	// RevalidateInterval is how often live connections are checked again
	// against the CA: certificates that expired or were revoked since the
	// handshake are disconnected. The credentials reload their CRL file then.
	RevalidateInterval time.Duration
}

// DefaultConfig returns the tunables; the caller sets ListenAddr and Peers.
func DefaultConfig() Config {
	return Config{
		MaxMsgBytes:         32 << 20,
		QueueLen:            1024,
		QueueBytes:          64 << 20,
		DialBackoffMin:      100 * time.Millisecond,
		DialBackoffMax:      30 * time.Second,
		HandshakeTimeout:    10 * time.Second,
		KeepaliveInterval:   15 * time.Second,
		InvalidLimit:        16,
		BanDuration:         time.Minute,
		RequestTimeout:      10 * time.Second,
		MaxInflightRequests: 8,
		RevalidateInterval:  time.Minute,
	}
}

// Validate reports the first unusable field.
func (c *Config) Validate() error {
	if err := c.validateSizes(); err != nil {
		return err
	}
	if err := c.validateTimes(); err != nil {
		return err
	}
	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		return fmt.Errorf("%w: ListenAddr %q: %v", ErrConfig, c.ListenAddr, err)
	}
	for _, p := range c.Peers {
		if _, err := parsePeer(p); err != nil {
			return err
		}
	}
	return nil
}

func (c *Config) validateSizes() error {
	switch {
	case c.MaxMsgBytes < 1 || c.MaxMsgBytes > maxMsgBytesLimit:
		return fmt.Errorf("%w: MaxMsgBytes must be 1..%d", ErrConfig, maxMsgBytesLimit)
	case c.QueueLen < 1:
		return fmt.Errorf("%w: QueueLen must be at least 1", ErrConfig)
	case c.QueueBytes < c.MaxMsgBytes:
		return fmt.Errorf("%w: QueueBytes must be at least MaxMsgBytes (%d)", ErrConfig, c.MaxMsgBytes)
	case c.InvalidLimit < 1:
		return fmt.Errorf("%w: InvalidLimit must be at least 1", ErrConfig)
	case c.MaxInflightRequests < 1:
		return fmt.Errorf("%w: MaxInflightRequests must be at least 1", ErrConfig)
	}
	return nil
}

func (c *Config) validateTimes() error {
	switch {
	case c.DialBackoffMin <= 0 || c.DialBackoffMax < c.DialBackoffMin:
		return fmt.Errorf("%w: need 0 < DialBackoffMin <= DialBackoffMax", ErrConfig)
	case c.HandshakeTimeout <= 0 || c.RequestTimeout <= 0 || c.BanDuration <= 0:
		return fmt.Errorf("%w: HandshakeTimeout, RequestTimeout and BanDuration must be positive", ErrConfig)
	case c.KeepaliveInterval < time.Second:
		return fmt.Errorf("%w: KeepaliveInterval must be at least 1s", ErrConfig)
	case c.RevalidateInterval <= 0:
		return fmt.Errorf("%w: RevalidateInterval must be positive", ErrConfig)
	}
	return nil
}

// peerAddr is a parsed Config.Peers entry.
type peerAddr struct {
	id   NodeID // zero: any consortium node
	addr string
}

func parsePeer(s string) (peerAddr, error) {
	var p peerAddr
	addr := s
	if i := strings.IndexByte(s, '@'); i >= 0 {
		id, err := ParseNodeID(s[:i])
		if err != nil {
			return p, fmt.Errorf("%w: peer %q: %v", ErrConfig, s, err)
		}
		p.id, addr = id, s[i+1:]
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return p, fmt.Errorf("%w: peer %q: want host:port or id@host:port: %v", ErrConfig, s, err)
	}
	p.addr = addr
	return p, nil
}
