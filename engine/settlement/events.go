package settlement

import (
	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/exec"
)

// Fixed addresses of the settlement precompiles.
var (
	ShadowAddress    = common.HexToAddress("0x5002")
	HubAddress       = common.HexToAddress("0x5003")
	DirectoryAddress = common.HexToAddress("0x5004")
)

// Events that carry settlement objects. Their data is the ABI encoding of
// (bytes) holding the object's canonical RLP, so relays and light clients
// read them straight from proven receipts.
var (
	// EvEpochSettled is emitted by Shadow.settle: topic1 = seq.
	EvEpochSettled = exec.NewABIEvent("EpochSettled", exec.Args("uint64 seq", "bytes summary"), "seq")
	// EvPacketSent is emitted for every sweep (by Shadow) and allocation (by Hub): topic1 = seq.
	EvPacketSent = exec.NewABIEvent("PacketSent", exec.Args("uint64 seq", "bytes packet"), "seq")
	// EvPaid is emitted by Shadow.pay: topics merchant, payer.
	EvPaid = exec.NewABIEvent("Paid", exec.Args("address merchant", "address payer", "string asset", "uint256 amount", "bytes32 ref"), "merchant", "payer")
	// EvPaidOut is emitted by Shadow.payout: topics merchant, recipient.
	EvPaidOut = exec.NewABIEvent("PaidOut", exec.Args("address merchant", "address to", "string asset", "uint256 amount", "bytes32 ref"), "merchant", "to")
)

// EventBytes unpacks the (bytes) payload of an EpochSettled or PacketSent log.
func EventBytes(data []byte) ([]byte, error) {
	vals, err := EvPacketSent.Inputs.NonIndexed().Unpack(data)
	if err != nil || len(vals) != 1 {
		return nil, ErrMalformed
	}
	b, ok := vals[0].([]byte)
	if !ok {
		return nil, ErrMalformed
	}
	return b, nil
}

// EncodeEventBytes packs an object's canonical bytes as event data.
func EncodeEventBytes(obj []byte) []byte {
	out, err := EvPacketSent.Inputs.NonIndexed().Pack(obj)
	if err != nil {
		panic(err)
	}
	return out
}
