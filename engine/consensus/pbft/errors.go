package pbft

import "errors"

// Errors that callers test for. Step and VerifyMessage wrap them with %w and
// context; a node that gets ErrMalformed, ErrSignature, ErrNotValidator or
// ErrInvalid from a peer's message may penalise that peer.
var (
	// ErrMalformed: the bytes or fields do not form a well-shaped message.
	ErrMalformed = errors.New("pbft: malformed message")
	// ErrSignature: a signature in the message does not verify.
	ErrSignature = errors.New("pbft: bad signature")
	// ErrNotValidator: the message, or evidence inside it, is signed by a non-member.
	ErrNotValidator = errors.New("pbft: signer is not a validator")
	// ErrWrongChain: the message belongs to another chain.
	ErrWrongChain = errors.New("pbft: message for another chain")
	// ErrQuorum: evidence inside the message (a certificate, a new-view) lacks a quorum.
	ErrQuorum = errors.New("pbft: evidence below quorum")
	// ErrInvalid: the message is well-formed and signed but breaks the protocol,
	// e.g. a pre-prepare from a validator that is not the leader.
	ErrInvalid = errors.New("pbft: message breaks the protocol")
	// ErrNotNow: a Propose or SyncedTo call that does not fit the machine's
	// current position; the caller drops it and waits for the next request.
	ErrNotNow = errors.New("pbft: call does not match the current height/view")
	// ErrSigner: the injected signer failed; the node must stop (see Ready.Err).
	ErrSigner = errors.New("pbft: signer failed")
	// ErrConfig: the Config or Start given to New is unusable.
	ErrConfig = errors.New("pbft: bad config")
)
