package crypto

import (
	"crypto/ecdsa"
	"crypto/rand"
	"hash"
	"sync"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/ethereum/go-ethereum/common"
)

type smSuite struct{}

// SM returns the Chinese national-standard suite: SM3 hashes and SM2
// signatures (GB/T 32918.2) in ASN.1 DER, through emmansun/gmsm. SM2 has no
// recovery id in Tally's format, so transactions carry the public key.
func SM() Suite { return smSuite{} }

func (smSuite) Name() string          { return SuiteSM }
func (smSuite) TxCarriesPubKey() bool { return true }

// sm3Buf pairs a pooled SM3 state with its output buffer, for the same
// reason as keccakBuf: no allocation per Hash call beyond the caller's.
type sm3Buf struct {
	st  hash.Hash
	out common.Hash
}

var sm3Pool = sync.Pool{New: func() any { return &sm3Buf{st: sm3.New()} }}

func (smSuite) Hash(data ...[]byte) common.Hash {
	k := sm3Pool.Get().(*sm3Buf)
	k.st.Reset()
	for _, b := range data {
		k.st.Write(b)
	}
	k.st.Sum(k.out[:0])
	h := k.out
	sm3Pool.Put(k)
	return h
}

func (smSuite) NewHasher() hash.Hash { return sm3.New() }

func (smSuite) GenerateKey() (PrivateKey, error) {
	k, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return newSMKey(k), nil
}

// PrivateKeyFromBytes rejects zero and values >= N-1: GB/T 32918.1 limits SM2
// keys to [1, N-2] because signing inverts d+1.
func (smSuite) PrivateKeyFromBytes(b []byte) (PrivateKey, error) {
	if err := checkScalar(b); err != nil {
		return nil, err
	}
	k, err := sm2.NewPrivateKey(b)
	if err != nil {
		return nil, errorf(ErrBadKey, "sm2: %v", err)
	}
	return newSMKey(k), nil
}

func (smSuite) Verify(pub []byte, digest common.Hash, sig []byte) bool {
	p, err := parseSMPub(pub)
	if err != nil {
		return false
	}
	return smVerify(p, digest, sig)
}

// Sender verifies against the key the transaction carries; the address is
// derived from that key, so a forged key cannot claim someone else's account.
func (s smSuite) Sender(digest common.Hash, sig, pub []byte) (common.Address, error) {
	p, err := parseSMPub(pub)
	if err != nil {
		return common.Address{}, err
	}
	if !smVerify(p, digest, sig) {
		return common.Address{}, ErrBadSignature
	}
	return addressFromHash(s, pub), nil
}

func (s smSuite) Address(pub []byte) (common.Address, error) {
	if _, err := parseSMPub(pub); err != nil {
		return common.Address{}, err
	}
	return addressFromHash(s, pub), nil
}

// parseSMPub accepts only the uncompressed form and lets gmsm check that the
// point is on the curve and not the identity.
func parseSMPub(pub []byte) (*ecdsa.PublicKey, error) {
	if !isUncompressed(pub) {
		return nil, errorf(ErrBadPublicKey, "want 65-byte uncompressed point")
	}
	p, err := sm2.NewPublicKey(pub)
	if err != nil {
		return nil, errorf(ErrBadPublicKey, "sm2: %v", err)
	}
	return p, nil
}

// smVerify treats the 32-byte digest as the SM2 message: e = SM3(Z_A || digest)
// with the default user id, which is what other SM2 libraries do by default.
func smVerify(p *ecdsa.PublicKey, digest common.Hash, sig []byte) bool {
	return sm2.VerifyASN1WithSM2(p, nil, digest[:], sig)
}

// smKey caches the encoded public key and the address, as secpKey does.
type smKey struct {
	priv *sm2.PrivateKey
	pub  []byte
	addr common.Address
}

func newSMKey(k *sm2.PrivateKey) *smKey {
	pub := marshalPoint(k.X, k.Y)
	return &smKey{priv: k, pub: pub, addr: addressFromHash(smSuite{}, pub)}
}

func (k *smKey) Suite() Suite            { return smSuite{} }
func (k *smKey) Address() common.Address { return k.addr }
func (k *smKey) Bytes() []byte           { return k.priv.D.FillBytes(make([]byte, 32)) }
func (k *smKey) PublicKey() []byte       { return append([]byte(nil), k.pub...) }

// Sign uses crypto/rand; gmsm hedges the nonce with the key and message, so a
// weak RNG does not leak the key.
func (k *smKey) Sign(digest common.Hash) ([]byte, error) {
	return sm2.SignASN1(rand.Reader, k.priv, digest[:], sm2.DefaultSM2SignerOpts)
}
