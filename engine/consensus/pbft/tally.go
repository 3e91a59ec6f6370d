package pbft

import (
	"sort"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/types"
)

type vote struct {
	hash common.Hash
	sig  []byte
}

// tally holds at most one vote per validator for one (height, view, phase).
// A second vote from the same validator is equivocation and is ignored, so a
// Byzantine validator counts at most once.
type tally []*vote

// add records validator i's vote and reports whether it was its first.
func (t tally) add(i int, hash common.Hash, sig []byte) bool {
	if t[i] != nil {
		return false
	}
	t[i] = &vote{hash: hash, sig: sig}
	return true
}

func (t tally) count(hash common.Hash) int {
	n := 0
	for _, v := range t {
		if v != nil && v.hash == hash {
			n++
		}
	}
	return n
}

// votes returns the signatures for hash in validator order, so that every
// certificate built from the same tally is byte-identical.
func (t tally) votes(vs *types.ValidatorSet, hash common.Hash) []types.Vote {
	var out []types.Vote
	for i, v := range t {
		if v != nil && v.hash == hash {
			out = append(out, types.Vote{Signer: vs.Validators[i].Address, Sig: v.sig})
		}
	}
	return out
}

// voters returns the addresses that voted for hash.
func (t tally) voters(vs *types.ValidatorSet, hash common.Hash) []common.Address {
	var out []common.Address
	for _, v := range t.votes(vs, hash) {
		out = append(out, v.Signer)
	}
	return out
}

// byView keeps one tally per view.
type byView map[uint64]tally

func (b byView) get(view uint64, n int) tally {
	t, ok := b[view]
	if !ok {
		t = make(tally, n)
		b[view] = t
	}
	return t
}

// views returns the views in ascending order; iteration order must never
// depend on Go's map order, or replays would diverge.
func (b byView) views() []uint64 {
	out := make([]uint64, 0, len(b))
	for v := range b {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// dropBelow forgets views older than view.
func (b byView) dropBelow(view uint64) {
	for v := range b {
		if v < view {
			delete(b, v)
		}
	}
}
