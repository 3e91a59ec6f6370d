package types

import (
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
)

var errMissingHeader = fmt.Errorf("%w: block without header", ErrMalformed)

// Status is a receipt's outcome. 0 is success; every failure has its own
// code so that clients can act on it without parsing messages.
type Status uint64

// Receipt status codes. Keep the numbers stable: they are in receipts and hashes.
const (
	StatusOK                  Status = 0
	StatusReverted            Status = 1 // EVM REVERT or a precompile's business rule
	StatusOutOfGas            Status = 2
	StatusBadInput            Status = 3 // malformed ABI call data
	StatusUnknownMethod       Status = 4
	StatusPermissionDenied    Status = 5 // caller lacks the role
	StatusInsufficientBalance Status = 6
	StatusOverflow            Status = 7
	StatusInvalidArgument     Status = 8
	StatusNoContract          Status = 9  // call to an address with no code and no precompile
	StatusEVMError            Status = 10 // other EVM failures (invalid opcode, stack, depth)
	StatusAlreadyExists       Status = 11
	StatusNotFound            Status = 12
)

var statusNames = map[Status]string{
	StatusOK: "ok", StatusReverted: "reverted", StatusOutOfGas: "out of gas", StatusBadInput: "bad input",
	StatusUnknownMethod: "unknown method", StatusPermissionDenied: "permission denied",
	StatusInsufficientBalance: "insufficient balance", StatusOverflow: "overflow",
	StatusInvalidArgument: "invalid argument", StatusNoContract: "no contract at address",
	StatusEVMError: "evm error", StatusAlreadyExists: "already exists", StatusNotFound: "not found",
}

func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("status(%d)", uint64(s))
}

// Log is an event emitted by a contract or a precompile.
type Log struct {
	Address common.Address
	Topics  []common.Hash
	Data    []byte
}

// Receipt is the outcome of one transaction. Receipts are leaves of the
// header's ReceiptRoot, so a receipt plus a Merkle branch plus a certified
// header proves that a transaction ran with this outcome.
type Receipt struct {
	TxHash  common.Hash
	Status  Status
	GasUsed uint64
	// Output is the return data, or the revert data (Solidity Error(string)) on failure.
	Output []byte
	Logs   []*Log
	// ContractAddress is set when the transaction created a contract.
	ContractAddress common.Address
}

// Encode returns the canonical bytes.
func (r *Receipt) Encode() []byte { return encode(r) }

// DecodeReceipt parses canonical receipt bytes.
func DecodeReceipt(b []byte) (*Receipt, error) {
	r := new(Receipt)
	if err := decodeCanonical("receipt", b, r); err != nil {
		return nil, err
	}
	return r, nil
}

// EncodeReceipts encodes a block's receipts canonically.
func EncodeReceipts(rs []*Receipt) []byte { return encode(rs) }

// DecodeReceipts parses a canonical receipt list.
func DecodeReceipts(b []byte) ([]*Receipt, error) {
	var rs []*Receipt
	if err := decodeCanonical("receipt list", b, &rs); err != nil {
		return nil, err
	}
	return rs, nil
}

// ErrReverted is returned by clients when a receipt's status is not OK.
var ErrReverted = errors.New("transaction failed")
