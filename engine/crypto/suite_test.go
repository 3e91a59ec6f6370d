package crypto

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"math/big"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	gethcrypto "github.com/ethereum/go-ethereum/crypto"
)

// allSuites is the table every shared test runs over.
var allSuites = []Suite{Secp256k1(), SM()}

func forEachSuite(t *testing.T, fn func(t *testing.T, s Suite)) {
	for _, s := range allSuites {
		t.Run(s.Name(), func(t *testing.T) { fn(t, s) })
	}
}

// otherSuite returns the suite that is not s, for cross-suite negatives.
func otherSuite(s Suite) Suite {
	if s.Name() == SuiteSM {
		return Secp256k1()
	}
	return SM()
}

func mustKey(t testing.TB, s Suite) PrivateKey {
	t.Helper()
	k, err := s.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustSign(t testing.TB, k PrivateKey, d common.Hash) []byte {
	t.Helper()
	sig, err := k.Sign(d)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// txPub is the public key a transaction would carry under s.
func txPub(s Suite, k PrivateKey) []byte {
	if s.TxCarriesPubKey() {
		return k.PublicKey()
	}
	return nil
}

func TestByName(t *testing.T) {
	for _, name := range []string{SuiteSecp256k1, SuiteSM} {
		s, err := ByName(name)
		if err != nil || s.Name() != name {
			t.Errorf("ByName(%q) = %v, %v", name, s, err)
		}
	}
	if _, err := ByName("ed25519"); !errors.Is(err, ErrUnknownSuite) {
		t.Errorf("ByName(ed25519) error = %v, want ErrUnknownSuite", err)
	}
}

func TestTxCarriesPubKey(t *testing.T) {
	if Secp256k1().TxCarriesPubKey() {
		t.Error("secp256k1 recovers the key; transactions must not carry it")
	}
	if !SM().TxCarriesPubKey() {
		t.Error("sm cannot recover the key; transactions must carry it")
	}
}

func TestSignVerifySender(t *testing.T) {
	forEachSuite(t, func(t *testing.T, s Suite) {
		k := mustKey(t, s)
		if k.Suite().Name() != s.Name() {
			t.Fatalf("key suite %q", k.Suite().Name())
		}
		d := s.Hash([]byte("transfer 10 to bob"))
		sig := mustSign(t, k, d)
		if !s.Verify(k.PublicKey(), d, sig) {
			t.Fatal("Verify rejected a fresh signature")
		}
		got, err := s.Sender(d, sig, txPub(s, k))
		if err != nil || got != k.Address() {
			t.Fatalf("Sender = %s, %v; want %s", got.Hex(), err, k.Address().Hex())
		}
		addr, err := s.Address(k.PublicKey())
		if err != nil || addr != k.Address() {
			t.Fatalf("Address = %s, %v; want %s", addr.Hex(), err, k.Address().Hex())
		}
	})
}

// TestAddressIsHashTail pins the address rule from the interface doc with an
// independent computation through NewHasher.
func TestAddressIsHashTail(t *testing.T) {
	forEachSuite(t, func(t *testing.T, s Suite) {
		k := mustKey(t, s)
		h := s.NewHasher()
		h.Write(k.PublicKey()[1:])
		want := common.BytesToAddress(h.Sum(nil)[12:])
		if k.Address() != want {
			t.Fatalf("address %s, want %s", k.Address().Hex(), want.Hex())
		}
	})
}

// forgery is one way of damaging a valid (pub, digest, sig) triple. pubOnly
// marks damage to the key alone, which secp256k1's Sender never sees.
type forgery struct {
	name    string
	pubOnly bool
	mutate  func(s Suite, pub []byte, d common.Hash, sig []byte) ([]byte, common.Hash, []byte)
}

func flipBit(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i%len(c)] ^= 0x01
	return c
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

var forgeries = []forgery{
	{"tampered digest", false, func(_ Suite, p []byte, d common.Hash, sig []byte) ([]byte, common.Hash, []byte) {
		d[31] ^= 1
		return p, d, sig
	}},
	{"tampered sig first byte", false, func(_ Suite, p []byte, d common.Hash, sig []byte) ([]byte, common.Hash, []byte) {
		return p, d, flipBit(sig, 0)
	}},
	{"tampered sig middle", false, func(_ Suite, p []byte, d common.Hash, sig []byte) ([]byte, common.Hash, []byte) {
		return p, d, flipBit(sig, len(sig)/2)
	}},
	{"tampered sig s", false, func(_ Suite, p []byte, d common.Hash, sig []byte) ([]byte, common.Hash, []byte) {
		return p, d, flipBit(sig, len(sig)-3)
	}},
	// Cutting one byte off a secp256k1 signature leaves the valid bare
	// [R||S] form, so cut two.
	{"truncated sig", false, func(_ Suite, p []byte, d common.Hash, sig []byte) ([]byte, common.Hash, []byte) {
		return p, d, sig[:len(sig)-2]
	}},
	{"half sig", false, func(_ Suite, p []byte, d common.Hash, sig []byte) ([]byte, common.Hash, []byte) {
		return p, d, sig[:len(sig)/2]
	}},
	{"extended sig", false, func(_ Suite, p []byte, d common.Hash, sig []byte) ([]byte, common.Hash, []byte) {
		return p, d, append(bytes.Clone(sig), 0)
	}},
	{"empty sig", false, func(_ Suite, p []byte, d common.Hash, _ []byte) ([]byte, common.Hash, []byte) {
		return p, d, nil
	}},
	{"garbage sig", false, func(_ Suite, p []byte, d common.Hash, sig []byte) ([]byte, common.Hash, []byte) {
		return p, d, randomBytes(len(sig))
	}},
	{"zero sig", false, func(_ Suite, p []byte, d common.Hash, sig []byte) ([]byte, common.Hash, []byte) {
		return p, d, make([]byte, len(sig))
	}},
	{"other key", true, func(s Suite, _ []byte, d common.Hash, sig []byte) ([]byte, common.Hash, []byte) {
		k, _ := s.GenerateKey()
		return k.PublicKey(), d, sig
	}},
	{"off-curve pub", true, func(_ Suite, p []byte, d common.Hash, sig []byte) ([]byte, common.Hash, []byte) {
		return flipBit(p, 64), d, sig
	}},
	{"other suite's pub", true, func(s Suite, _ []byte, d common.Hash, sig []byte) ([]byte, common.Hash, []byte) {
		k, _ := otherSuite(s).GenerateKey()
		return k.PublicKey(), d, sig
	}},
	{"hybrid pub", true, func(_ Suite, p []byte, d common.Hash, sig []byte) ([]byte, common.Hash, []byte) {
		c := bytes.Clone(p)
		c[0] = 0x06 | p[64]&1 // X9.62 hybrid form, which libsecp256k1 parses
		return c, d, sig
	}},
	{"empty pub", true, func(_ Suite, _ []byte, d common.Hash, sig []byte) ([]byte, common.Hash, []byte) {
		return nil, d, sig
	}},
	{"garbage pub", true, func(_ Suite, _ []byte, d common.Hash, sig []byte) ([]byte, common.Hash, []byte) {
		return append([]byte{4}, randomBytes(64)...), d, sig
	}},
}

// TestForgeriesRejected checks that Verify says false and that Sender fails or
// names someone else, for every damaged triple and for both suites.
func TestForgeriesRejected(t *testing.T) {
	forEachSuite(t, func(t *testing.T, s Suite) {
		k := mustKey(t, s)
		d := s.Hash([]byte("pay"))
		sig := mustSign(t, k, d)
		for _, f := range forgeries {
			pub, d2, sig2 := f.mutate(s, k.PublicKey(), d, sig)
			if s.Verify(pub, d2, sig2) {
				t.Errorf("%s: Verify accepted", f.name)
			}
			if !s.TxCarriesPubKey() {
				if f.pubOnly {
					continue
				}
				pub = nil // secp256k1 Sender only sees the signature
			}
			if got, err := s.Sender(d2, sig2, pub); err == nil && got == k.Address() {
				t.Errorf("%s: Sender attributed a forgery to the signer", f.name)
			}
		}
	})
}

func TestSecpSenderRejectsPub(t *testing.T) {
	s := Secp256k1()
	k := mustKey(t, s)
	d := s.Hash([]byte("x"))
	_, err := s.Sender(d, mustSign(t, k, d), k.PublicKey())
	if !errors.Is(err, ErrBadPublicKey) {
		t.Fatalf("err = %v, want ErrBadPublicKey", err)
	}
}

func TestSMSenderRequiresPub(t *testing.T) {
	s := SM()
	k := mustKey(t, s)
	d := s.Hash([]byte("x"))
	_, err := s.Sender(d, mustSign(t, k, d), nil)
	if !errors.Is(err, ErrBadPublicKey) {
		t.Fatalf("err = %v, want ErrBadPublicKey", err)
	}
}

// TestSecpMalleability: (r, N-s, v^1) is a second valid ECDSA signature of
// the same digest by the same key. Sender and Verify must refuse it, or one
// transaction would have two encodings.
func TestSecpMalleability(t *testing.T) {
	s := Secp256k1()
	k := mustKey(t, s)
	d := s.Hash([]byte("once"))
	sig := mustSign(t, k, d)
	n := gethcrypto.S256().Params().N
	highS := new(big.Int).Sub(n, new(big.Int).SetBytes(sig[32:64]))
	twin := bytes.Clone(sig)
	highS.FillBytes(twin[32:64])
	twin[64] ^= 1
	if pub, err := gethcrypto.Ecrecover(d[:], twin); err != nil || !bytes.Equal(pub, k.PublicKey()) {
		t.Fatalf("test premise: raw ecrecover should accept the twin (%v)", err)
	}
	if _, err := s.Sender(d, twin, nil); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Sender(high-S twin) err = %v, want ErrBadSignature", err)
	}
	if s.Verify(k.PublicKey(), d, twin) {
		t.Error("Verify accepted a high-S signature")
	}
}

func TestSecpRecoveryID(t *testing.T) {
	s := Secp256k1()
	k := mustKey(t, s)
	d := s.Hash([]byte("v"))
	sig := mustSign(t, k, d)
	if !s.Verify(k.PublicKey(), d, sig[:64]) {
		t.Error("Verify should accept a bare 64-byte [R||S]")
	}
	legacy := bytes.Clone(sig)
	legacy[64] += 27 // Ethereum's pre-EIP-155 V
	if _, err := s.Sender(d, legacy, nil); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Sender(v+27) err = %v, want ErrBadSignature", err)
	}
	if s.Verify(k.PublicKey(), d, legacy) {
		t.Error("Verify accepted v+27")
	}
	flipped := bytes.Clone(sig)
	flipped[64] ^= 1
	if got, err := s.Sender(d, flipped, nil); err == nil && got == k.Address() {
		t.Error("the wrong recovery id still recovered the signer")
	}
}

func TestPrivateKeyRoundTrip(t *testing.T) {
	forEachSuite(t, func(t *testing.T, s Suite) {
		k := mustKey(t, s)
		b := k.Bytes()
		if len(b) != 32 {
			t.Fatalf("Bytes is %d bytes", len(b))
		}
		k2, err := s.PrivateKeyFromBytes(b)
		if err != nil {
			t.Fatal(err)
		}
		if k2.Address() != k.Address() || !bytes.Equal(k2.PublicKey(), k.PublicKey()) {
			t.Fatal("parsed key differs from the original")
		}
		d := s.Hash([]byte("again"))
		if !s.Verify(k.PublicKey(), d, mustSign(t, k2, d)) {
			t.Fatal("parsed key's signature does not verify under the original key")
		}
	})
}

// TestSmallScalarPadding: Bytes must keep leading zeros, or the round trip
// through 32-byte storage breaks for about one key in 256.
func TestSmallScalarPadding(t *testing.T) {
	forEachSuite(t, func(t *testing.T, s Suite) {
		one := make([]byte, 32)
		one[31] = 1
		k, err := s.PrivateKeyFromBytes(one)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(k.Bytes(), one) {
			t.Fatalf("Bytes = %x", k.Bytes())
		}
	})
}

// TestSecpKnownAddress: private key 1 has the generator as its public key and
// a well-known Ethereum address.
func TestSecpKnownAddress(t *testing.T) {
	one := make([]byte, 32)
	one[31] = 1
	k, err := Secp256k1().PrivateKeyFromBytes(one)
	if err != nil {
		t.Fatal(err)
	}
	want := common.HexToAddress("0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf")
	if k.Address() != want {
		t.Fatalf("address %s, want %s", k.Address().Hex(), want.Hex())
	}
}

func TestPrivateKeyFromBytesRejects(t *testing.T) {
	orders := map[string]*big.Int{
		SuiteSecp256k1: gethcrypto.S256().Params().N,
		SuiteSM:        smN(),
	}
	forEachSuite(t, func(t *testing.T, s Suite) {
		n := orders[s.Name()]
		cases := map[string][]byte{
			"nil":     nil,
			"31 byte": make([]byte, 31),
			"33 byte": append([]byte{0}, bytes.Repeat([]byte{1}, 32)...),
			"zero":    make([]byte, 32),
			"N":       n.FillBytes(make([]byte, 32)),
			"N+1":     new(big.Int).Add(n, big.NewInt(1)).FillBytes(make([]byte, 32)),
			"all ff":  bytes.Repeat([]byte{0xff}, 32),
		}
		for name, b := range cases {
			if _, err := s.PrivateKeyFromBytes(b); !errors.Is(err, ErrBadKey) {
				t.Errorf("%s: err = %v, want ErrBadKey", name, err)
			}
		}
		nMinus2 := new(big.Int).Sub(n, big.NewInt(2)).FillBytes(make([]byte, 32))
		if _, err := s.PrivateKeyFromBytes(nMinus2); err != nil {
			t.Errorf("N-2 is a valid key in both suites: %v", err)
		}
	})
}

func TestPublicKeyIsCopy(t *testing.T) {
	forEachSuite(t, func(t *testing.T, s Suite) {
		k := mustKey(t, s)
		p := k.PublicKey()
		if len(p) != 65 || p[0] != 4 {
			t.Fatalf("public key %x is not uncompressed", p)
		}
		p[1] ^= 0xff
		if bytes.Equal(k.PublicKey(), p) {
			t.Fatal("PublicKey exposes the cached slice")
		}
	})
}

func TestAddressRejects(t *testing.T) {
	forEachSuite(t, func(t *testing.T, s Suite) {
		k := mustKey(t, s)
		bad := map[string][]byte{
			"empty":      nil,
			"compressed": k.PublicKey()[:33],
			"no prefix":  k.PublicKey()[1:],
			"off curve":  flipBit(k.PublicKey(), 64),
			"infinity":   append([]byte{4}, make([]byte, 64)...),
			"other":      mustKey(t, otherSuite(s)).PublicKey(),
		}
		for name, pub := range bad {
			if _, err := s.Address(pub); !errors.Is(err, ErrBadPublicKey) {
				t.Errorf("%s: err = %v, want ErrBadPublicKey", name, err)
			}
		}
	})
}

func TestHashKnownAnswers(t *testing.T) {
	cases := []struct {
		s    Suite
		in   string
		want string
	}{
		{Secp256k1(), "", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"},
		{Secp256k1(), "abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"},
		{SM(), "abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"},
		{SM(), "abcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd",
			"debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"},
	}
	for _, c := range cases {
		want := common.BytesToHash(mustHex(t, c.want))
		if got := c.s.Hash([]byte(c.in)); got != want {
			t.Errorf("%s(%q) = %x, want %x", c.s.Name(), c.in, got, want)
		}
		if got := c.s.Hash(); c.in == "" && got != want {
			t.Errorf("%s() with no arguments = %x, want %x", c.s.Name(), got, want)
		}
	}
}

// TestHashConsistency: multi-part, single-part, streaming and repeated calls
// (which exercise the pooled states) must all agree.
func TestHashConsistency(t *testing.T) {
	forEachSuite(t, func(t *testing.T, s Suite) {
		msg := randomBytes(200)
		whole := s.Hash(msg)
		for i := 0; i < 3; i++ {
			if s.Hash(msg) != whole {
				t.Fatal("Hash is not deterministic")
			}
			if s.Hash(msg[:7], nil, msg[7:150], msg[150:]) != whole {
				t.Fatal("multi-part Hash differs from the whole")
			}
		}
		h := s.NewHasher()
		h.Write(msg[:100])
		h.Write(msg[100:])
		if common.BytesToHash(h.Sum(nil)) != whole {
			t.Fatal("NewHasher differs from Hash")
		}
		if s.Hash(msg[1:]) == whole {
			t.Fatal("different input, same hash")
		}
	})
}

// TestConcurrentUse runs signing, recovery and hashing from many goroutines;
// under -race it checks the pools and cached keys are safe to share.
func TestConcurrentUse(t *testing.T) {
	forEachSuite(t, func(t *testing.T, s Suite) {
		k := mustKey(t, s)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for g := 0; g < 8; g++ {
			wg.Go(func() {
				d := s.Hash([]byte{byte(g)}, []byte("concurrent"))
				sig, err := k.Sign(d)
				if err == nil {
					var got common.Address
					got, err = s.Sender(d, sig, txPub(s, k))
					if err == nil && got != k.Address() {
						err = errors.New("wrong sender")
					}
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}
