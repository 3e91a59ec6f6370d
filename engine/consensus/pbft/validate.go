package pbft

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/types"
)

// ValidateBasic checks the shape of m without any state or signature: the
// fields its type uses are set and bounded, and the others are empty.
func (m *Message) ValidateBasic() error {
	if err := m.validateCommon(); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrMalformed, m.Type, err)
	}
	if err := m.validateByType(); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrMalformed, m.Type, err)
	}
	return nil
}

func (m *Message) validateCommon() error {
	switch {
	case m.ChainID == "" || len(m.ChainID) > MaxChainIDBytes:
		return fmt.Errorf("chain id of %d bytes", len(m.ChainID))
	case m.From == (common.Address{}):
		return fmt.Errorf("no sender")
	case len(m.Sig) == 0 || len(m.Sig) > MaxSigBytes:
		return fmt.Errorf("signature of %d bytes", len(m.Sig))
	case m.Height == 0:
		return fmt.Errorf("height 0 is genesis")
	}
	return nil
}

func (m *Message) validateByType() error {
	switch m.Type {
	case MsgPrePrepare:
		return m.expect(true, true, false, false, false)
	case MsgPrepare, MsgCommit:
		return m.expect(true, false, false, false, false)
	case MsgViewChange:
		return m.validateViewChange()
	case MsgNewView:
		return m.validateNewView()
	case MsgCertificate:
		return m.validateCertificate()
	}
	return fmt.Errorf("unknown type")
}

// expect checks which optional fields are present.
func (m *Message) expect(hash, block, prepared, vcs, cert bool) error {
	switch {
	case hash != (m.Hash != common.Hash{}):
		return fmt.Errorf("hash presence must be %v", hash)
	case block != (len(m.Block) > 0):
		return fmt.Errorf("block presence must be %v", block)
	case prepared != (m.Prepared != nil):
		return fmt.Errorf("prepared certificate presence must be %v", prepared)
	case vcs != (len(m.ViewChanges) > 0):
		return fmt.Errorf("view changes presence must be %v", vcs)
	case cert != (m.Cert != nil):
		return fmt.Errorf("certificate presence must be %v", cert)
	}
	return nil
}

func (m *Message) validateViewChange() error {
	if m.View == 0 {
		return fmt.Errorf("view change to view 0")
	}
	if m.Prepared == nil {
		return m.expect(false, false, false, false, false)
	}
	if err := m.expect(false, len(m.Block) > 0, true, false, false); err != nil {
		return err
	}
	return validatePrepared(m.Prepared, m.View)
}

func (m *Message) validateNewView() error {
	if m.View == 0 {
		return fmt.Errorf("new-view for view 0")
	}
	hasHash := m.Hash != common.Hash{}
	if err := m.expect(hasHash, hasHash, false, true, false); err != nil {
		return err
	}
	if len(m.ViewChanges) > MaxValidators {
		return fmt.Errorf("%d view changes", len(m.ViewChanges))
	}
	for i := range m.ViewChanges {
		if err := validateEmbedded(&m.ViewChanges[i], m.View); err != nil {
			return fmt.Errorf("view change %d: %v", i, err)
		}
	}
	return nil
}

func validateEmbedded(vc *ViewChange, view uint64) error {
	if vc.From == (common.Address{}) || len(vc.Sig) == 0 || len(vc.Sig) > MaxSigBytes {
		return fmt.Errorf("no sender or bad signature length")
	}
	if vc.Prepared == nil {
		return nil
	}
	return validatePrepared(vc.Prepared, view)
}

// validatePrepared checks a prepared certificate carried towards view.
func validatePrepared(p *PreparedCert, view uint64) error {
	switch {
	case p.View >= view:
		return fmt.Errorf("prepared in view %d, not before %d", p.View, view)
	case p.Hash == common.Hash{}:
		return fmt.Errorf("prepared certificate without hash")
	}
	return validateVotes(p.Votes)
}

func validateVotes(votes []types.Vote) error {
	if len(votes) == 0 || len(votes) > MaxValidators {
		return fmt.Errorf("%d votes", len(votes))
	}
	for _, v := range votes {
		if len(v.Sig) == 0 || len(v.Sig) > MaxSigBytes {
			return fmt.Errorf("vote signature of %d bytes", len(v.Sig))
		}
	}
	return nil
}

func (m *Message) validateCertificate() error {
	if err := m.expect(true, false, false, false, true); err != nil {
		return err
	}
	c := m.Cert
	if c.ChainID != m.ChainID || c.Height != m.Height || c.Round != m.View || c.BlockHash != m.Hash {
		return fmt.Errorf("certificate does not match the message")
	}
	return validateVotes(c.Votes)
}
