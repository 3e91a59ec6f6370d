package p2p

import "errors"

// Errors callers test with errors.Is.
var (
	// ErrConfig: a Config field is unusable; the message names it.
	ErrConfig = errors.New("p2p: invalid config")
	// ErrClosed: the network was stopped.
	ErrClosed = errors.New("p2p: network stopped")
	// ErrJoined: Join was called twice for one chain.
	ErrJoined = errors.New("p2p: chain already joined")
	// ErrNotMember: the node is not a member of the chain, so nothing of
	// that chain is sent to it or accepted from it.
	ErrNotMember = errors.New("p2p: not a member of the chain")
	// ErrSelf: a message addressed to this node, or a peer that is this node.
	ErrSelf = errors.New("p2p: that is this node")
	// ErrTooLarge: a payload above Config.MaxMsgBytes.
	ErrTooLarge = errors.New("p2p: message too large")
	// ErrNotConnected: Request to a member with no live connection.
	ErrNotConnected = errors.New("p2p: peer not connected")
	// ErrDropped: the request was dropped from a full send queue.
	ErrDropped = errors.New("p2p: dropped from a full send queue")
	// ErrRemote: the peer's request handler failed; the message is the peer's.
	ErrRemote = errors.New("p2p: peer could not serve the request")
	// ErrInvalidMessage: a message that is well-formed but wrong: for an
	// unknown chain, or refused by the handler. A request handler may wrap it
	// to count the request against the peer.
	ErrInvalidMessage = errors.New("p2p: invalid message")
	// ErrUnknownChain: a message for a chain this node has not joined.
	ErrUnknownChain = errors.New("p2p: unknown chain")
)

// Reasons a connection is refused or closed; they appear in logs and in
// PeerInfo, and tests check them.
var (
	// ErrMalformed: an envelope that breaks the protocol (undecodable,
	// unknown flow, bad fields). The peer is disconnected and banned at once.
	ErrMalformed = errors.New("p2p: malformed envelope")
	// ErrMisbehaving: too many invalid messages on one connection.
	ErrMisbehaving = errors.New("p2p: peer sent too many invalid messages")
	// ErrBanned: the peer is banned for a while after misbehaving.
	ErrBanned = errors.New("p2p: peer banned")
	// ErrDuplicate: a second connection between the same two nodes.
	ErrDuplicate = errors.New("p2p: duplicate connection")
	// ErrWrongPeer: the peer at a pinned address has another node id.
	ErrWrongPeer = errors.New("p2p: peer is not the node pinned for this address")
	// ErrDisconnected: the connection ended (network error, peer went away).
	ErrDisconnected = errors.New("p2p: connection lost")
)
