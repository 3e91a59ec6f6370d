package types

import (
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/crypto"
)

// Certificate errors that light clients test for.
var (
	ErrQuorum          = errors.New("certificate below quorum")
	ErrNotValidator    = errors.New("certificate signed by a non-validator")
	ErrDuplicateSigner = errors.New("certificate counts a signer twice")
	ErrCertMismatch    = errors.New("certificate does not match header")
	ErrCertSignature   = errors.New("certificate signature invalid")
	ErrValidatorsHash  = errors.New("header validators hash does not match the trusted set")
)

// QuorumRule says how many of n validators must sign.
type QuorumRule uint8

const (
	// QuorumBFT is 2f+1 of n = 3f+1, i.e. n - floor((n-1)/3). Used by PBFT and solo.
	QuorumBFT QuorumRule = 1
	// QuorumMajority is floor(n/2)+1. Used by Raft.
	QuorumMajority QuorumRule = 2
)

// Size returns the quorum size for n validators.
func (q QuorumRule) Size(n int) int {
	switch q {
	case QuorumMajority:
		return n/2 + 1
	default:
		return n - (n-1)/3
	}
}

func (q QuorumRule) String() string {
	if q == QuorumMajority {
		return "majority"
	}
	return "bft"
}

// Vote is one validator's signature over CommitDigest.
type Vote struct {
	Signer common.Address
	Sig    []byte
}

// Certificate is a block's finality certificate: a quorum of the chain's
// validators signed the header hash at (height, round).
type Certificate struct {
	ChainID   string
	Height    uint64
	Round     uint64
	BlockHash common.Hash
	Votes     []Vote
}

// Encode returns the canonical bytes.
func (c *Certificate) Encode() []byte { return encode(c) }

// DecodeCertificate parses canonical certificate bytes.
func DecodeCertificate(b []byte) (*Certificate, error) {
	c := new(Certificate)
	if err := decodeCanonical("certificate", b, c); err != nil {
		return nil, err
	}
	return c, nil
}

type commitMsg struct {
	Domain    string
	ChainID   string
	Height    uint64
	Round     uint64
	BlockHash common.Hash
}

// CommitDigest is what a validator signs to finalize a block. PBFT commit
// votes and Raft finality signatures both sign this digest.
func CommitDigest(s crypto.Suite, chainID string, height, round uint64, blockHash common.Hash) common.Hash {
	return s.Hash(encode(&commitMsg{"tally/commit", chainID, height, round, blockHash}))
}

// VerifyCertificate is the light-client check: header is final if cert
// carries valid signatures over the recomputed header hash from a quorum of
// distinct members of the trusted set vs, and the header commits to vs.
func VerifyCertificate(s crypto.Suite, vs *ValidatorSet, rule QuorumRule, h *Header, cert *Certificate) error {
	if cert == nil {
		return fmt.Errorf("%w: no certificate", ErrQuorum)
	}
	hash := h.Hash(s)
	// cert.Round may exceed h.Round: a block prepared in one view can be
	// re-proposed and committed in a later one after a view change.
	if cert.ChainID != h.ChainID || cert.Height != h.Height || cert.Round < h.Round || cert.BlockHash != hash {
		return fmt.Errorf("%w: certificate for %s/%d/%d/%x, header %s/%d/%d/%x", ErrCertMismatch,
			cert.ChainID, cert.Height, cert.Round, cert.BlockHash[:4], h.ChainID, h.Height, h.Round, hash[:4])
	}
	if h.ValidatorsHash != vs.Hash(s) {
		return ErrValidatorsHash
	}
	digest := CommitDigest(s, cert.ChainID, cert.Height, cert.Round, hash)
	seen := make(map[common.Address]bool, len(cert.Votes))
	for _, v := range cert.Votes {
		i := vs.Index(v.Signer)
		if i < 0 {
			return fmt.Errorf("%w: %s", ErrNotValidator, v.Signer)
		}
		if seen[v.Signer] {
			return fmt.Errorf("%w: %s", ErrDuplicateSigner, v.Signer)
		}
		seen[v.Signer] = true
		if !voteSignedBy(s, vs.Validators[i], digest, v.Sig) {
			return fmt.Errorf("%w: vote by %s", ErrCertSignature, v.Signer)
		}
	}
	if need := rule.Size(vs.Len()); len(seen) < need {
		return fmt.Errorf("%w: %d of %d signatures, need %d", ErrQuorum, len(seen), vs.Len(), need)
	}
	return nil
}

// voteSignedBy authenticates a vote the strict way, through Sender: for
// secp256k1 that recovers the key, which pins the signature's exact form
// (65 bytes, V in {0,1}, low S), so a certificate has one byte encoding and
// a proof one hash. Verify alone would also accept [R||S] and either V.
func voteSignedBy(s crypto.Suite, v Validator, digest common.Hash, sig []byte) bool {
	pub := v.PubKey
	if !s.TxCarriesPubKey() {
		pub = nil
	}
	a, err := s.Sender(digest, sig, pub)
	return err == nil && a == v.Address
}

// VerifyVote checks one vote on its own: the signer is a member of vs and
// signed digest (the CommitDigest of the block it certifies). Raft nodes
// use it on each finality signature they collect.
func VerifyVote(s crypto.Suite, vs *ValidatorSet, digest common.Hash, v Vote) error {
	i := vs.Index(v.Signer)
	if i < 0 {
		return fmt.Errorf("%w: %s", ErrNotValidator, v.Signer)
	}
	if !voteSignedBy(s, vs.Validators[i], digest, v.Sig) {
		return fmt.Errorf("%w: vote by %s", ErrCertSignature, v.Signer)
	}
	return nil
}
