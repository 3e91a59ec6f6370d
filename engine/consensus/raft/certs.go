package raft

import (
	"errors"
	"fmt"
	"sort"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/types"
)

// Finality on a Raft chain. Raft decides the order of blocks but signs
// nothing, so after committing a block every validator signs its header
// (the same CommitDigest a PBFT commit vote signs) and sends the
// signature to the others. A node stores a certificate beside the block
// once it holds valid signatures from a majority of the validator set
// that the header names; a light client then checks a Raft block exactly
// like a PBFT one, with the majority quorum rule.

// VoteMsg is one validator's finality signature over a committed header.
type VoteMsg struct {
	ChainID   string
	Height    uint64
	Round     uint64
	BlockHash common.Hash
	Signer    common.Address
	Sig       []byte
}

// WantMsg asks peers for their signatures (or a finished certificate) of
// the heights [From, To], which the sender committed but cannot certify.
type WantMsg struct {
	ChainID string
	From    uint64
	To      uint64
}

// MaxWantSpan bounds the heights one WantMsg may ask for.
const MaxWantSpan = 64

// ErrBadMessage is returned for a finality message that does not decode.
var ErrBadMessage = errors.New("raft: bad finality message")

// Encode returns the vote's canonical bytes.
func (v *VoteMsg) Encode() []byte { return mustEncode(v) }

// Encode returns the request's canonical bytes.
func (w *WantMsg) Encode() []byte { return mustEncode(w) }

func mustEncode(v any) []byte {
	b, err := rlp.EncodeToBytes(v)
	if err != nil {
		panic(err) // fixed-shape structs always encode
	}
	return b
}

// DecodeVote parses canonical vote bytes.
func DecodeVote(b []byte) (*VoteMsg, error) {
	v := new(VoteMsg)
	if err := decodeCanonical(b, v); err != nil {
		return nil, err
	}
	if len(v.Sig) > 256 {
		return nil, fmt.Errorf("%w: signature of %d bytes", ErrBadMessage, len(v.Sig))
	}
	return v, nil
}

// DecodeWant parses canonical request bytes.
func DecodeWant(b []byte) (*WantMsg, error) {
	w := new(WantMsg)
	if err := decodeCanonical(b, w); err != nil {
		return nil, err
	}
	if w.To < w.From || w.To-w.From >= MaxWantSpan {
		return nil, fmt.Errorf("%w: want [%d, %d]", ErrBadMessage, w.From, w.To)
	}
	return w, nil
}

func decodeCanonical(b []byte, v interface{ Encode() []byte }) error {
	if len(b) > 4096 {
		return fmt.Errorf("%w: %d bytes", ErrBadMessage, len(b))
	}
	if err := rlp.DecodeBytes(b, v); err != nil {
		return fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	if string(v.Encode()) != string(b) {
		return fmt.Errorf("%w: not canonical", ErrBadMessage)
	}
	return nil
}

// Sign makes this validator's vote for a committed header.
func Sign(key crypto.PrivateKey, h *types.Header) (*VoteMsg, error) {
	s := key.Suite()
	hash := h.Hash(s)
	sig, err := key.Sign(types.CommitDigest(s, h.ChainID, h.Height, h.Round, hash))
	if err != nil {
		return nil, err
	}
	return &VoteMsg{ChainID: h.ChainID, Height: h.Height, Round: h.Round, BlockHash: hash, Signer: key.Address(), Sig: sig}, nil
}

// Collector gathers finality signatures into certificates. It is not safe
// for concurrent use; the node drives it from one goroutine.
type Collector struct {
	suite   crypto.Suite
	chainID string
	open    map[uint64]*pending
	early   map[uint64][]*VoteMsg
	// MaxEarly bounds the heights beyond the local head for which votes
	// are held (a node behind its peers); older ones are dropped first.
	maxEarly int
}

type pending struct {
	hash  common.Hash
	round uint64
	vs    *types.ValidatorSet
	votes map[common.Address][]byte
}

// NewCollector makes an empty collector for chain chainID.
func NewCollector(s crypto.Suite, chainID string) *Collector {
	return &Collector{suite: s, chainID: chainID, open: map[uint64]*pending{}, early: map[uint64][]*VoteMsg{}, maxEarly: 1024}
}

// Open starts collecting for a block this node committed without a
// certificate; vs is the set named by the header. Votes that arrived
// before the block are counted now. It returns the certificate if those
// already make a quorum.
func (c *Collector) Open(h *types.Header, vs *types.ValidatorSet) *types.Certificate {
	if h.ValidatorsHash != vs.Hash(c.suite) {
		return nil // not the header's set: no vote could be checked against it
	}
	c.open[h.Height] = &pending{hash: h.Hash(c.suite), round: h.Round, vs: vs, votes: map[common.Address][]byte{}}
	early := c.early[h.Height]
	delete(c.early, h.Height)
	var cert *types.Certificate
	for _, v := range early {
		if got, err := c.Add(v); err == nil && got != nil {
			cert = got
		}
	}
	return cert
}

// Add counts a vote. It returns the certificate when the vote completes a
// majority, nil while more are needed, and an error for a vote that is
// invalid. Votes for heights not yet open are held (unchecked) until they are.
func (c *Collector) Add(v *VoteMsg) (*types.Certificate, error) {
	if v.ChainID != c.chainID {
		return nil, fmt.Errorf("%w: vote for chain %q", ErrBadMessage, v.ChainID)
	}
	p := c.open[v.Height]
	if p == nil {
		c.hold(v)
		return nil, nil
	}
	if v.BlockHash != p.hash || v.Round != p.round {
		return nil, fmt.Errorf("%w: vote by %s for another block at height %d", types.ErrCertMismatch, v.Signer, v.Height)
	}
	if _, dup := p.votes[v.Signer]; dup {
		return nil, nil
	}
	digest := types.CommitDigest(c.suite, c.chainID, v.Height, v.Round, v.BlockHash)
	if err := types.VerifyVote(c.suite, p.vs, digest, types.Vote{Signer: v.Signer, Sig: v.Sig}); err != nil {
		return nil, err
	}
	p.votes[v.Signer] = v.Sig
	if len(p.votes) < types.QuorumMajority.Size(p.vs.Len()) {
		return nil, nil
	}
	delete(c.open, v.Height)
	return c.certificate(v.Height, p), nil
}

// certificate orders the votes by the validators' order in the set, so
// every node holding the same signatures stores the same bytes.
func (c *Collector) certificate(height uint64, p *pending) *types.Certificate {
	votes := make([]types.Vote, 0, len(p.votes))
	for a, sig := range p.votes {
		votes = append(votes, types.Vote{Signer: a, Sig: sig})
	}
	sort.Slice(votes, func(i, j int) bool { return p.vs.Index(votes[i].Signer) < p.vs.Index(votes[j].Signer) })
	return &types.Certificate{ChainID: c.chainID, Height: height, Round: p.round, BlockHash: p.hash, Votes: votes}
}

func (c *Collector) hold(v *VoteMsg) {
	if len(c.early[v.Height]) >= 64 {
		return
	}
	if _, ok := c.early[v.Height]; !ok && len(c.early) >= c.maxEarly {
		lowest := v.Height
		for h := range c.early {
			lowest = min(lowest, h)
		}
		if lowest == v.Height {
			return
		}
		delete(c.early, lowest)
	}
	c.early[v.Height] = append(c.early[v.Height], v)
}

// Close stops collecting for a height (certified another way) and drops
// held votes at or below it.
func (c *Collector) Close(height uint64) {
	delete(c.open, height)
	for h := range c.early {
		if h <= height {
			delete(c.early, h)
		}
	}
}

// SetOf returns the validator set an open height is certified by, or nil
// if the height is not open.
func (c *Collector) SetOf(height uint64) *types.ValidatorSet {
	if p := c.open[height]; p != nil {
		return p.vs
	}
	return nil
}

// Missing returns up to n open heights, lowest first.
func (c *Collector) Missing(n int) []uint64 {
	hs := make([]uint64, 0, len(c.open))
	for h := range c.open {
		hs = append(hs, h)
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i] < hs[j] })
	if len(hs) > max(n, 0) {
		hs = hs[:max(n, 0)]
	}
	return hs
}

// Pending reports how many committed heights still lack a certificate.
func (c *Collector) Pending() int { return len(c.open) }
