// Package proof holds the standalone light-client checks that relays, the
// hub and user chains use: a receipt or transaction included in a block,
// and that block final under a trusted validator set. Everything is
// recomputed from bytes; nothing a prover claims is taken on trust.
package proof

import (
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/rlp"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/merkle"
	"github.com/tallyhq/tally/engine/types"
)

// ErrSize is returned when a proof's tree size is not the header's TxCount.
var ErrSize = errors.New("proof: tree size differs from the header's transaction count")

// Receipt is a receipt with what proves it: a Merkle branch to the header's
// receipt root, the header, and the header's finality certificate.
type Receipt struct {
	Receipt     []byte // canonical receipt bytes
	Branch      *merkle.Proof
	Header      []byte // canonical header bytes
	Certificate []byte // canonical certificate bytes
}

// Encode returns canonical bytes.
func (r *Receipt) Encode() []byte {
	b, err := rlp.EncodeToBytes(r)
	if err != nil {
		panic(err)
	}
	return b
}

// DecodeReceipt parses canonical bytes.
func DecodeReceipt(b []byte) (*Receipt, error) {
	r := new(Receipt)
	if err := rlp.DecodeBytes(b, r); err != nil {
		return nil, fmt.Errorf("proof: malformed receipt proof: %w", err)
	}
	if r.Branch == nil {
		return nil, errors.New("proof: receipt proof without a branch")
	}
	return r, nil
}

// VerifyReceiptInHeader checks that receipt bytes sit at branch.Index of h's
// receipt tree and returns the decoded receipt. It does not check finality.
func VerifyReceiptInHeader(s crypto.Suite, h *types.Header, receipt []byte, branch *merkle.Proof) (*types.Receipt, error) {
	if branch == nil || branch.Size != h.TxCount {
		return nil, ErrSize
	}
	if err := merkle.VerifyInclusion(s.Hash, h.ReceiptRoot, receipt, branch); err != nil {
		return nil, err
	}
	return types.DecodeReceipt(receipt)
}

// VerifyTxInHeader checks that tx bytes sit at branch.Index of h's transaction tree.
func VerifyTxInHeader(s crypto.Suite, h *types.Header, tx []byte, branch *merkle.Proof) (*types.Tx, error) {
	if branch == nil || branch.Size != h.TxCount {
		return nil, ErrSize
	}
	if err := merkle.VerifyInclusion(s.Hash, h.TxRoot, tx, branch); err != nil {
		return nil, err
	}
	return types.DecodeTx(tx)
}

// VerifyReceipt is the full light-client check: the header is final under
// the trusted set vs (rule), and the receipt is in it. It returns the
// decoded header and receipt.
func VerifyReceipt(s crypto.Suite, vs *types.ValidatorSet, rule types.QuorumRule, p *Receipt) (*types.Header, *types.Receipt, error) {
	h, err := types.DecodeHeader(p.Header)
	if err != nil {
		return nil, nil, err
	}
	cert, err := types.DecodeCertificate(p.Certificate)
	if err != nil {
		return nil, nil, err
	}
	if err := types.VerifyCertificate(s, vs, rule, h, cert); err != nil {
		return nil, nil, err
	}
	r, err := VerifyReceiptInHeader(s, h, p.Receipt, p.Branch)
	if err != nil {
		return nil, nil, err
	}
	return h, r, nil
}
