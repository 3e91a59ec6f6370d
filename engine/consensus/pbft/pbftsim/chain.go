package pbftsim

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/consensus/pbft"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/types"
)

// Poison is the state root that marks a block as invalid: Chain.Check
// rejects it, so a Byzantine leader can propose well-formed garbage.
var Poison = common.HexToHash("0xbad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0")

// ErrBadBlock wraps every reason Chain.Check rejects a proposal.
var ErrBadBlock = errors.New("pbftsim: bad block")

// Keys returns n deterministic secp256k1 keys and their validator set, keys
// ordered as the set orders validators (by address).
func Keys(s crypto.Suite, n int) ([]crypto.PrivateKey, *types.ValidatorSet, error) {
	keys := make([]crypto.PrivateKey, 0, n)
	vals := make([]types.Validator, 0, n)
	for i := range n {
		var b [32]byte
		binary.BigEndian.PutUint64(b[24:], uint64(i+1)*0x9e3779b97f4a7c15)
		k, err := s.PrivateKeyFromBytes(b[:])
		if err != nil {
			return nil, nil, err
		}
		keys = append(keys, k)
		vals = append(vals, types.Validator{Address: k.Address(), PubKey: k.PublicKey()})
	}
	vs, err := types.NewValidatorSet(s, vals)
	if err != nil {
		return nil, nil, err
	}
	ordered := make([]crypto.PrivateKey, n)
	for _, k := range keys {
		ordered[vs.Index(k.Address())] = k
	}
	return ordered, vs, nil
}

// Chain is a minimal application: the blocks one validator committed, the
// checks a proposal must pass, and a block builder. Blocks are real
// types.Block values, so certificates are checked with types.VerifyCertificate.
type Chain struct {
	Suite   crypto.Suite
	ChainID string
	VS      *types.ValidatorSet
	Blocks  []*types.Block // index = height; [0] is genesis
	Certs   []*types.Certificate
	// Verify checks a certificate; nil means types.VerifyCertificate. The
	// simulation caches it, since every validator checks every block.
	Verify func(h *types.Header, cert *types.Certificate) error
}

// NewChain starts a chain at its genesis block.
func NewChain(s crypto.Suite, chainID string, vs *types.ValidatorSet) *Chain {
	vh := vs.Hash(s)
	g := &types.Block{Header: &types.Header{ChainID: chainID, ValidatorsHash: vh, NextValidatorsHash: vh}}
	return &Chain{Suite: s, ChainID: chainID, VS: vs, Blocks: []*types.Block{g}, Certs: []*types.Certificate{nil}}
}

// Head returns the last committed height and hash.
func (c *Chain) Head() (uint64, common.Hash) {
	h := uint64(len(c.Blocks) - 1)
	return h, c.Blocks[h].Hash(c.Suite)
}

// Clone copies the committed prefix up to height (the durable part, after a crash).
func (c *Chain) Clone(height uint64) *Chain {
	d := *c
	d.Blocks = append([]*types.Block(nil), c.Blocks[:height+1]...)
	d.Certs = append([]*types.Certificate(nil), c.Certs[:height+1]...)
	return &d
}

// Build makes the next block for (view, proposer); salt makes it unique,
// so a leader can build two different blocks for one view.
func (c *Chain) Build(view uint64, proposer common.Address, salt uint64, bad bool) (common.Hash, []byte) {
	h, parent := c.Head()
	var sb [8]byte
	binary.BigEndian.PutUint64(sb[:], salt)
	vh := c.VS.Hash(c.Suite)
	hdr := &types.Header{
		ChainID: c.ChainID, Height: h + 1, ParentHash: parent, Timestamp: salt,
		TxRoot: c.Suite.Hash(sb[:]), Proposer: proposer, Round: view,
		ValidatorsHash: vh, NextValidatorsHash: vh,
	}
	if bad {
		hdr.StateRoot = Poison
	}
	b := &types.Block{Header: hdr}
	return b.Hash(c.Suite), b.Encode()
}

// Check is the application's validation of a proposal.
func (c *Chain) Check(p pbft.Proposal) error {
	b, err := types.DecodeBlock(p.Block)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadBlock, err)
	}
	h, parent := c.Head()
	hdr := b.Header
	switch {
	case b.Hash(c.Suite) != p.Hash:
		return fmt.Errorf("%w: hash does not match header", ErrBadBlock)
	case hdr.ChainID != c.ChainID || hdr.Height != h+1 || p.Height != h+1:
		return fmt.Errorf("%w: block %d, expected %d", ErrBadBlock, hdr.Height, h+1)
	case hdr.ParentHash != parent:
		return fmt.Errorf("%w: wrong parent", ErrBadBlock)
	case hdr.Round > p.View || !c.VS.Contains(hdr.Proposer):
		return fmt.Errorf("%w: round or proposer", ErrBadBlock)
	case hdr.ValidatorsHash != c.VS.Hash(c.Suite) || hdr.StateRoot == Poison:
		return fmt.Errorf("%w: state", ErrBadBlock)
	}
	return nil
}

// Apply appends a committed block after checking its certificate as a light
// client would.
func (c *Chain) Apply(height uint64, block []byte, cert *types.Certificate) error {
	b, err := types.DecodeBlock(block)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadBlock, err)
	}
	h, parent := c.Head()
	if height != h+1 || b.Header.Height != height || b.Header.ParentHash != parent {
		return fmt.Errorf("%w: block %d does not extend head %d", ErrBadBlock, b.Header.Height, h)
	}
	verify := c.Verify
	if verify == nil {
		verify = func(h *types.Header, cert *types.Certificate) error {
			return types.VerifyCertificate(c.Suite, c.VS, types.QuorumBFT, h, cert)
		}
	}
	if err := verify(b.Header, cert); err != nil {
		return err
	}
	c.Blocks, c.Certs = append(c.Blocks, b), append(c.Certs, cert)
	return nil
}
