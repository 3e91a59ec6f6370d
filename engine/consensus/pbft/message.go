package pbft

import (
	"bytes"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/tallyhq/tally/engine/types"
)

// MsgType says which phase a Message belongs to.
type MsgType uint8

// Message types. The numbers are part of the canonical encoding: never reuse one.
const (
	MsgPrePrepare  MsgType = 1 // leader's proposal: Hash + Block
	MsgPrepare     MsgType = 2 // vote: Hash only
	MsgCommit      MsgType = 3 // vote: Hash only; Sig is over types.CommitDigest
	MsgViewChange  MsgType = 4 // "move to View", carrying the sender's highest Prepared
	MsgNewView     MsgType = 5 // leader of View: ViewChanges justify entering it
	MsgCertificate MsgType = 6 // a finality certificate, sent to help laggards
)

var msgTypeNames = map[MsgType]string{
	MsgPrePrepare: "PrePrepare", MsgPrepare: "Prepare", MsgCommit: "Commit",
	MsgViewChange: "ViewChange", MsgNewView: "NewView", MsgCertificate: "Certificate",
}

func (t MsgType) String() string {
	if s, ok := msgTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("MsgType(%d)", uint8(t))
}

// Size limits enforced by DecodeMessage and ValidateBasic. They bound memory
// before a message reaches the state machine; Config adds tighter, per-chain ones.
const (
	// MaxMessageBytes bounds an encoded message: the largest block plus room
	// for a new-view's evidence.
	MaxMessageBytes = types.MaxDecodeBytes + 4<<20
	// MaxValidators bounds every list of votes or view changes.
	MaxValidators = 1024
	// MaxSigBytes covers 65-byte secp256k1 and DER-encoded SM2 signatures.
	MaxSigBytes = 160
	// MaxChainIDBytes bounds the chain id string.
	MaxChainIDBytes = 128
)

// PreparedCert proves that a block was prepared at (height, View): a quorum of
// validators signed prepares for Hash. The height is that of the enclosing message.
type PreparedCert struct {
	View  uint64
	Hash  common.Hash
	Votes []types.Vote // signatures over PrepareDigest, one per distinct validator
}

// ViewChange is a view-change message as embedded, without its block, in a
// new-view. From signed ViewChangeDigest(height, view, Prepared).
type ViewChange struct {
	From     common.Address
	Prepared *PreparedCert `rlp:"nil"`
	Sig      []byte
}

// Message is every consensus message. One flat struct keeps the encoding
// simple; ValidateBasic says which fields each type may use.
//
// Block is never covered by a signature: it is bound to the signed Hash (the
// header hash), which only the application can check. That lets a new-view
// embed view changes without their blocks and still verify them.
type Message struct {
	Type    MsgType
	ChainID string
	Height  uint64
	View    uint64
	From    common.Address
	// Hash is the block hash proposed or voted for; zero for a view change
	// and for a new-view that re-proposes nothing.
	Hash common.Hash
	// Block is the proposal's opaque bytes (pre-prepare, new-view) or the
	// sender's prepared block (view change).
	Block       []byte
	Prepared    *PreparedCert      `rlp:"nil"` // view change only
	ViewChanges []ViewChange       // new-view only: its justification
	Cert        *types.Certificate `rlp:"nil"` // certificate only
	Sig         []byte
}

// Encode returns the canonical bytes.
func (m *Message) Encode() []byte {
	b, err := rlp.EncodeToBytes(m)
	if err != nil {
		panic(fmt.Sprintf("pbft: encode message: %v", err)) // only unencodable Go types fail
	}
	return b
}

// DecodeMessage parses canonical message bytes and checks their shape with
// ValidateBasic. It does not check signatures: call VerifyMessage.
func DecodeMessage(b []byte) (*Message, error) {
	if len(b) > MaxMessageBytes {
		return nil, fmt.Errorf("%w: %d bytes exceeds %d", ErrMalformed, len(b), MaxMessageBytes)
	}
	m := new(Message)
	if err := rlp.DecodeBytes(b, m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if !bytes.Equal(m.Encode(), b) {
		return nil, fmt.Errorf("%w: non-canonical encoding", ErrMalformed)
	}
	if err := m.ValidateBasic(); err != nil {
		return nil, err
	}
	return m, nil
}

// Copy returns a deep copy, so that a caller may keep or change it.
func (m *Message) Copy() *Message {
	c, err := DecodeMessage(m.Encode())
	if err != nil {
		cp := *m // a malformed message is copied shallowly; it is rejected anyway
		return &cp
	}
	return c
}

func (m *Message) String() string {
	return fmt.Sprintf("%s{h=%d v=%d from=%x hash=%x}", m.Type, m.Height, m.View, m.From[:4], m.Hash[:4])
}
