package pbft

import (
	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/types"
)

// Ready is the output the node must act on, in this order:
//
//  1. if Err is set, stop: the signer failed and the machine cannot vote;
//  2. write HardState (if non-nil) to the WAL and sync it;
//  3. apply Committed blocks in order (they may be persisted in the
//     background, but each must be durable no later than the next Ready's
//     HardState is written);
//  4. send Messages;
//  5. hand Validate items to the application, and a ProposeRequest to the
//     block builder; fetch blocks for a Sync request;
//  6. call Advance.
type Ready struct {
	HardState *HardState
	Committed []Committed
	Messages  []Envelope
	Validate  []Proposal
	Propose   *ProposeRequest
	Sync      *SyncRequest
	Err       error
}

// Empty reports whether there is nothing to do.
func (rd *Ready) Empty() bool {
	return rd.HardState == nil && len(rd.Committed) == 0 && len(rd.Messages) == 0 &&
		len(rd.Validate) == 0 && rd.Propose == nil && rd.Sync == nil && rd.Err == nil
}

// Envelope is a message and where it goes.
type Envelope struct {
	// To is the destination validator; the zero address means every other validator.
	To  common.Address
	Msg *Message
}

// Broadcast reports whether the envelope goes to every other validator.
func (e Envelope) Broadcast() bool { return e.To == (common.Address{}) }

// Proposal asks the application to validate and execute a block proposed at
// (Height, View). It reports back with Machine.Validated. The application
// must check that Hash is the block's header hash, that the header is for
// Height, builds on the last committed block, and has Round <= View (a
// re-proposed block keeps the round it was first proposed in).
type Proposal struct {
	Height uint64
	View   uint64
	Hash   common.Hash
	Block  []byte
}

// ProposeRequest says this validator leads (Height, View) and the
// application has pending transactions: build a block on Parent with
// header Round = View and call Machine.Propose.
type ProposeRequest struct {
	Height uint64
	View   uint64
	Parent common.Hash
}

// Committed is a decided block with its finality certificate, which
// types.VerifyCertificate accepts with QuorumBFT.
type Committed struct {
	Height uint64
	Hash   common.Hash
	Block  []byte
	Cert   *types.Certificate
}

// SyncRequest says a quorum-backed peer is ahead: fetch blocks and
// certificates up to Height from one of Peers, check each with
// types.VerifyCertificate, apply them and call Machine.SyncedTo.
type SyncRequest struct {
	Height uint64
	Peers  []common.Address
}
