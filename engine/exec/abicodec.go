package exec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math/big"
	"math/bits"
	"sync/atomic"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"
)

// The hand-written ABI codec below is the fast twin of go-ethereum's
// reflective abi.Arguments.Unpack and Pack for argument lists made only of
// address, bool, uint8/16/32/64/256, bytes32, string and bytes. It gives the
// same values and the same bytes, and it refuses nothing: whenever it is not
// certain (an error, a value of an unexpected Go type, any other ABI type) it
// says so and the caller runs the reflective codec, so every error and panic
// comes from go-ethereum as before. abicodec_test.go checks the two against
// each other on random and mangled inputs.

// wordKind is an ABI type the fast codec handles.
type wordKind uint8

const (
	kAddress wordKind = iota + 1
	kBool
	kUint8
	kUint16
	kUint32
	kUint64
	kUint256
	kBytes32
	kString // dynamic
	kBytes  // dynamic
)

// codec is the fast codec of one argument list; nil when some argument
// needs the reflective codec.
type codec struct {
	kinds []wordKind
}

// newCodec returns the fast codec of args, or nil.
func newCodec(args abi.Arguments) *codec {
	c := &codec{kinds: make([]wordKind, len(args))}
	for i, a := range args {
		if a.Indexed {
			return nil // Unpack skips indexed arguments, Pack does not
		}
		t := a.Type
		switch {
		case t.T == abi.AddressTy:
			c.kinds[i] = kAddress
		case t.T == abi.BoolTy:
			c.kinds[i] = kBool
		case t.T == abi.UintTy && t.Size == 8:
			c.kinds[i] = kUint8
		case t.T == abi.UintTy && t.Size == 16:
			c.kinds[i] = kUint16
		case t.T == abi.UintTy && t.Size == 32:
			c.kinds[i] = kUint32
		case t.T == abi.UintTy && t.Size == 64:
			c.kinds[i] = kUint64
		case t.T == abi.UintTy && t.Size == 256:
			c.kinds[i] = kUint256
		case t.T == abi.FixedBytesTy && t.Size == 32:
			c.kinds[i] = kBytes32
		case t.T == abi.StringTy:
			c.kinds[i] = kString
		case t.T == abi.BytesTy:
			c.kinds[i] = kBytes
		default:
			return nil
		}
	}
	return c
}

// zero reports whether b is all zero bytes.
func zero(b []byte) bool {
	for len(b) >= 8 {
		if binary.BigEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// smallWord reads a word that must hold a value below 2^64.
func smallWord(w []byte) (uint64, bool) {
	if !zero(w[:24]) {
		return 0, false
	}
	return binary.BigEndian.Uint64(w[24:]), true
}

// decode returns the values of data when data is the canonical encoding of
// some values, exactly as Unpack would decode them. ok is false when data is
// not canonical or when the fast codec cannot tell; the caller then decodes
// with go-ethereum, which gives the verdict and the error.
func (c *codec) decode(data []byte) (vals []any, ok bool) {
	n := len(c.kinds)
	if len(data) == 0 {
		if n == 0 {
			return make([]any, 0), true
		}
		return nil, false
	}
	head := 32 * n
	if len(data) < head {
		return nil, false
	}
	vals = make([]any, n)
	next := head // where the next dynamic value must start
	for i, k := range c.kinds {
		w := data[32*i : 32*i+32]
		switch k {
		case kAddress:
			if !zero(w[:12]) {
				return nil, false
			}
			vals[i] = common.BytesToAddress(w)
		case kBool:
			if !zero(w[:31]) || w[31] > 1 {
				return nil, false
			}
			vals[i] = w[31] == 1
		case kUint8, kUint16, kUint32, kUint64:
			x, small := smallWord(w)
			if !small {
				return nil, false
			}
			switch k {
			case kUint8:
				if x > 0xff {
					return nil, false
				}
				vals[i] = uint8(x)
			case kUint16:
				if x > 0xffff {
					return nil, false
				}
				vals[i] = uint16(x)
			case kUint32:
				if x > 0xffffffff {
					return nil, false
				}
				vals[i] = uint32(x)
			default:
				vals[i] = x
			}
		case kUint256:
			vals[i] = newBig(w)
		case kBytes32:
			vals[i] = [32]byte(w)
		case kString, kBytes:
			off, small := smallWord(w)
			if !small || off != uint64(next) || len(data)-next < 32 {
				return nil, false
			}
			l, small := smallWord(data[next : next+32])
			rest := uint64(len(data) - next - 32)
			if !small || l > rest {
				return nil, false
			}
			padded := (l + 31) / 32 * 32
			if padded > rest {
				return nil, false
			}
			start := next + 32
			end := start + int(l)
			if !zero(data[end : start+int(padded)]) {
				return nil, false
			}
			if k == kString {
				vals[i] = internString(data[start:end])
			} else {
				vals[i] = data[start:end] // as Unpack: a window on the input
			}
			next = start + int(padded)
		}
	}
	if next != len(data) {
		return nil, false
	}
	return vals, true
}

// newBig returns the integer in w, as new(big.Int).SetBytes(w) but in one
// allocation: the words live beside the big.Int.
func newBig(w []byte) *big.Int {
	b := new(struct {
		i big.Int
		w [32 / (bits.UintSize / 8)]big.Word
	})
	b.i.SetBits(b.w[:0])
	return b.i.SetBytes(w)
}

// interned holds the boxed values of recently decoded short strings, which
// calls repeat (asset codes, role names): decoding one again allocates
// nothing. Strings are immutable, so calls may share them; the table is
// direct-mapped and small, so it is bounded whatever the calls.
var (
	interned   [256]atomic.Pointer[internedString]
	internSeed = maphash.MakeSeed()
)

type internedString struct {
	s string
	v any // s, boxed
}

// internString returns string(b) as an any, shared with earlier calls when
// it is one of the recent short strings.
func internString(b []byte) any {
	if len(b) > 32 {
		return string(b)
	}
	slot := &interned[maphash.Bytes(internSeed, b)%uint64(len(interned))]
	if e := slot.Load(); e != nil && e.s == string(b) {
		return e.v
	}
	e := &internedString{s: string(b)}
	e.v = e.s
	slot.Store(e)
	return e.v
}

// maxUint256Bits is the bit length above which Pack would wrap a *big.Int.
const maxUint256Bits = 256

// encode packs vals as Pack would; ok is false when a value is not of the
// exact Go type Unpack produces for its ABI type (or is out of range), and
// the caller then packs with go-ethereum.
func (c *codec) encode(vals []any) (out []byte, ok bool) {
	n := len(c.kinds)
	if len(vals) != n {
		return nil, false
	}
	if n == 0 {
		return nil, true // Pack of nothing is nil
	}
	size := 32 * n
	for i, k := range c.kinds {
		switch k {
		case kString:
			s, ok := vals[i].(string)
			if !ok {
				return nil, false
			}
			size += 32 + (len(s)+31)/32*32
		case kBytes:
			b, ok := vals[i].([]byte)
			if !ok {
				return nil, false
			}
			size += 32 + (len(b)+31)/32*32
		}
	}
	out = make([]byte, size)
	next := 32 * n
	for i, k := range c.kinds {
		w := out[32*i : 32*i+32]
		switch k {
		case kAddress:
			a, ok := vals[i].(common.Address)
			if !ok {
				return nil, false
			}
			copy(w[12:], a[:])
		case kBool:
			b, ok := vals[i].(bool)
			if !ok {
				return nil, false
			}
			if b {
				w[31] = 1
			}
		case kUint8:
			x, ok := vals[i].(uint8)
			if !ok {
				return nil, false
			}
			w[31] = x
		case kUint16:
			x, ok := vals[i].(uint16)
			if !ok {
				return nil, false
			}
			binary.BigEndian.PutUint16(w[30:], x)
		case kUint32:
			x, ok := vals[i].(uint32)
			if !ok {
				return nil, false
			}
			binary.BigEndian.PutUint32(w[28:], x)
		case kUint64:
			x, ok := vals[i].(uint64)
			if !ok {
				return nil, false
			}
			binary.BigEndian.PutUint64(w[24:], x)
		case kUint256:
			switch x := vals[i].(type) {
			case *big.Int:
				if x == nil || x.Sign() < 0 || x.BitLen() > maxUint256Bits {
					return nil, false
				}
				x.FillBytes(w)
			case *uint256.Int: // what Pack would write for x.ToBig()
				if x == nil {
					return nil, false
				}
				x.PutUint256(w)
			default:
				return nil, false
			}
		case kBytes32:
			x, ok := vals[i].([32]byte)
			if !ok {
				return nil, false
			}
			copy(w, x[:])
		case kString, kBytes:
			var l int
			if k == kString {
				s := vals[i].(string)
				l = copy(out[next+32:], s)
			} else {
				l = copy(out[next+32:], vals[i].([]byte))
			}
			binary.BigEndian.PutUint64(w[24:], uint64(next))
			binary.BigEndian.PutUint64(out[next+24:next+32], uint64(l))
			next += 32 + (l+31)/32*32
		}
	}
	return out, true
}

// argCodec decodes and encodes one argument list: the fast codec when it
// applies, go-ethereum's otherwise.
type argCodec struct {
	args abi.Arguments
	fast *codec
}

func newArgCodec(args abi.Arguments) argCodec {
	return argCodec{args: args, fast: newCodec(args)}
}

// decode unpacks data and rejects any input that is not the canonical ABI
// encoding of the values it decodes to (trailing bytes, dirty padding), so
// one call has one byte form and one set of conflict keys.
func (a *argCodec) decode(sig string, data []byte) ([]any, error) {
	if a.fast != nil {
		if vals, ok := a.fast.decode(data); ok {
			return vals, nil
		}
	}
	return decodeCanonical(a.args, sig, data)
}

// pack encodes vals, byte for byte as abi.Arguments.Pack.
func (a *argCodec) pack(vals []any) ([]byte, error) {
	if a.fast != nil {
		if out, ok := a.fast.encode(vals); ok {
			return out, nil
		}
	}
	return a.args.Pack(vals...)
}

// decodeCanonical is the reference decoder: go-ethereum's Unpack, then a
// re-Pack that must give data back.
func decodeCanonical(args abi.Arguments, sig string, data []byte) ([]any, error) {
	vals, err := args.Unpack(data)
	if err != nil {
		return nil, err
	}
	re, err := args.Pack(vals...)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(re, data) {
		return nil, fmt.Errorf("non-canonical ABI encoding for %s", sig)
	}
	return vals, nil
}

// Encoder packs values of one argument list (say an event's non-indexed
// fields) byte for byte as abi.Arguments.Pack, without reflection when the
// types allow. For a uint256 it also takes a *uint256.Int x, packed as Pack
// packs x.ToBig().
type Encoder struct{ c argCodec }

// NewEncoder returns the encoder of args.
func NewEncoder(args abi.Arguments) *Encoder { return &Encoder{c: newArgCodec(args)} }

// Pack encodes vals.
func (e *Encoder) Pack(vals ...any) ([]byte, error) { return e.c.pack(vals) }
