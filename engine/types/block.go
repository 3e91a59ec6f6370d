package types

import (
	"sync/atomic"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/crypto"
)

// Header is a block header. Its hash, computed with the chain's suite over the
// canonical bytes, is what finality certificates sign.
type Header struct {
	ChainID    string
	Height     uint64
	ParentHash common.Hash
	// Timestamp is the proposer's clock in Unix milliseconds; it never decreases.
	Timestamp uint64
	// TxCount is the number of transactions (and receipts): it binds the
	// Merkle tree size, so an inclusion proof also proves the leaf's index.
	TxCount     uint64
	TxRoot      common.Hash
	ReceiptRoot common.Hash
	// StateRoot chains a hash over each block's sorted change set.
	StateRoot common.Hash
	GasUsed   uint64
	Proposer  common.Address
	// Round is the PBFT view or the Raft term that produced the block; 0 for solo.
	Round uint64
	// ValidatorsHash commits to the set that certifies this block;
	// NextValidatorsHash to the set that certifies the next one.
	ValidatorsHash     common.Hash
	NextValidatorsHash common.Hash

	hash atomic.Pointer[common.Hash]
}

// Encode returns the canonical bytes.
func (h *Header) Encode() []byte { return encode(h) }

// Hash is the suite hash of the canonical bytes, cached after the first call.
// Callers that received a header from outside must not trust any hash that
// came with it: this recomputes it from the fields.
func (h *Header) Hash(s crypto.Suite) common.Hash {
	if p := h.hash.Load(); p != nil {
		return *p
	}
	v := s.Hash(h.Encode())
	h.hash.Store(&v)
	return v
}

// Copy returns a deep copy without the cached hash.
func (h *Header) Copy() *Header {
	c := &Header{
		ChainID: h.ChainID, Height: h.Height, ParentHash: h.ParentHash, Timestamp: h.Timestamp,
		TxCount: h.TxCount, TxRoot: h.TxRoot, ReceiptRoot: h.ReceiptRoot, StateRoot: h.StateRoot, GasUsed: h.GasUsed,
		Proposer: h.Proposer, Round: h.Round, ValidatorsHash: h.ValidatorsHash, NextValidatorsHash: h.NextValidatorsHash,
	}
	return c
}

// DecodeHeader parses canonical header bytes.
func DecodeHeader(b []byte) (*Header, error) {
	h := new(Header)
	if err := decodeCanonical("header", b, h); err != nil {
		return nil, err
	}
	return h, nil
}

// Block is a header with its transactions.
type Block struct {
	Header *Header
	Txs    []*Tx
}

// Encode returns the canonical bytes.
func (b *Block) Encode() []byte { return encode(b) }

// Hash is the header hash.
func (b *Block) Hash(s crypto.Suite) common.Hash { return b.Header.Hash(s) }

// DecodeBlock parses canonical block bytes.
func DecodeBlock(b []byte) (*Block, error) {
	blk := new(Block)
	if err := decodeCanonical("block", b, blk); err != nil {
		return nil, err
	}
	if blk.Header == nil {
		return nil, errMissingHeader
	}
	return blk, nil
}
