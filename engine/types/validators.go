package types

import (
	"bytes"
	"errors"
	"fmt"
	"sort"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/crypto"
)

// Validator is a member of a chain's validator set.
type Validator struct {
	Address common.Address
	// PubKey is the 65-byte uncompressed public key; certificates are checked against it.
	PubKey []byte
}

// ValidatorSet is an ordered (by address) set of validators.
type ValidatorSet struct {
	Validators []Validator
}

// NewValidatorSet sorts vals by address and rejects duplicates, bad keys and
// keys that do not match their address.
func NewValidatorSet(s crypto.Suite, vals []Validator) (*ValidatorSet, error) {
	if len(vals) == 0 {
		return nil, errors.New("validator set is empty")
	}
	vs := &ValidatorSet{Validators: append([]Validator(nil), vals...)}
	sort.Slice(vs.Validators, func(i, j int) bool {
		return bytes.Compare(vs.Validators[i].Address[:], vs.Validators[j].Address[:]) < 0
	})
	for i, v := range vs.Validators {
		addr, err := s.Address(v.PubKey)
		if err != nil {
			return nil, fmt.Errorf("validator %s: %w", v.Address, err)
		}
		if addr != v.Address {
			return nil, fmt.Errorf("validator %s: public key belongs to %s", v.Address, addr)
		}
		if i > 0 && vs.Validators[i-1].Address == v.Address {
			return nil, fmt.Errorf("validator %s listed twice", v.Address)
		}
	}
	return vs, nil
}

// Len is the number of validators.
func (vs *ValidatorSet) Len() int { return len(vs.Validators) }

// Index returns the position of addr, or -1.
func (vs *ValidatorSet) Index(addr common.Address) int {
	i := sort.Search(len(vs.Validators), func(i int) bool {
		return bytes.Compare(vs.Validators[i].Address[:], addr[:]) >= 0
	})
	if i < len(vs.Validators) && vs.Validators[i].Address == addr {
		return i
	}
	return -1
}

// Contains reports whether addr is a member.
func (vs *ValidatorSet) Contains(addr common.Address) bool { return vs.Index(addr) >= 0 }

// Encode returns the canonical bytes.
func (vs *ValidatorSet) Encode() []byte { return encode(vs) }

// Hash is the suite hash of the canonical bytes; headers commit to it.
func (vs *ValidatorSet) Hash(s crypto.Suite) common.Hash { return s.Hash(vs.Encode()) }

// DecodeValidatorSet parses canonical bytes and checks the set as NewValidatorSet does.
func DecodeValidatorSet(s crypto.Suite, b []byte) (*ValidatorSet, error) {
	vs := new(ValidatorSet)
	if err := decodeCanonical("validator set", b, vs); err != nil {
		return nil, err
	}
	checked, err := NewValidatorSet(s, vs.Validators)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(checked.Encode(), b) {
		return nil, fmt.Errorf("%w: validator set not sorted by address", ErrMalformed)
	}
	return checked, nil
}
