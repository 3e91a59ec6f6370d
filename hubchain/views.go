package hubchain

import (
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/holiman/uint256"

	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/types"
)

func merchantChains(r state.Reader, m common.Address, asset string) []string {
	var ids []string
	if b := r.Get([]byte(mKey("mc", m, asset))); b != nil {
		if err := rlp.DecodeBytes(b, &ids); err != nil {
			panic("hubchain: corrupt merchant chain list: " + err.Error())
		}
	}
	return ids
}

func trackMerchantChain(w state.Writer, m common.Address, asset, chain string) {
	ids := merchantChains(w, m, asset)
	for _, id := range ids {
		if id == chain {
			return
		}
	}
	enc, _ := rlp.EncodeToBytes(append(ids, chain))
	w.Set([]byte(mKey("mc", m, asset)), enc)
}

// Balance is the hot account's near-real-time balance: the booked closing
// on every chain, plus the reserve, plus allocations on their way to a
// chain, minus sweeps the reserve already holds that no booked summary has
// yet taken out of a closing.
func Balance(r state.Reader, m common.Address, asset string) *uint256.Int {
	b := new(uint256.Int)
	for _, c := range merchantChains(r, m, asset) {
		closing, _ := uint256.FromBig(ReadSubLedger(r, c, m, asset).Closing)
		b.Add(b, closing)
	}
	b.Add(b, getU(r, mKey("res", m, asset)))
	b.Add(b, getU(r, mKey("pa", m, asset)))
	return b.Sub(b, getU(r, mKey("ps", m, asset)))
}

func merchantView(env *exec.Env, a []any) ([]any, error) {
	m, asset := exec.AddressArg(a[0]), a[1].(string)
	g := func(kind string) any { return getU(env.State, mKey(kind, m, asset)).ToBig() }
	tot := ReadTotals(env.State, m, asset)
	return []any{tot.Income, tot.Payouts, g("res"), Balance(env.State, m, asset).ToBig(), g("pa"), g("ps")}, nil
}

func subLedgerView(env *exec.Env, a []any) ([]any, error) {
	m, chain, asset := exec.AddressArg(a[0]), a[1].(string), a[2].(string)
	sl := ReadSubLedger(env.State, chain, m, asset)
	return []any{sl.Income, sl.Payouts, sl.AllocIn, sl.SweepOut, sl.Closing, sl.PayCount, sl.PayoutCount, sl.Epochs}, nil
}

func chainStateView(env *exec.Env, a []any) ([]any, error) {
	chain := a[0].(string)
	c, err := client(env.State, chain)
	if err != nil {
		return nil, err
	}
	r := env.State
	seq := func(kind string) uint64 { return getSeq(r, chainKey(kind, chain)) }
	return []any{seq("seq"), common.BytesToHash(r.Get([]byte(chainKey("prev", chain)))), seq("to"),
		seq("aseq"), seq("balloc"), seq("sseq"), seq("bsweep"), c.Encode()}, nil
}

func chainsView(env *exec.Env, _ []any) ([]any, error) {
	ids := readChains(env.State)
	if ids == nil {
		ids = []string{}
	}
	return []any{ids}, nil
}

func statementView(env *exec.Env, a []any) ([]any, error) {
	b := env.State.Get([]byte(seqKey("stmt", a[0].(string), a[1].(uint64))))
	if b == nil {
		return nil, exec.Fail(types.StatusNotFound, "no booked epoch %d of chain %q", a[1].(uint64), a[0].(string))
	}
	return []any{b}, nil
}

// DecodeStatement parses what the statement view returns.
func DecodeStatement(b []byte) (*Statement, error) {
	st := new(Statement)
	return st, rlp.DecodeBytes(b, st)
}
