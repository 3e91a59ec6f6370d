package exec

import (
	"bytes"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/tallyhq/tally/engine/types"
)

// Args declares ABI arguments from "type name" pairs, e.g.
// Args("string asset", "address to", "uint256 amount").
func Args(decls ...string) abi.Arguments {
	out := make(abi.Arguments, 0, len(decls))
	for _, d := range decls {
		typ, name, _ := strings.Cut(d, " ")
		t, err := abi.NewType(typ, "", nil)
		if err != nil {
			panic(fmt.Sprintf("exec: bad ABI type %q: %v", typ, err))
		}
		out = append(out, abi.Argument{Name: name, Type: t})
	}
	return out
}

// NewABIMethod builds an abi.Method; view marks it read-only.
func NewABIMethod(name string, view bool, in, out abi.Arguments) abi.Method {
	mut := "nonpayable"
	if view {
		mut = "view"
	}
	return abi.NewMethod(name, name, abi.Function, mut, view, false, in, out)
}

// NewABIEvent builds an abi.Event from arguments; indexed names are marked indexed.
func NewABIEvent(name string, args abi.Arguments, indexed ...string) abi.Event {
	for i := range args {
		for _, n := range indexed {
			if args[i].Name == n {
				args[i].Indexed = true
			}
		}
	}
	return abi.NewEvent(name, name, false, args)
}

// errorSelector is the selector of Solidity's Error(string).
var errorSelector = []byte{0x08, 0xc3, 0x79, 0xa0}

var stringArgs = Args("string reason")

// RevertData encodes reason as Solidity's Error(string), which Solidity
// callers and clients decode as a revert reason.
func RevertData(reason string) []byte {
	enc, err := stringArgs.Pack(reason)
	if err != nil {
		panic(err)
	}
	return append(append([]byte(nil), errorSelector...), enc...)
}

// RevertReason decodes Error(string) data; ok is false for other data.
func RevertReason(data []byte) (string, bool) {
	if len(data) < 4 || !bytes.Equal(data[:4], errorSelector) {
		return "", false
	}
	vals, err := stringArgs.Unpack(data[4:])
	if err != nil || len(vals) != 1 {
		return "", false
	}
	s, ok := vals[0].(string)
	return s, ok
}

// Amount converts an ABI uint256 argument.
func Amount(v any) *uint256.Int {
	x, overflow := uint256.FromBig(v.(*big.Int))
	if overflow {
		panic("exec: uint256 argument overflows") // impossible: the ABI type is uint256
	}
	return x
}

// Fail builds a Failure with a formatted message.
func Fail(status types.Status, format string, a ...any) *Failure {
	return &Failure{Status: status, Msg: fmt.Sprintf(format, a...)}
}

// Failure is a business-rule failure: the transaction gets a receipt with
// Status and the reason, and none of its writes.
type Failure struct {
	Status types.Status
	Msg    string
}

func (f *Failure) Error() string { return f.Status.String() + ": " + f.Msg }

// AddressArg converts an ABI address argument.
func AddressArg(v any) common.Address { return v.(common.Address) }
