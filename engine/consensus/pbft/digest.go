package pbft

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/types"
)

// signDomain separates PBFT signatures from every other signed object.
// Commit votes are the exception: they sign types.CommitDigest so that a
// quorum of them is a types.Certificate as it stands.
const signDomain = "tally/pbft/v1"

// signedBody is what every non-commit message signs. Extra commits to the
// type-specific evidence (a view change's prepared certificate, a new-view's
// justification), so that evidence cannot be swapped under the signature.
type signedBody struct {
	Domain  string
	Type    MsgType
	ChainID string
	Height  uint64
	View    uint64
	Hash    common.Hash
	Extra   common.Hash
}

func bodyDigest(s crypto.Suite, b signedBody) common.Hash {
	b.Domain = signDomain
	enc, err := rlp.EncodeToBytes(&b)
	if err != nil {
		panic(fmt.Sprintf("pbft: encode signed body: %v", err))
	}
	return s.Hash(enc)
}

// PrepareDigest is what a prepare vote signs; prepared certificates carry
// these signatures.
func PrepareDigest(s crypto.Suite, chainID string, height, view uint64, hash common.Hash) common.Hash {
	return bodyDigest(s, signedBody{Type: MsgPrepare, ChainID: chainID, Height: height, View: view, Hash: hash})
}

// ViewChangeDigest is what a view change to view signs. A nil prepared
// certificate commits to the zero hash.
func ViewChangeDigest(s crypto.Suite, chainID string, height, view uint64, p *PreparedCert) common.Hash {
	return bodyDigest(s, signedBody{Type: MsgViewChange, ChainID: chainID, Height: height, View: view, Extra: preparedRef(s, p)})
}

// preparedRef names a prepared certificate by (view, hash); the votes prove
// it and need no second signature.
func preparedRef(s crypto.Suite, p *PreparedCert) common.Hash {
	if p == nil {
		return common.Hash{}
	}
	enc, _ := rlp.EncodeToBytes([]any{p.View, p.Hash})
	return s.Hash(enc)
}

// Digest is the hash m.From signs.
func (m *Message) Digest(s crypto.Suite) common.Hash {
	switch m.Type {
	case MsgCommit:
		return types.CommitDigest(s, m.ChainID, m.Height, m.View, m.Hash)
	case MsgPrepare:
		return PrepareDigest(s, m.ChainID, m.Height, m.View, m.Hash)
	case MsgViewChange:
		return ViewChangeDigest(s, m.ChainID, m.Height, m.View, m.Prepared)
	case MsgNewView:
		enc, _ := rlp.EncodeToBytes(m.ViewChanges)
		return bodyDigest(s, signedBody{Type: m.Type, ChainID: m.ChainID, Height: m.Height, View: m.View, Hash: m.Hash, Extra: s.Hash(enc)})
	}
	return bodyDigest(s, signedBody{Type: m.Type, ChainID: m.ChainID, Height: m.Height, View: m.View, Hash: m.Hash})
}
