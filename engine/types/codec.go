package types

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/rlp"
)

// ErrMalformed wraps every canonical-decoding failure.
var ErrMalformed = errors.New("malformed encoding")

// MaxDecodeBytes bounds any single object the decoders accept (a block).
const MaxDecodeBytes = 64 << 20

// encode is rlp.EncodeToBytes for values that cannot fail to encode.
func encode(v any) []byte {
	b, err := rlp.EncodeToBytes(v)
	if err != nil {
		panic(fmt.Sprintf("types: encode %T: %v", v, err))
	}
	return b
}

// decodeCanonical decodes b into v and rejects any input whose re-encoding
// differs, so that every object has exactly one accepted byte form.
func decodeCanonical(what string, b []byte, v any) error {
	if len(b) > MaxDecodeBytes {
		return fmt.Errorf("%w: %s of %d bytes exceeds %d", ErrMalformed, what, len(b), MaxDecodeBytes)
	}
	if err := rlp.DecodeBytes(b, v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrMalformed, what, err)
	}
	if re := encode(v); !bytes.Equal(re, b) {
		return fmt.Errorf("%w: %s: non-canonical encoding", ErrMalformed, what)
	}
	return nil
}
