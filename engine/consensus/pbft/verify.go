package pbft

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/types"
)

// VerifyMessage checks every signature in m against the validator set: the
// sender's, and those of the evidence it carries (a view change's prepared
// certificate, a new-view's view changes, a certificate's commit votes). It
// also requires that evidence to reach a quorum of distinct members.
//
// It is stateless and safe to call from many goroutines at once, so the node
// runs it on all cores before handing m to Machine.Step, which trusts it.
func VerifyMessage(s crypto.Suite, vs *types.ValidatorSet, m *Message) error {
	if m == nil {
		return fmt.Errorf("%w: nil message", ErrMalformed)
	}
	if err := m.ValidateBasic(); err != nil {
		return err
	}
	if err := verifySig(s, vs, m.From, m.Digest(s), m.Sig); err != nil {
		return fmt.Errorf("%s from %s: %w", m.Type, m.From, err)
	}
	switch m.Type {
	case MsgViewChange:
		return verifyPrepared(s, vs, m.ChainID, m.Height, m.Prepared)
	case MsgNewView:
		return verifyNewView(s, vs, m)
	case MsgCertificate:
		c := m.Cert
		return verifyVotes(s, vs, types.CommitDigest(s, c.ChainID, c.Height, c.Round, c.BlockHash), c.Votes)
	}
	return nil
}

func verifySig(s crypto.Suite, vs *types.ValidatorSet, from common.Address, digest common.Hash, sig []byte) error {
	i := vs.Index(from)
	if i < 0 {
		return fmt.Errorf("%w: %s", ErrNotValidator, from)
	}
	if !s.Verify(vs.Validators[i].PubKey, digest, sig) {
		return ErrSignature
	}
	return nil
}

func verifyPrepared(s crypto.Suite, vs *types.ValidatorSet, chainID string, height uint64, p *PreparedCert) error {
	if p == nil {
		return nil
	}
	digest := PrepareDigest(s, chainID, height, p.View, p.Hash)
	if err := verifyVotes(s, vs, digest, p.Votes); err != nil {
		return fmt.Errorf("prepared certificate for view %d: %w", p.View, err)
	}
	return nil
}

// verifyVotes requires a quorum of distinct members with valid signatures.
func verifyVotes(s crypto.Suite, vs *types.ValidatorSet, digest common.Hash, votes []types.Vote) error {
	if err := checkVoters(vs, votes); err != nil {
		return err
	}
	for _, v := range votes {
		if err := verifySig(s, vs, v.Signer, digest, v.Sig); err != nil {
			return fmt.Errorf("vote by %s: %w", v.Signer, err)
		}
	}
	return nil
}

// checkVoters is the signature-free part of verifyVotes; Step repeats it
// because it must not rely on VerifyMessage for anything but signatures.
func checkVoters(vs *types.ValidatorSet, votes []types.Vote) error {
	seen := make(map[common.Address]bool, len(votes))
	for _, v := range votes {
		if !vs.Contains(v.Signer) {
			return fmt.Errorf("%w: vote by %s", ErrNotValidator, v.Signer)
		}
		if seen[v.Signer] {
			return fmt.Errorf("%w: %s votes twice", ErrInvalid, v.Signer)
		}
		seen[v.Signer] = true
	}
	if need := types.QuorumBFT.Size(vs.Len()); len(seen) < need {
		return fmt.Errorf("%w: %d votes, need %d", ErrQuorum, len(seen), need)
	}
	return nil
}

func verifyNewView(s crypto.Suite, vs *types.ValidatorSet, m *Message) error {
	for i := range m.ViewChanges {
		vc := &m.ViewChanges[i]
		digest := ViewChangeDigest(s, m.ChainID, m.Height, m.View, vc.Prepared)
		if err := verifySig(s, vs, vc.From, digest, vc.Sig); err != nil {
			return fmt.Errorf("new-view: view change from %s: %w", vc.From, err)
		}
		if err := verifyPrepared(s, vs, m.ChainID, m.Height, vc.Prepared); err != nil {
			return fmt.Errorf("new-view: view change from %s: %w", vc.From, err)
		}
	}
	return nil
}
