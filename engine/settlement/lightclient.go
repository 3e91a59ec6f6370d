package settlement

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/proof"
	"github.com/tallyhq/tally/engine/types"
)

// Light-client errors.
var (
	ErrStaleHeader  = errors.New("settlement: header is older than the trusted validator set")
	ErrWrongChain   = errors.New("settlement: proof is from another chain")
	ErrTxFailed     = errors.New("settlement: proven transaction did not succeed")
	ErrNoSuchLog    = errors.New("settlement: receipt has no such event from the expected contract")
	ErrNotNextSet   = errors.New("settlement: header does not commit to that next validator set")
	ErrNoSetChange  = errors.New("settlement: header does not change the validator set")
	ErrUnknownSuite = errors.New("settlement: light client has an unknown suite")
)

// Client is a light client of one chain: the validator set it trusts, the
// quorum rule, and the height from which that set certifies blocks.
type Client struct {
	ChainID    string
	Suite      string
	Rule       uint8
	Validators []byte // canonical types.ValidatorSet
	FromHeight uint64
}

// Encode returns the canonical bytes.
func (c *Client) Encode() []byte {
	b, err := rlp.EncodeToBytes(c)
	if err != nil {
		panic(err)
	}
	return b
}

// DecodeClient parses canonical bytes and checks the validator set.
func DecodeClient(b []byte) (*Client, error) {
	c := new(Client)
	if err := rlp.DecodeBytes(b, c); err != nil || !bytes.Equal(c.Encode(), b) {
		return nil, fmt.Errorf("%w: light client", ErrMalformed)
	}
	if _, _, err := c.Set(); err != nil {
		return nil, err
	}
	return c, nil
}

// Set returns the suite and the trusted validator set.
func (c *Client) Set() (crypto.Suite, *types.ValidatorSet, error) {
	s, err := crypto.ByName(c.Suite)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrUnknownSuite, err)
	}
	if c.Rule != uint8(types.QuorumBFT) && c.Rule != uint8(types.QuorumMajority) {
		return nil, nil, fmt.Errorf("%w: quorum rule %d", ErrMalformed, c.Rule)
	}
	vs, err := types.DecodeValidatorSet(s, c.Validators)
	return s, vs, err
}

// VerifyHeader checks that h is from this chain, not older than the trusted
// set, and certified by a quorum of it. The header hash is recomputed.
func (c *Client) VerifyHeader(h *types.Header, cert *types.Certificate) (crypto.Suite, error) {
	s, vs, err := c.Set()
	if err != nil {
		return nil, err
	}
	if h.ChainID != c.ChainID {
		return nil, fmt.Errorf("%w: header of %q, client of %q", ErrWrongChain, h.ChainID, c.ChainID)
	}
	if h.Height < c.FromHeight {
		return nil, fmt.Errorf("%w: header %d, set trusted from %d", ErrStaleHeader, h.Height, c.FromHeight)
	}
	return s, types.VerifyCertificate(s, vs, types.QuorumRule(c.Rule), h, cert)
}

// VerifyReceipt checks a receipt proof against the client and requires the
// transaction to have succeeded.
func (c *Client) VerifyReceipt(p *proof.Receipt) (crypto.Suite, *types.Header, *types.Receipt, error) {
	h, err := types.DecodeHeader(p.Header)
	if err != nil {
		return nil, nil, nil, err
	}
	cert, err := types.DecodeCertificate(p.Certificate)
	if err != nil {
		return nil, nil, nil, err
	}
	s, err := c.VerifyHeader(h, cert)
	if err != nil {
		return nil, nil, nil, err
	}
	r, err := proof.VerifyReceiptInHeader(s, h, p.Receipt, p.Branch)
	if err != nil {
		return nil, nil, nil, err
	}
	if r.Status != types.StatusOK {
		return nil, nil, nil, fmt.Errorf("%w: status %v", ErrTxFailed, r.Status)
	}
	return s, h, r, nil
}

// Update moves the client to the next validator set: h must be certified by
// the current set and commit (NextValidatorsHash) to next, which differs.
// Blocks after h are certified by next, and only by it.
func (c *Client) Update(h *types.Header, cert *types.Certificate, next []byte) (*Client, error) {
	s, err := c.VerifyHeader(h, cert)
	if err != nil {
		return nil, err
	}
	if _, err := types.DecodeValidatorSet(s, next); err != nil {
		return nil, err
	}
	if s.Hash(next) != h.NextValidatorsHash {
		return nil, ErrNotNextSet
	}
	if h.NextValidatorsHash == h.ValidatorsHash {
		return nil, ErrNoSetChange
	}
	return &Client{ChainID: c.ChainID, Suite: c.Suite, Rule: c.Rule, Validators: next, FromHeight: h.Height + 1}, nil
}

// Bundle is what the relay submits: a receipt proof and the index of the
// log in that receipt that carries the object (summary or packet).
type Bundle struct {
	Proof    proof.Receipt
	LogIndex uint64
}

// Encode returns the canonical bytes.
func (b *Bundle) Encode() []byte {
	enc, err := rlp.EncodeToBytes(b)
	if err != nil {
		panic(err)
	}
	return enc
}

// DecodeBundle parses canonical bytes.
func DecodeBundle(b []byte) (*Bundle, error) {
	bu := new(Bundle)
	if err := rlp.DecodeBytes(b, bu); err != nil || bu.Proof.Branch == nil {
		return nil, fmt.Errorf("%w: bundle", ErrMalformed)
	}
	if !bytes.Equal(bu.Encode(), b) {
		return nil, fmt.Errorf("%w: bundle: non-canonical encoding", ErrMalformed)
	}
	return bu, nil
}

// Log returns the bundle's log if it was emitted by from with topic0 event.
func Log(r *types.Receipt, index uint64, from common.Address, event common.Hash) (*types.Log, error) {
	if index >= uint64(len(r.Logs)) {
		return nil, fmt.Errorf("%w: log %d of %d", ErrNoSuchLog, index, len(r.Logs))
	}
	l := r.Logs[index]
	if l.Address != from || len(l.Topics) == 0 || l.Topics[0] != event {
		return nil, fmt.Errorf("%w: log %d is from %s", ErrNoSuchLog, index, l.Address.Hex())
	}
	return l, nil
}

// ErrPacketRoute is returned for a packet of the wrong kind or route.
var ErrPacketRoute = errors.New("settlement: packet has the wrong kind, source or destination")

// VerifyPacket verifies a bundle carrying a PacketSent log emitted by from,
// and checks the packet's kind and route (from this client's chain to dst).
func (c *Client) VerifyPacket(raw []byte, from common.Address, kind, dst string) (*Packet, error) {
	b, err := DecodeBundle(raw)
	if err != nil {
		return nil, err
	}
	_, _, r, err := c.VerifyReceipt(&b.Proof)
	if err != nil {
		return nil, err
	}
	l, err := Log(r, b.LogIndex, from, EvPacketSent.ID)
	if err != nil {
		return nil, err
	}
	enc, err := EventBytes(l.Data)
	if err != nil {
		return nil, err
	}
	p, err := DecodePacket(enc)
	if err != nil {
		return nil, err
	}
	if p.Kind != kind || p.Src != c.ChainID || p.Dst != dst {
		return nil, fmt.Errorf("%w: %s %s→%s, want %s %s→%s", ErrPacketRoute, p.Kind, p.Src, p.Dst, kind, c.ChainID, dst)
	}
	return p, nil
}

// VerifySummary verifies a bundle carrying an EpochSettled log emitted by
// the Shadow precompile and returns the summary, its hash and the header.
func (c *Client) VerifySummary(raw []byte) (*Summary, common.Hash, *types.Header, error) {
	b, err := DecodeBundle(raw)
	if err != nil {
		return nil, common.Hash{}, nil, err
	}
	s, h, r, err := c.VerifyReceipt(&b.Proof)
	if err != nil {
		return nil, common.Hash{}, nil, err
	}
	l, err := Log(r, b.LogIndex, ShadowAddress, EvEpochSettled.ID)
	if err != nil {
		return nil, common.Hash{}, nil, err
	}
	enc, err := EventBytes(l.Data)
	if err != nil {
		return nil, common.Hash{}, nil, err
	}
	sum, err := DecodeSummary(enc)
	if err != nil {
		return nil, common.Hash{}, nil, err
	}
	if sum.ChainID != c.ChainID || sum.ToHeight != h.Height {
		return nil, common.Hash{}, nil, fmt.Errorf("%w: summary of %s ending at %d in a block of %s at %d",
			ErrWrongChain, sum.ChainID, sum.ToHeight, h.ChainID, h.Height)
	}
	return sum, s.Hash(enc), h, nil
}
