package crypto

import (
	"errors"
	"fmt"
	"hash"

	"github.com/ethereum/go-ethereum/common"
)

// Suite names, as written in genesis files and key files.
const (
	SuiteSecp256k1 = "secp256k1"
	SuiteSM        = "sm"
)

// Errors callers test for.
var (
	ErrBadSignature = errors.New("crypto: bad signature")
	ErrBadPublicKey = errors.New("crypto: bad public key")
	ErrBadKey       = errors.New("crypto: bad private key")
	ErrUnknownSuite = errors.New("crypto: unknown suite")
)

// Suite is everything a chain needs from its cryptography. Every hash,
// signature and address in Tally goes through one Suite, picked at genesis.
//
// Digests are always 32 bytes. Sign and Verify work on a digest that the
// caller computed with Hash; the sm suite applies SM2's own Z_A preprocessing
// over that digest as its message, so signatures interoperate with other
// SM2 implementations using the default user id.
type Suite interface {
	// Name is SuiteSecp256k1 or SuiteSM.
	Name() string
	// Hash is Keccak-256 (secp256k1) or SM3 (sm) over the concatenation of data.
	Hash(data ...[]byte) common.Hash
	// NewHasher returns a streaming hasher for the same function as Hash.
	NewHasher() hash.Hash
	// GenerateKey makes a new private key from crypto/rand.
	GenerateKey() (PrivateKey, error)
	// PrivateKeyFromBytes parses the 32-byte scalar form from PrivateKey.Bytes.
	PrivateKeyFromBytes(b []byte) (PrivateKey, error)
	// Verify reports whether sig is pub's signature over digest. pub is in the
	// form PrivateKey.PublicKey returns.
	Verify(pub []byte, digest common.Hash, sig []byte) bool
	// Sender authenticates a transaction signature and returns the signer's
	// address. For secp256k1 pub must be empty and the key is recovered from
	// the 65-byte [R||S||V] signature; for sm pub is required (SM2 signatures
	// carry no recovery id in Tally's format).
	Sender(digest common.Hash, sig, pub []byte) (common.Address, error)
	// TxCarriesPubKey says whether transactions must carry the signer's public key.
	TxCarriesPubKey() bool
	// Address derives the account address of a public key: the last 20 bytes
	// of Hash(uncompressed point without the 0x04 prefix).
	Address(pub []byte) (common.Address, error)
}

// PrivateKey signs digests for one Suite.
type PrivateKey interface {
	Suite() Suite
	// Sign signs a 32-byte digest.
	Sign(digest common.Hash) ([]byte, error)
	// PublicKey is the 65-byte uncompressed point (0x04 || X || Y).
	PublicKey() []byte
	Address() common.Address
	// Bytes is the 32-byte big-endian private scalar.
	Bytes() []byte
}

// ByName returns the suite with the given name.
func ByName(name string) (Suite, error) {
	switch name {
	case SuiteSecp256k1:
		return Secp256k1(), nil
	case SuiteSM:
		return SM(), nil
	}
	return nil, fmt.Errorf("%w %q: use %q or %q", ErrUnknownSuite, name, SuiteSecp256k1, SuiteSM)
}
