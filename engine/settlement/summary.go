package settlement

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"sort"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/tallyhq/tally/engine/crypto"
)

// Errors a verifier tests for.
var (
	ErrMalformed  = errors.New("settlement: malformed encoding")
	ErrArithmetic = errors.New("settlement: entry arithmetic does not hold")
	ErrUnsorted   = errors.New("settlement: entries not sorted by (merchant, asset) or repeated")
)

// MaxEntries bounds one summary.
const MaxEntries = 10_000

// Entry is one (merchant, asset) line of an epoch: every field is in
// integer minor units, and Closing = Opening + Income + AllocIn - Payouts - SweepOut.
type Entry struct {
	Merchant    common.Address
	Asset       string
	Opening     *big.Int
	Income      *big.Int
	Payouts     *big.Int
	AllocIn     *big.Int
	SweepOut    *big.Int
	Closing     *big.Int
	PayCount    uint64
	PayoutCount uint64
	AllocCount  uint64
	SweepCount  uint64
}

// Check verifies the entry's arithmetic and that no amount is negative.
func (e *Entry) Check() error {
	for _, x := range []*big.Int{e.Opening, e.Income, e.Payouts, e.AllocIn, e.SweepOut, e.Closing} {
		if x == nil || x.Sign() < 0 || x.BitLen() > 256 {
			return fmt.Errorf("%w: %s/%s has a missing, negative or oversized amount", ErrArithmetic, e.Merchant.Hex(), e.Asset)
		}
	}
	want := new(big.Int).Add(e.Opening, e.Income)
	want.Add(want, e.AllocIn).Sub(want, e.Payouts).Sub(want, e.SweepOut)
	if want.Cmp(e.Closing) != 0 {
		return fmt.Errorf("%w: %s/%s opening %s + income %s + allocIn %s - payouts %s - sweepOut %s = %s, closing says %s",
			ErrArithmetic, e.Merchant.Hex(), e.Asset, e.Opening, e.Income, e.AllocIn, e.Payouts, e.SweepOut, want, e.Closing)
	}
	return nil
}

// Summary is one user chain's epoch: seq counts epochs from 1 with no gaps,
// PrevHash chains them, and the block range says which blocks it covers.
type Summary struct {
	ChainID    string
	Seq        uint64
	PrevHash   common.Hash
	FromHeight uint64
	ToHeight   uint64
	Entries    []Entry
	// AllocSeq is the highest allocation packet applied on the chain so far;
	// SweepSeq the highest sweep packet sent so far.
	AllocSeq uint64
	SweepSeq uint64
}

// Encode returns the canonical bytes.
func (s *Summary) Encode() []byte {
	b, err := rlp.EncodeToBytes(s)
	if err != nil {
		panic(err)
	}
	return b
}

// Hash is the source chain suite's hash of the canonical bytes.
func (s *Summary) Hash(suite crypto.Suite) common.Hash { return suite.Hash(s.Encode()) }

// DecodeSummary parses canonical bytes and checks the summary's own
// consistency: sorted unique entries, arithmetic, block range.
func DecodeSummary(b []byte) (*Summary, error) {
	s := new(Summary)
	if err := rlp.DecodeBytes(b, s); err != nil {
		return nil, fmt.Errorf("%w: summary: %v", ErrMalformed, err)
	}
	if !bytes.Equal(s.Encode(), b) {
		return nil, fmt.Errorf("%w: summary: non-canonical encoding", ErrMalformed)
	}
	return s, s.Check()
}

// Check verifies the summary's internal consistency.
func (s *Summary) Check() error {
	if s.Seq == 0 || s.FromHeight == 0 || s.ToHeight < s.FromHeight {
		return fmt.Errorf("%w: summary seq %d covers blocks %d..%d", ErrMalformed, s.Seq, s.FromHeight, s.ToHeight)
	}
	if len(s.Entries) == 0 || len(s.Entries) > MaxEntries {
		return fmt.Errorf("%w: summary with %d entries (1..%d)", ErrMalformed, len(s.Entries), MaxEntries)
	}
	for i := range s.Entries {
		if err := s.Entries[i].Check(); err != nil {
			return err
		}
		if i > 0 && !entryLess(&s.Entries[i-1], &s.Entries[i]) {
			return ErrUnsorted
		}
	}
	return nil
}

func entryLess(a, b *Entry) bool {
	if c := bytes.Compare(a.Merchant[:], b.Merchant[:]); c != 0 {
		return c < 0
	}
	return a.Asset < b.Asset
}

// SortEntries orders entries by (merchant, asset).
func SortEntries(es []Entry) {
	sort.Slice(es, func(i, j int) bool { return entryLess(&es[i], &es[j]) })
}

// Pair names one hot account's asset.
type Pair struct {
	Merchant common.Address
	Asset    string
}
