package userchain

import (
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/tallyhq/tally/engine/state"
)

// State keys of the Shadow precompile. Per (merchant, asset) pair:
//
//	shadow/reg/M/A   1 when the pair is registered
//	shadow/av/M/A    available: what payouts and sweeps may spend
//	shadow/pi/M/A    pendingIncome: this epoch's payments (deltas)
//	shadow/pc/M/A    payments this epoch (deltas)
//	shadow/po/M/A    payouts this epoch, shadow/poc/M/A their count
//	shadow/ai/M/A    allocations in this epoch, shadow/aic/M/A their count
//	shadow/so/M/A    sweeps out this epoch, shadow/soc/M/A their count
//	shadow/open/M/A  opening balance of the epoch (last closing)
//
// Chain-wide: shadow/op/M (operator of merchant M), shadow/pairs (the
// registered pairs, sorted), shadow/e/{seq,prev,from,alloc,sweep} (epoch
// cursor and packet sequence numbers), shadow/hub (light client of the hub).
const (
	kReg, kAvail, kPending, kPayCount = "reg", "av", "pi", "pc"
	kPayouts, kPayoutCount            = "po", "poc"
	kAllocIn, kAllocCount             = "ai", "aic"
	kSweepOut, kSweepCount            = "so", "soc"
	kOpening                          = "open"

	keyPairs     = "shadow/pairs"
	keySeq       = "shadow/e/seq"
	keyPrev      = "shadow/e/prev"
	keyFrom      = "shadow/e/from"
	keyAllocSeq  = "shadow/e/alloc"
	keySweepSeq  = "shadow/e/sweep"
	keyHubClient = "shadow/hub"
)

func pairKey(kind string, m common.Address, asset string) string {
	return "shadow/" + kind + "/" + string(m[:]) + "/" + asset
}

func operatorKey(m common.Address) string { return "shadow/op/" + string(m[:]) }

// epochKeys are the accumulators settle reads and resets.
var epochKeys = []string{kPending, kPayCount, kPayouts, kPayoutCount, kAllocIn, kAllocCount, kSweepOut, kSweepCount}

func getUint(r state.Reader, key string) *uint256.Int { return state.DecodeUint(r.Get([]byte(key))) }

func setUint(w state.Writer, key string, x *uint256.Int) { w.Set([]byte(key), state.EncodeUint(x)) }

func addUint(w state.Writer, key string, x *uint256.Int) {
	setUint(w, key, new(uint256.Int).Add(getUint(w, key), x))
}
