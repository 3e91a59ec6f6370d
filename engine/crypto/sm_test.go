package crypto

import (
	"crypto/rand"
	"math/big"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/ethereum/go-ethereum/common"
	tjsm2 "github.com/tjfoc/gmsm/sm2"
)

func smN() *big.Int { return sm2.P256().Params().N }

// tjfocPub converts our 65-byte key into tjfoc's type.
func tjfocPub(pub []byte) *tjsm2.PublicKey {
	return &tjsm2.PublicKey{
		Curve: tjsm2.P256Sm2(),
		X:     new(big.Int).SetBytes(pub[1:33]),
		Y:     new(big.Int).SetBytes(pub[33:65]),
	}
}

// TestSMInteropToTjfoc: tjfoc/gmsm, an independent SM2 implementation, must
// accept our signatures with its default user id and the digest as message.
func TestSMInteropToTjfoc(t *testing.T) {
	s := SM()
	k := mustKey(t, s)
	d := s.Hash([]byte("interop"))
	sig := mustSign(t, k, d)
	pub := tjfocPub(k.PublicKey())

	r, sv, err := tjsm2.SignDataToSignDigit(sig)
	if err != nil {
		t.Fatalf("tjfoc cannot parse our DER: %v", err)
	}
	if !tjsm2.Sm2Verify(pub, d[:], nil, r, sv) {
		t.Fatal("tjfoc Sm2Verify rejected our signature")
	}
	if !pub.Verify(d[:], sig) {
		t.Fatal("tjfoc PublicKey.Verify rejected our signature")
	}
	other := s.Hash([]byte("other"))
	if tjsm2.Sm2Verify(pub, other[:], nil, r, sv) {
		t.Fatal("tjfoc accepted our signature for another digest")
	}
}

// TestSMInteropFromTjfoc: we must accept tjfoc's signatures, made both with
// Sm2Sign and with its crypto.Signer method, and derive the same key from
// its private scalar.
func TestSMInteropFromTjfoc(t *testing.T) {
	s := SM()
	tk, err := tjsm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub := marshalPoint(tk.X, tk.Y)
	d := s.Hash([]byte("from tjfoc"))

	r, sv, err := tjsm2.Sm2Sign(tk, d[:], nil, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := tjsm2.SignDigitToSignData(r, sv)
	if err != nil {
		t.Fatal(err)
	}
	signerDER, err := tk.Sign(rand.Reader, d[:], nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.Address(pub)
	if err != nil {
		t.Fatal(err)
	}
	for name, sig := range map[string][]byte{"Sm2Sign": der, "Sign": signerDER} {
		if !s.Verify(pub, d, sig) {
			t.Errorf("%s: Verify rejected tjfoc's signature", name)
		}
		if got, err := s.Sender(d, sig, pub); err != nil || got != want {
			t.Errorf("%s: Sender = %s, %v", name, got.Hex(), err)
		}
		if s.Verify(pub, common.Hash{1}, sig) {
			t.Errorf("%s: Verify accepted tjfoc's signature for another digest", name)
		}
	}

	ours, err := s.PrivateKeyFromBytes(tk.D.FillBytes(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	if ours.Address() != want {
		t.Fatal("the same scalar gives a different public key in the two libraries")
	}
}

// TestSMSignaturesAreDER checks the wire form other SM2 tools expect: an
// ASN.1 SEQUENCE of two INTEGERs, at most 72 bytes.
func TestSMSignaturesAreDER(t *testing.T) {
	s := SM()
	k := mustKey(t, s)
	for i := 0; i < 20; i++ {
		sig := mustSign(t, k, s.Hash([]byte{byte(i)}))
		if sig[0] != 0x30 || int(sig[1]) != len(sig)-2 || len(sig) > 72 {
			t.Fatalf("signature %x is not a short DER SEQUENCE", sig)
		}
	}
}

// TestSMRandomizedSignatures: SM2 signing must use a fresh nonce; two
// signatures of one digest differ yet both verify.
func TestSMRandomizedSignatures(t *testing.T) {
	s := SM()
	k := mustKey(t, s)
	d := s.Hash([]byte("twice"))
	a, b := mustSign(t, k, d), mustSign(t, k, d)
	if string(a) == string(b) {
		t.Fatal("two signatures of one digest are identical")
	}
	if !s.Verify(k.PublicKey(), d, a) || !s.Verify(k.PublicKey(), d, b) {
		t.Fatal("a randomized signature did not verify")
	}
}
