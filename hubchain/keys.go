package hubchain

import (
	"strconv"

	"github.com/ethereum/go-ethereum/common"
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
//	hub/sub/C/M/A/F             sub-ledger field F of M's asset A on C
//	hub/tot/M/A/F               merchant totals (income, payouts)
//	hub/res/M/A                 reserve
//	hub/pa/M/A, hub/ps/M/A      allocations sent and sweeps received, not yet booked
//	hub/op/M                    operator of merchant M
const keyChains = "hub/chains"

func chainKey(kind, chain string) string { return "hub/" + kind + "/" + chain }

func seqKey(kind, chain string, seq uint64) string {
	return "hub/" + kind + "/" + chain + "/" + strconv.FormatUint(seq, 10)
}

func subKey(chain string, m common.Address, asset, field string) string {
	return "hub/sub/" + chain + "/" + string(m[:]) + "/" + asset + "/" + field
}

func mKey(kind string, m common.Address, asset string) string {
	return "hub/" + kind + "/" + string(m[:]) + "/" + asset
}

func operatorKey(m common.Address) string { return "hub/op/" + string(m[:]) }

// Sub-ledger and total fields.
const (
	fIncome, fPayouts, fAllocIn, fSweepOut, fClosing = "income", "payouts", "allocin", "sweepout", "closing"
	fPayCount, fPayoutCount, fEpochs                 = "paycount", "payoutcount", "epochs"
)

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
