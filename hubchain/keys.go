package hubchain

import (
	"math/big"
	"strconv"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/holiman/uint256"

	"github.com/tallyhq/tally/engine/state"
)

// State keys of the Hub precompile (C = chain id, M = merchant, A = asset):
//
//	hub/chains                  RLP list of registered chain ids
//	hub/client/C                light client of C (settlement.Client)
//	hub/seq/C, hub/prev/C       last booked epoch and its summary hash
//	hub/to/C                    last booked epoch's ToHeight
//	hub/balloc/C, hub/bsweep/C  packet seqs covered by booked summaries
//	hub/aseq/C, hub/apkt/C/N    allocations sent to C: last seq, packet N
//	hub/sseq/C, hub/spkt/C/N    sweeps received from C: last seq, packet N
//	hub/stmt/C/N                booked epoch N of C: statement record
//	hub/sub/C/M/A               sub-ledger of M's asset A on C (SubLedger)
//	hub/tot/M/A                 merchant totals (Totals)
//	hub/res/M/A                 reserve
//	hub/pa/M/A, hub/ps/M/A      allocations sent and sweeps received, not yet booked
//	hub/op/M                    operator of merchant M
const keyChains = "hub/chains"

func chainKey(kind, chain string) string { return "hub/" + kind + "/" + chain }

func seqKey(kind, chain string, seq uint64) string {
	return "hub/" + kind + "/" + chain + "/" + strconv.FormatUint(seq, 10)
}

func subKey(chain string, m common.Address, asset string) string {
	return "hub/sub/" + chain + "/" + string(m[:]) + "/" + asset
}

// SubLedger is one hot account's booked ledger on one user chain, stored
// as one record so that booking an entry is one read and one write.
type SubLedger struct {
	Income, Payouts, AllocIn, SweepOut, Closing *big.Int
	PayCount, PayoutCount, Epochs               uint64
}

// Totals are a hot account's booked flows over every chain.
type Totals struct {
	Income, Payouts *big.Int
}

func readRecord[T any](r state.Reader, key string, v *T) {
	if b := r.Get([]byte(key)); b != nil {
		if err := rlp.DecodeBytes(b, v); err != nil {
			panic("hubchain: corrupt record " + key + ": " + err.Error())
		}
	}
}

func writeRecord(w state.Writer, key string, v any) {
	b, err := rlp.EncodeToBytes(v)
	if err != nil {
		panic(err)
	}
	w.Set([]byte(key), b)
}

// ReadSubLedger reads M's asset sub-ledger on chain (zero if never booked).
func ReadSubLedger(r state.Reader, chain string, m common.Address, asset string) *SubLedger {
	sl := &SubLedger{Income: new(big.Int), Payouts: new(big.Int), AllocIn: new(big.Int), SweepOut: new(big.Int), Closing: new(big.Int)}
	readRecord(r, subKey(chain, m, asset), sl)
	return sl
}

// ReadTotals reads M's asset totals.
func ReadTotals(r state.Reader, m common.Address, asset string) *Totals {
	t := &Totals{Income: new(big.Int), Payouts: new(big.Int)}
	readRecord(r, mKey("tot", m, asset), t)
	return t
}

func mKey(kind string, m common.Address, asset string) string {
	return "hub/" + kind + "/" + string(m[:]) + "/" + asset
}

func operatorKey(m common.Address) string { return "hub/op/" + string(m[:]) }

func getU(r state.Reader, key string) *uint256.Int { return state.DecodeUint(r.Get([]byte(key))) }

func setU(w state.Writer, key string, x *uint256.Int) { w.Set([]byte(key), state.EncodeUint(x)) }

func addU(w state.Writer, key string, x *uint256.Int) {
	setU(w, key, new(uint256.Int).Add(getU(w, key), x))
}

func subU(w state.Writer, key string, x *uint256.Int) {
	setU(w, key, new(uint256.Int).Sub(getU(w, key), x))
}

func getSeq(r state.Reader, key string) uint64 { return getU(r, key).Uint64() }

func setSeq(w state.Writer, key string, v uint64) { setU(w, key, uint256.NewInt(v)) }
