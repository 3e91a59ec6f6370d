package crypto

import (
	"crypto/ecdsa"
	"hash"
	"math/big"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	gethcrypto "github.com/ethereum/go-ethereum/crypto"
)

// secpSigLen is the [R || S || V] signature length; V is the recovery id 0 or 1.
const secpSigLen = gethcrypto.SignatureLength

type secpSuite struct{}

// Secp256k1 returns the Ethereum-compatible suite: Keccak-256, ECDSA over
// secp256k1 through go-ethereum's cgo binding to libsecp256k1, and signer
// recovery from the signature so transactions need not carry a public key.
func Secp256k1() Suite { return secpSuite{} }

func (secpSuite) Name() string          { return SuiteSecp256k1 }
func (secpSuite) TxCarriesPubKey() bool { return false }

// keccakBuf pairs a pooled Keccak state with its output buffer: reading into
// a field of a pooled object, rather than into the returned array, saves the
// heap allocation that passing a local to the interface method would cost.
type keccakBuf struct {
	st  gethcrypto.KeccakState
	out common.Hash
}

var keccakPool = sync.Pool{New: func() any {
	return &keccakBuf{st: gethcrypto.NewKeccakState()}
}}

// Hash uses Read rather than Sum, which would copy the sponge state.
func (secpSuite) Hash(data ...[]byte) common.Hash {
	k := keccakPool.Get().(*keccakBuf)
	k.st.Reset()
	for _, b := range data {
		k.st.Write(b)
	}
	k.st.Read(k.out[:])
	h := k.out
	keccakPool.Put(k)
	return h
}

func (secpSuite) NewHasher() hash.Hash { return gethcrypto.NewKeccakState() }

func (secpSuite) GenerateKey() (PrivateKey, error) {
	k, err := gethcrypto.GenerateKey()
	if err != nil {
		return nil, err
	}
	return newSecpKey(k), nil
}

// PrivateKeyFromBytes relies on ToECDSA's strict mode, which rejects zero,
// values >= N and any length other than 32.
func (secpSuite) PrivateKeyFromBytes(b []byte) (PrivateKey, error) {
	if err := checkScalar(b); err != nil {
		return nil, err
	}
	k, err := gethcrypto.ToECDSA(b)
	if err != nil {
		return nil, errorf(ErrBadKey, "secp256k1: %v", err)
	}
	return newSecpKey(k), nil
}

// Verify accepts the 65-byte form Sign produces as well as a bare [R || S].
// libsecp256k1 itself rejects high-S signatures and points not on the curve.
func (secpSuite) Verify(pub []byte, digest common.Hash, sig []byte) bool {
	if !isUncompressed(pub) {
		return false
	}
	switch {
	case len(sig) == secpSigLen && sig[64] <= 1:
	case len(sig) == secpSigLen-1:
	default:
		return false
	}
	return gethcrypto.VerifySignature(pub, digest[:], sig[:64])
}

// Sender recovers the signer. ValidateSignatureValues runs first because
// ecrecover alone would accept high-S twins of every signature, giving one
// transaction two valid encodings.
func (s secpSuite) Sender(digest common.Hash, sig, pub []byte) (common.Address, error) {
	if len(pub) != 0 {
		return common.Address{}, errorf(ErrBadPublicKey, "secp256k1 recovers the key, pub must be empty")
	}
	if len(sig) != secpSigLen {
		return common.Address{}, errorf(ErrBadSignature, "want %d bytes, got %d", secpSigLen, len(sig))
	}
	r, sv := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:64])
	if !gethcrypto.ValidateSignatureValues(sig[64], r, sv, true) {
		return common.Address{}, errorf(ErrBadSignature, "r, s or v out of range")
	}
	recovered, err := gethcrypto.Ecrecover(digest[:], sig)
	if err != nil {
		return common.Address{}, errorf(ErrBadSignature, "%v", err)
	}
	return addressFromHash(s, recovered), nil
}

// Address checks that pub is a point on the curve: an address derived from
// garbage would be an account nobody can ever sign for.
func (s secpSuite) Address(pub []byte) (common.Address, error) {
	if !isUncompressed(pub) {
		return common.Address{}, errorf(ErrBadPublicKey, "want 65-byte uncompressed point")
	}
	if _, err := gethcrypto.UnmarshalPubkey(pub); err != nil {
		return common.Address{}, errorf(ErrBadPublicKey, "%v", err)
	}
	return addressFromHash(s, pub), nil
}

// secpKey caches the public key and address, which every signer asks for
// and which cost a hash each to derive.
type secpKey struct {
	priv *ecdsa.PrivateKey
	pub  []byte
	addr common.Address
}

func newSecpKey(k *ecdsa.PrivateKey) *secpKey {
	pub := marshalPoint(k.X, k.Y)
	return &secpKey{priv: k, pub: pub, addr: addressFromHash(secpSuite{}, pub)}
}

func (k *secpKey) Suite() Suite            { return secpSuite{} }
func (k *secpKey) Address() common.Address { return k.addr }
func (k *secpKey) Bytes() []byte           { return gethcrypto.FromECDSA(k.priv) }

// PublicKey returns a copy so callers cannot corrupt the cached key.
func (k *secpKey) PublicKey() []byte { return append([]byte(nil), k.pub...) }

func (k *secpKey) Sign(digest common.Hash) ([]byte, error) {
	return gethcrypto.Sign(digest[:], k.priv)
}
