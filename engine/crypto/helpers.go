package crypto

import (
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
)

// pubKeyLen is the length of an uncompressed point on either 256-bit curve:
// 0x04 || X || Y.
const pubKeyLen = 65

// isUncompressed checks only the encoding. Both suites accept a single public
// key form so that a key, and therefore an address, has exactly one spelling.
func isUncompressed(pub []byte) bool {
	return len(pub) == pubKeyLen && pub[0] == 0x04
}

// marshalPoint encodes affine coordinates as 0x04 || X || Y, each coordinate
// left-padded to 32 bytes.
func marshalPoint(x, y *big.Int) []byte {
	out := make([]byte, pubKeyLen)
	out[0] = 0x04
	x.FillBytes(out[1:33])
	y.FillBytes(out[33:65])
	return out
}

// addressFromHash takes the last 20 bytes of the hash of the point without its
// prefix, as Ethereum does; the caller has already validated pub.
func addressFromHash(s Suite, pub []byte) common.Address {
	h := s.Hash(pub[1:])
	return common.BytesToAddress(h[12:])
}

// checkScalar rejects keys that are not exactly 32 bytes before the curve
// library sees them, so both suites report the same error for the same mistake.
func checkScalar(b []byte) error {
	if len(b) != 32 {
		return errorf(ErrBadKey, "want 32 bytes, got %d", len(b))
	}
	return nil
}

// errorf wraps a sentinel error with detail, keeping errors.Is working for
// callers that test for the sentinel.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}
