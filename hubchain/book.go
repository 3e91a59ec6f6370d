package hubchain

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/holiman/uint256"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/settlement"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/types"
)

// Booking errors, as receipt reasons.
var (
	ErrSeqGap      = errors.New("summary seq gap")
	ErrPrevHash    = errors.New("summary prevHash does not chain to the last booked summary")
	ErrBlockRange  = errors.New("summary block range does not continue the last booked one")
	ErrOpening     = errors.New("entry opening differs from the last booked closing")
	ErrAllocations = errors.New("allocIn disagrees with the allocations the hub sent")
	ErrSweeps      = errors.New("sweepOut disagrees with the sweeps the hub received")
)

// Statement is what the hub keeps of one booked epoch, for reconciliation.
type Statement struct {
	Summary     []byte // canonical summary bytes, as proven
	SummaryHash common.Hash
	BlockHash   common.Hash // the user-chain block holding the settle transaction
	BookedAt    uint64      // hub height
}

func reject(err error, format string, a ...any) error {
	return exec.Fail(types.StatusInvalidArgument, "%v: %s", err, fmt.Sprintf(format, a...))
}

// book verifies a summary bundle and books it, or changes nothing.
func book(env *exec.Env, a []any) ([]any, error) {
	raw := a[0].([]byte)
	chain, c, err := bundleClient(env.State, raw)
	if err != nil {
		return nil, err
	}
	s, hash, h, err := c.VerifySummary(raw)
	if err != nil {
		return nil, exec.Fail(types.StatusInvalidArgument, "summary proof: %v", err)
	}
	last := getSeq(env.State, chainKey("seq", chain))
	if s.Seq <= last {
		return []any{StatusDuplicate}, nil // another relay got there first
	}
	if err := checkOrder(env.State, chain, s, last); err != nil {
		return nil, err
	}
	if err := env.Gas.Use(uint64(len(s.Entries)) * GasPerEntry); err != nil {
		return nil, err
	}
	if err := checkEntries(env.State, chain, s); err != nil {
		return nil, err
	}
	apply(env, chain, s, hash)
	// DecodeSummary accepted only the canonical bytes, so re-encoding gives
	// the proven bytes; the hash was computed once, over those bytes.
	st := &Statement{Summary: s.Encode(), SummaryHash: hash, BlockHash: h.Hash(mustSuite(c)), BookedAt: env.Block.Height}
	enc, _ := rlp.EncodeToBytes(st)
	env.State.Set([]byte(seqKey("stmt", chain, s.Seq)), enc)
	data, _ := evBooked.Inputs.NonIndexed().Pack(chain, hash)
	env.Emit(Address, evBooked, []common.Hash{common.BigToHash(new(big.Int).SetUint64(s.Seq))}, data)
	return []any{StatusBooked}, nil
}

func mustSuite(c *settlement.Client) crypto.Suite {
	s, _, err := c.Set()
	if err != nil {
		panic(err) // the client verified a bundle a moment ago
	}
	return s
}

// checkOrder enforces seq, prevHash and block-range continuity.
func checkOrder(r state.Reader, chain string, s *settlement.Summary, last uint64) error {
	if s.Seq != last+1 {
		return reject(ErrSeqGap, "%s sent seq %d, expected %d", chain, s.Seq, last+1)
	}
	if prev := common.BytesToHash(r.Get([]byte(chainKey("prev", chain)))); s.PrevHash != prev {
		return reject(ErrPrevHash, "got %s, booked %s", s.PrevHash.Hex(), prev.Hex())
	}
	want := getSeq(r, chainKey("to", chain))
	if want == 0 {
		want = 1
	}
	if s.FromHeight != want {
		return reject(ErrBlockRange, "epoch starts at %d, expected %d", s.FromHeight, want)
	}
	return nil
}

// checkEntries checks openings against booked closings and packet totals
// against the packets the hub itself sent and received.
func checkEntries(r state.Reader, chain string, s *settlement.Summary) error {
	for i := range s.Entries {
		e := &s.Entries[i]
		if closing := ReadSubLedger(r, chain, e.Merchant, e.Asset).Closing; closing.Cmp(e.Opening) != 0 {
			return reject(ErrOpening, "%s/%s on %s opens at %s, booked closing %s", e.Merchant.Hex(), e.Asset, chain, e.Opening, closing)
		}
	}
	allocs, err := packetTotals(r, "apkt", chain, getSeq(r, chainKey("balloc", chain)), s.AllocSeq, getSeq(r, chainKey("aseq", chain)))
	if err != nil {
		return reject(ErrAllocations, "%v", err)
	}
	sweeps, err := packetTotals(r, "spkt", chain, getSeq(r, chainKey("bsweep", chain)), s.SweepSeq, getSeq(r, chainKey("sseq", chain)))
	if err != nil {
		return reject(ErrSweeps, "%v (deliver the chain's sweep packets before its summary)", err)
	}
	if err := matchTotals(s, allocs, func(e *settlement.Entry) (*big.Int, uint64) { return e.AllocIn, e.AllocCount }); err != nil {
		return reject(ErrAllocations, "%v", err)
	}
	if err := matchTotals(s, sweeps, func(e *settlement.Entry) (*big.Int, uint64) { return e.SweepOut, e.SweepCount }); err != nil {
		return reject(ErrSweeps, "%v", err)
	}
	return nil
}

type pairTotal struct {
	amount *big.Int
	count  uint64
}

// packetTotals sums packets (from, to] per pair; to must not pass known.
func packetTotals(r state.Reader, kind, chain string, from, to, known uint64) (map[settlement.Pair]*pairTotal, error) {
	if to < from || to > known {
		return nil, fmt.Errorf("summary covers packets up to %d; hub has %d, %d already booked", to, known, from)
	}
	out := make(map[settlement.Pair]*pairTotal)
	for seq := from + 1; seq <= to; seq++ {
		p, err := settlement.DecodePacket(r.Get([]byte(seqKey(kind, chain, seq))))
		if err != nil {
			panic("hubchain: corrupt stored packet: " + err.Error())
		}
		k := settlement.Pair{Merchant: p.Merchant, Asset: p.Asset}
		if out[k] == nil {
			out[k] = &pairTotal{amount: new(big.Int)}
		}
		out[k].amount.Add(out[k].amount, p.Amount)
		out[k].count++
	}
	return out, nil
}

// matchTotals requires every entry's packet amount and count to equal the
// hub's totals, and every pair with packets to have an entry.
func matchTotals(s *settlement.Summary, totals map[settlement.Pair]*pairTotal, field func(*settlement.Entry) (*big.Int, uint64)) error {
	seen := 0
	for i := range s.Entries {
		e := &s.Entries[i]
		amt, n := field(e)
		t := totals[settlement.Pair{Merchant: e.Merchant, Asset: e.Asset}]
		if t == nil {
			t = &pairTotal{amount: new(big.Int)}
		} else {
			seen++
		}
		if t.amount.Cmp(amt) != 0 || t.count != n {
			return fmt.Errorf("%s/%s: summary says %s in %d packets, hub has %s in %d", e.Merchant.Hex(), e.Asset, amt, n, t.amount, t.count)
		}
	}
	if seen != len(totals) {
		return fmt.Errorf("%d pairs have packets but no summary entry", len(totals)-seen)
	}
	return nil
}

// apply books a checked summary.
func apply(env *exec.Env, chain string, s *settlement.Summary, hash common.Hash) {
	w := env.State
	for i := range s.Entries {
		e := &s.Entries[i]
		u := func(x *big.Int) *uint256.Int { v, _ := uint256.FromBig(x); return v }
		m, asset := e.Merchant, e.Asset
		sl := ReadSubLedger(w, chain, m, asset)
		sl.Income.Add(sl.Income, e.Income)
		sl.Payouts.Add(sl.Payouts, e.Payouts)
		sl.AllocIn.Add(sl.AllocIn, e.AllocIn)
		sl.SweepOut.Add(sl.SweepOut, e.SweepOut)
		sl.Closing.Set(e.Closing)
		sl.PayCount, sl.PayoutCount, sl.Epochs = sl.PayCount+e.PayCount, sl.PayoutCount+e.PayoutCount, s.Seq
		writeRecord(w, subKey(chain, m, asset), sl)
		tot := ReadTotals(w, m, asset)
		tot.Income.Add(tot.Income, e.Income)
		tot.Payouts.Add(tot.Payouts, e.Payouts)
		writeRecord(w, mKey("tot", m, asset), tot)
		subU(w, mKey("pa", m, asset), u(e.AllocIn))
		subU(w, mKey("ps", m, asset), u(e.SweepOut))
		trackMerchantChain(w, m, asset, chain)
	}
	setSeq(w, chainKey("seq", chain), s.Seq)
	w.Set([]byte(chainKey("prev", chain)), hash.Bytes())
	setSeq(w, chainKey("to", chain), s.ToHeight)
	setSeq(w, chainKey("balloc", chain), s.AllocSeq)
	setSeq(w, chainKey("bsweep", chain), s.SweepSeq)
}
