package pbft

import (
	"bytes"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/tallyhq/tally/engine/types"
)

// HardState is everything this validator has promised at the height it is
// deciding. The node writes it to its WAL, durably, before it sends the
// messages of the same Ready; New restores from it. With it a restarted
// validator never signs two different votes for one (height, view), and never
// forgets a block it prepared (which a later view change must carry).
//
// It is small except for PreparedBlock, which holds one block after this
// validator prepared it.
type HardState struct {
	// Height is the height being decided: the last committed height + 1.
	Height uint64
	// View is the highest view entered or asked for at Height.
	View uint64
	// InView is false while a view change to View is under way.
	InView bool
	// Proposed, Prepare and Commit are the hashes this validator pre-prepared
	// (as leader), prepared and committed in View; zero if none.
	Proposed common.Hash
	Prepare  common.Hash
	Commit   common.Hash
	// Prepared is the highest prepared certificate at Height, nil if none.
	Prepared      *PreparedCert `rlp:"nil"`
	PreparedBlock []byte
}

// Encode returns the canonical bytes.
func (hs *HardState) Encode() []byte {
	b, err := rlp.EncodeToBytes(hs)
	if err != nil {
		panic(fmt.Sprintf("pbft: encode hard state: %v", err))
	}
	return b
}

// DecodeHardState parses canonical bytes written by Encode.
func DecodeHardState(b []byte) (*HardState, error) {
	if len(b) > MaxMessageBytes {
		return nil, fmt.Errorf("%w: hard state of %d bytes", ErrMalformed, len(b))
	}
	hs := new(HardState)
	if err := rlp.DecodeBytes(b, hs); err != nil {
		return nil, fmt.Errorf("%w: hard state: %v", ErrMalformed, err)
	}
	if !bytes.Equal(hs.Encode(), b) {
		return nil, fmt.Errorf("%w: hard state: non-canonical encoding", ErrMalformed)
	}
	return hs, nil
}

// Start is where New resumes: the node's durable chain head and its WAL.
type Start struct {
	// Height and Hash name the last block the node holds durably; Height 0
	// and the genesis hash for a new chain.
	Height uint64
	Hash   common.Hash
	// Cert is that block's certificate, if the node has one. With it the
	// machine can help lagging validators straight after a restart.
	Cert *types.Certificate
	// State is the last HardState written to the WAL; nil on first start.
	State *HardState
}
