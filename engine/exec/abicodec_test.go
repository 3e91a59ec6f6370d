package exec

import (
	"bytes"
	"fmt"
	"math/big"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"
)

// fastTypes have a hand-written codec; slowTypes go to go-ethereum's.
var (
	fastTypes = []string{"address", "bool", "uint8", "uint16", "uint32", "uint64", "uint256", "bytes32", "string", "bytes"}
	slowTypes = []string{"uint128", "int256", "int64", "bytes4", "address[]", "string[]", "uint256[2]"}
)

// randArgs picks an argument list; slow is the chance of a type the fast
// codec does not handle.
func randArgs(rng *rand.Rand, slow float64) abi.Arguments {
	var decls []string
	for i := rng.IntN(6); i > 0; i-- {
		t := fastTypes[rng.IntN(len(fastTypes))]
		if rng.Float64() < slow {
			t = slowTypes[rng.IntN(len(slowTypes))]
		}
		decls = append(decls, fmt.Sprintf("%s a%d", t, i))
	}
	return Args(decls...)
}

func randBig(rng *rand.Rand, bits int) *big.Int {
	switch rng.IntN(5) {
	case 0:
		return big.NewInt(0)
	case 1:
		return new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(bits)), big.NewInt(1))
	case 2:
		return big.NewInt(rng.Int64N(1000))
	}
	b := make([]byte, bits/8)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return new(big.Int).SetBytes(b[:rng.IntN(len(b)+1)])
}

func randBytes(rng *rand.Rand) []byte {
	b := make([]byte, []int{0, 1, 31, 32, 33, 64, 70}[rng.IntN(7)])
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// randValue is a value of t of the Go type Unpack gives for it.
func randValue(rng *rand.Rand, t abi.Type) any {
	switch t.String() {
	case "address":
		var a common.Address
		copy(a[:], randBytes(rng))
		a[rng.IntN(20)] = byte(rng.Uint32())
		return a
	case "bool":
		return rng.IntN(2) == 1
	case "uint8":
		return uint8(randBig(rng, 8).Uint64())
	case "uint16":
		return uint16(randBig(rng, 16).Uint64())
	case "uint32":
		return uint32(randBig(rng, 32).Uint64())
	case "uint64", "int64":
		if t.T == abi.IntTy {
			return int64(rng.Uint64())
		}
		return randBig(rng, 64).Uint64()
	case "uint256", "uint128":
		return randBig(rng, t.Size)
	case "int256":
		return new(big.Int).Sub(randBig(rng, 255), randBig(rng, 255))
	case "bytes32":
		var b [32]byte
		copy(b[:], randBytes(rng))
		return b
	case "bytes4":
		var b [4]byte
		copy(b[:], randBytes(rng))
		return b
	case "string":
		return string(randBytes(rng))
	case "bytes":
		return randBytes(rng)
	case "address[]":
		out := make([]common.Address, rng.IntN(3))
		for i := range out {
			out[i] = randValue(rng, *t.Elem).(common.Address)
		}
		return out
	case "string[]":
		out := make([]string, rng.IntN(3))
		for i := range out {
			out[i] = string(randBytes(rng))
		}
		return out
	case "uint256[2]":
		return [2]*big.Int{randBig(rng, 256), randBig(rng, 256)}
	}
	panic("no generator for " + t.String())
}

// mangle changes encoded data the way a hostile caller might.
func mangle(rng *rand.Rand, data []byte) []byte {
	d := append([]byte(nil), data...)
	switch rng.IntN(8) {
	case 0:
		if len(d) > 0 {
			d[rng.IntN(len(d))] ^= byte(1 + rng.IntN(255))
		}
	case 1:
		if len(d) > 0 {
			d = d[:rng.IntN(len(d))]
		}
	case 2:
		d = append(d, make([]byte, 1+rng.IntN(64))...)
	case 3:
		if len(d) >= 32 { // a word's low bytes: offsets, lengths, small values
			w := rng.IntN(len(d)/32) * 32
			d[w+31-rng.IntN(2)] += byte(1 + rng.IntN(40))
		}
	case 4:
		if len(d) >= 32 { // a word's high bytes: padding
			w := rng.IntN(len(d)/32) * 32
			d[w+rng.IntN(12)] = byte(1 + rng.IntN(255))
		}
	case 5:
		if len(d) > 0 { // drop the last byte of padding
			d = d[:len(d)-1]
		}
	case 7:
		if len(d) >= 32 { // just above a small integer type's range
			w := rng.IntN(len(d)/32) * 32
			d[w+24+rng.IntN(8)] = byte(rng.IntN(3))
		}
	case 6:
		if len(d) >= 64 { // swap two words
			a, b := rng.IntN(len(d)/32)*32, rng.IntN(len(d)/32)*32
			var tmp [32]byte
			copy(tmp[:], d[a:a+32])
			copy(d[a:a+32], d[b:b+32])
			copy(d[b:b+32], tmp[:])
		}
	}
	return d
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// checkDecode compares the fast decoder with the reference on data.
func checkDecode(t *testing.T, args abi.Arguments, data []byte) (accepted bool) {
	t.Helper()
	c := newArgCodec(args)
	want, wantErr := decodeCanonical(args, "m()", data)
	got, gotErr := c.decode("m()", data)
	if errString(gotErr) != errString(wantErr) || !reflect.DeepEqual(got, want) {
		t.Fatalf("args %v, data %x:\nfast %#v, %v\nref  %#v, %v", args, data, got, gotErr, want, wantErr)
	}
	if c.fast != nil {
		// The fast path must accept exactly the canonical encodings.
		if vals, ok := c.fast.decode(data); ok != (wantErr == nil) || ok && !reflect.DeepEqual(vals, want) {
			t.Fatalf("args %v, data %x: fast path ok=%v, reference error %v", args, data, ok, wantErr)
		}
	}
	return wantErr == nil
}

// TestFastDecodeMatchesReference is the differential test of the ABI
// decoder: on canonical and mangled encodings of random argument lists the
// fast path gives the values and errors of Unpack plus the re-Pack check.
func TestFastDecodeMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	rounds := 20000
	if testing.Short() {
		rounds = 2000
	}
	accepted, rejected := 0, 0
	for i := 0; i < rounds; i++ {
		args := randArgs(rng, 0.1)
		vals := make([]any, len(args))
		for j, a := range args {
			vals[j] = randValue(rng, a.Type)
		}
		data, err := args.Pack(vals...)
		if err != nil {
			t.Fatal(err)
		}
		if !checkDecode(t, args, data) {
			t.Fatalf("canonical encoding %x of %v rejected", data, args)
		}
		for k := 0; k < 4; k++ {
			if checkDecode(t, args, mangle(rng, data)) {
				accepted++
			} else {
				rejected++
			}
		}
	}
	if accepted == 0 || rejected == 0 {
		t.Fatalf("mangling is not exercising both verdicts: %d accepted, %d rejected", accepted, rejected)
	}
}

// TestFastEncodeMatchesPack checks the fast encoder against Pack, with
// values of the right Go types and of wrong ones (which must fall back and
// fail or succeed exactly as Pack does).
func TestFastEncodeMatchesPack(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	wrong := []any{int(5), uint(5), int64(-1), big.NewInt(-3), new(big.Int).Lsh(big.NewInt(1), 256), (*big.Int)(nil),
		"x", []byte("x"), [20]byte{1}, [32]byte{2}, true, uint64(1 << 40), uint8(3)}
	for i := 0; i < 20000; i++ {
		args := randArgs(rng, 0.1)
		vals := make([]any, len(args))
		for j, a := range args {
			vals[j] = randValue(rng, a.Type)
			if rng.IntN(20) == 0 {
				vals[j] = wrong[rng.IntN(len(wrong))]
			}
		}
		if rng.IntN(50) == 0 && len(vals) > 0 {
			vals = vals[:len(vals)-1]
		}
		want, wantPanic, wantErr := packCatching(func() ([]byte, error) { return args.Pack(vals...) })
		c := newArgCodec(args)
		got, gotPanic, gotErr := packCatching(func() ([]byte, error) { return c.pack(vals) })
		if !bytes.Equal(got, want) || (got == nil) != (want == nil) || errString(gotErr) != errString(wantErr) || gotPanic != wantPanic {
			t.Fatalf("args %v vals %#v:\nfast %x %v %q\nPack %x %v %q", args, vals, got, gotErr, gotPanic, want, wantErr, wantPanic)
		}
	}
}

func packCatching(f func() ([]byte, error)) (out []byte, panicked string, err error) {
	defer func() {
		if p := recover(); p != nil {
			panicked = fmt.Sprint(p)
		}
	}()
	out, err = f()
	return out, "", err
}

// fuzzArgLists are the argument lists FuzzDecodeArgs decodes against.
var fuzzArgLists = []abi.Arguments{
	Args("string asset", "address to", "uint256 amount"),
	Args("bool b", "bytes data", "uint8 small", "bytes32 h", "uint64 n"),
	Args("uint16 a", "uint32 b", "string s", "string t"),
	Args(),
}

// FuzzDecodeArgs feeds arbitrary call data to the fast and the reference
// decoder, which must agree.
func FuzzDecodeArgs(f *testing.F) {
	for i, args := range fuzzArgLists {
		rng := rand.New(rand.NewPCG(uint64(i), 1))
		vals := make([]any, len(args))
		for j, a := range args {
			vals[j] = randValue(rng, a.Type)
		}
		data, err := args.Pack(vals...)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(byte(i), data)
	}
	f.Fuzz(func(t *testing.T, which byte, data []byte) {
		checkDecode(t, fuzzArgLists[int(which)%len(fuzzArgLists)], data)
	})
}

func TestFastCodecCoversPrecompileTypes(t *testing.T) {
	for _, typ := range fastTypes {
		if newCodec(Args(typ+" x")) == nil {
			t.Errorf("%s has no fast codec", typ)
		}
	}
	for _, typ := range slowTypes {
		if newCodec(Args(typ+" x")) != nil {
			t.Errorf("%s has a fast codec", typ)
		}
	}
}

// TestEncoderTakesUint256 checks that a *uint256.Int packs as its *big.Int.
func TestEncoderTakesUint256(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	e := NewEncoder(Args("string asset", "uint256 amount", "uint256 b"))
	for i := 0; i < 2000; i++ {
		x, y := randBig(rng, 256), randBig(rng, 256)
		ux, _ := uint256.FromBig(x)
		want, err := e.c.args.Pack("CNY", x, y)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.Pack("CNY", ux, y)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%v: %x, want %x (%v)", x, got, want, err)
		}
	}
}

// TestIntrinsicGas checks the vectorised count against the byte loop.
func TestIntrinsicGas(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for i := 0; i < 2000; i++ {
		data := make([]byte, rng.IntN(300))
		for j := range data {
			if rng.IntN(3) > 0 {
				data[j] = byte(rng.IntN(256))
			}
		}
		want := TxGas
		for _, b := range data {
			if b == 0 {
				want += TxDataZeroGas
			} else {
				want += TxDataNonZeroGas
			}
		}
		if got := IntrinsicGas(data); got != want {
			t.Fatalf("%x: %d, want %d", data, got, want)
		}
	}
}
