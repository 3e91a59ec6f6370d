package userchain

import (
	"bytes"
	"sort"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/holiman/uint256"

	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/settlement"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
)

// Address is the Shadow precompile's fixed address.
var Address = settlement.ShadowAddress

// Gas of each call; settle also pays GasPerEntry for every entry it emits.
const (
	GasPay      = 15000
	GasPayout   = 15000
	GasSweep    = 20000
	GasSettle   = 30000
	GasPerEntry = 3000
	GasAdmin    = 20000
	GasRecv     = 60000
	GasView     = 2000
)

var (
	evPaid    = settlement.EvPaid
	evPaidOut = settlement.EvPaidOut
)

// Pair is a registered (merchant, asset).
type Pair = settlement.Pair

func readPairs(r state.Reader) []Pair {
	var ps []Pair
	if b := r.Get([]byte(keyPairs)); b != nil {
		if err := rlp.DecodeBytes(b, &ps); err != nil {
			panic("userchain: corrupt pair list: " + err.Error()) // written only by this package
		}
	}
	return ps
}

// addPair registers a pair, keeping the list sorted; false if present.
func addPair(w state.Writer, p Pair) bool {
	if len(w.Get([]byte(pairKey(kReg, p.Merchant, p.Asset)))) > 0 {
		return false
	}
	ps := append(readPairs(w), p)
	sort.Slice(ps, func(i, j int) bool {
		if c := bytes.Compare(ps[i].Merchant[:], ps[j].Merchant[:]); c != 0 {
			return c < 0
		}
		return ps[i].Asset < ps[j].Asset
	})
	enc, _ := rlp.EncodeToBytes(ps)
	w.Set([]byte(keyPairs), enc)
	w.Set([]byte(pairKey(kReg, p.Merchant, p.Asset)), []byte{1})
	return true
}

// New builds the Shadow precompile.
func New() *exec.Contract {
	return exec.NewContract(Address, "Shadow", []*exec.Method{
		{ABI: exec.NewABIMethod("registerMerchant", false, exec.Args("address merchant", "address operator", "string asset"), nil),
			Gas: GasAdmin, Run: registerMerchant},
		{ABI: exec.NewABIMethod("pay", false, exec.Args("address merchant", "string asset", "uint256 amount", "bytes32 ref"), nil),
			Gas: GasPay, Keys: payKeys, Run: pay},
		{ABI: exec.NewABIMethod("payout", false, exec.Args("address merchant", "address to", "string asset", "uint256 amount", "bytes32 ref"), nil),
			Gas: GasPayout, Keys: payoutKeys, Run: payout},
		{ABI: exec.NewABIMethod("sweep", false, exec.Args("address merchant", "string asset", "uint256 amount"), exec.Args("uint64")),
			Gas: GasSweep, Run: sweep},
		{ABI: exec.NewABIMethod("settle", false, nil, exec.Args("uint64")), Gas: GasSettle, Run: settle},
		{ABI: exec.NewABIMethod("setHub", false, exec.Args("bytes client"), nil), Gas: GasAdmin, Run: setHub},
		{ABI: exec.NewABIMethod("updateHub", false, exec.Args("bytes header", "bytes cert", "bytes nextValidators"), exec.Args("uint8")),
			Gas: GasRecv, Run: updateHub},
		{ABI: exec.NewABIMethod("recvAllocation", false, exec.Args("bytes bundle"), exec.Args("uint8")), Gas: GasRecv, Run: recvAllocation},
		{ABI: exec.NewABIMethod("shadowOf", true, exec.Args("address merchant", "string asset"),
			exec.Args("uint256 available", "uint256 pendingIncome", "uint256 opening", "uint64 payCount", "uint64 openOps")),
			Gas: GasView, Keys: shadowOfKeys, Run: shadowOf},
		{ABI: exec.NewABIMethod("epoch", true, nil, exec.Args("uint64 seq", "bytes32 prevHash", "uint64 fromHeight", "uint64 allocSeq", "uint64 sweepSeq")),
			Gas: GasView, Keys: func(common.Address, []any) []exec.Access {
				return reads(keySeq, keyPrev, keyFrom, keyAllocSeq, keySweepSeq)
			},
			Run: epochView},
		{ABI: exec.NewABIMethod("openOperations", true, nil, exec.Args("uint64")), Gas: GasView, Run: openOperations},
		{ABI: exec.NewABIMethod("operatorOf", true, exec.Args("address merchant"), exec.Args("address")), Gas: GasView,
			Keys: func(_ common.Address, a []any) []exec.Access { return reads(operatorKey(exec.AddressArg(a[0]))) },
			Run: func(env *exec.Env, a []any) ([]any, error) {
				return []any{common.BytesToAddress(env.State.Get([]byte(operatorKey(exec.AddressArg(a[0])))))}, nil
			}},
	}, evPaid, evPaidOut, settlement.EvEpochSettled, settlement.EvPacketSent)
}

func reads(keys ...string) []exec.Access {
	out := make([]exec.Access, len(keys))
	for i, k := range keys {
		out[i] = exec.Access{Key: k, Mode: exec.Read}
	}
	return out
}

func registerMerchant(env *exec.Env, a []any) ([]any, error) {
	if err := system.RequireRole(env, system.RoleAdmin); err != nil {
		return nil, err
	}
	m, op, asset := exec.AddressArg(a[0]), exec.AddressArg(a[1]), a[2].(string)
	if err := ledger.CheckAsset(asset); err != nil {
		return nil, err
	}
	if m == (common.Address{}) || op == (common.Address{}) {
		return nil, exec.Fail(types.StatusInvalidArgument, "merchant and operator must be non-zero addresses")
	}
	env.State.Set([]byte(operatorKey(m)), op[:])
	addPair(env.State, Pair{Merchant: m, Asset: asset})
	return nil, nil
}

func requirePair(env *exec.Env, m common.Address, asset string) error {
	if len(env.State.Get([]byte(pairKey(kReg, m, asset)))) == 0 {
		return exec.Fail(types.StatusNotFound, "merchant %s has no %s shadow on this chain", m.Hex(), asset)
	}
	return nil
}

func requireOperator(env *exec.Env, m common.Address) error {
	op := env.State.Get([]byte(operatorKey(m)))
	if !bytes.Equal(op, env.Caller[:]) {
		return exec.Fail(types.StatusPermissionDenied, "%s is not the operator of merchant %s", env.Caller.Hex(), m.Hex())
	}
	return nil
}

func payKeys(caller common.Address, a []any) []exec.Access {
	m, asset := exec.AddressArg(a[0]), a[1].(string)
	return []exec.Access{
		{Key: pairKey(kReg, m, asset), Mode: exec.Read},
		{Key: ledger.BalanceKey(asset, caller), Mode: exec.Write},
		{Key: pairKey(kPending, m, asset), Mode: exec.Delta},
		{Key: pairKey(kPayCount, m, asset), Mode: exec.Delta},
	}
}

// pay moves amount from the payer's Ledger balance into the shadow's
// pendingIncome, as deltas that commute with every other payment.
func pay(env *exec.Env, a []any) ([]any, error) {
	m, asset, amt := exec.AddressArg(a[0]), a[1].(string), exec.Amount(a[2])
	if err := checkAmount(asset, amt); err != nil {
		return nil, err
	}
	if err := requirePair(env, m, asset); err != nil {
		return nil, err
	}
	if err := ledger.Debit(env.State, asset, env.Caller, amt); err != nil {
		return nil, err
	}
	if err := env.State.AddUint([]byte(pairKey(kPending, m, asset)), amt); err != nil {
		return nil, exec.Fail(types.StatusOverflow, "%v", err)
	}
	if err := env.State.AddUint([]byte(pairKey(kPayCount, m, asset)), uint256.NewInt(1)); err != nil {
		return nil, exec.Fail(types.StatusOverflow, "%v", err)
	}
	emitMoney(env, evPaid, m, env.Caller, asset, amt, a[3].([32]byte))
	return nil, nil
}

func checkAmount(asset string, amt *uint256.Int) error {
	if err := ledger.CheckAsset(asset); err != nil {
		return err
	}
	return ledger.CheckAmount(amt)
}

func payoutKeys(_ common.Address, a []any) []exec.Access {
	m, to, asset := exec.AddressArg(a[0]), exec.AddressArg(a[1]), a[2].(string)
	return []exec.Access{
		{Key: operatorKey(m), Mode: exec.Read},
		{Key: pairKey(kReg, m, asset), Mode: exec.Read},
		{Key: pairKey(kAvail, m, asset), Mode: exec.Write},
		{Key: pairKey(kPayouts, m, asset), Mode: exec.Write},
		{Key: pairKey(kPayoutCount, m, asset), Mode: exec.Write},
		{Key: ledger.BalanceKey(asset, to), Mode: exec.Delta},
	}
}

// payout spends available, never more, into a user's Ledger balance.
func payout(env *exec.Env, a []any) ([]any, error) {
	m, to, asset, amt := exec.AddressArg(a[0]), exec.AddressArg(a[1]), a[2].(string), exec.Amount(a[3])
	if err := checkAmount(asset, amt); err != nil {
		return nil, err
	}
	if err := requireOperator(env, m); err != nil {
		return nil, err
	}
	if err := requirePair(env, m, asset); err != nil {
		return nil, err
	}
	if err := spend(env, m, asset, amt, kPayouts, kPayoutCount); err != nil {
		return nil, err
	}
	if err := ledger.Credit(env.State, asset, to, amt); err != nil {
		return nil, err
	}
	emitMoney(env, evPaidOut, m, to, asset, amt, a[4].([32]byte))
	return nil, nil
}

// spend takes amt from available and books it under the given accumulators.
func spend(env *exec.Env, m common.Address, asset string, amt *uint256.Int, sumKind, countKind string) error {
	av := getUint(env.State, pairKey(kAvail, m, asset))
	if av.Lt(amt) {
		return exec.Fail(types.StatusInsufficientBalance, "shadow of %s holds %s %s available, needs %s (income becomes available at settlement)",
			m.Hex(), av.Dec(), asset, amt.Dec())
	}
	setUint(env.State, pairKey(kAvail, m, asset), new(uint256.Int).Sub(av, amt))
	addUint(env.State, pairKey(sumKind, m, asset), amt)
	addUint(env.State, pairKey(countKind, m, asset), uint256.NewInt(1))
	return nil
}

func emitMoney(env *exec.Env, ev abi.Event, m, party common.Address, asset string, amt *uint256.Int, ref [32]byte) {
	data, err := ev.Inputs.NonIndexed().Pack(asset, amt.ToBig(), ref)
	if err != nil {
		panic(err)
	}
	env.Emit(Address, ev, []common.Hash{common.BytesToHash(m[:]), common.BytesToHash(party[:])}, data)
}

func shadowOfKeys(_ common.Address, a []any) []exec.Access {
	m, asset := exec.AddressArg(a[0]), a[1].(string)
	return reads(pairKey(kAvail, m, asset), pairKey(kPending, m, asset), pairKey(kOpening, m, asset), pairKey(kPayCount, m, asset),
		pairKey(kPayoutCount, m, asset), pairKey(kAllocCount, m, asset), pairKey(kSweepCount, m, asset))
}

func shadowOf(env *exec.Env, a []any) ([]any, error) {
	m, asset := exec.AddressArg(a[0]), a[1].(string)
	g := func(kind string) *uint256.Int { return getUint(env.State, pairKey(kind, m, asset)) }
	open := g(kPayCount).Uint64() + g(kPayoutCount).Uint64() + g(kAllocCount).Uint64() + g(kSweepCount).Uint64()
	return []any{g(kAvail).ToBig(), g(kPending).ToBig(), g(kOpening).ToBig(), g(kPayCount).Uint64(), open}, nil
}

func epochView(env *exec.Env, _ []any) ([]any, error) {
	c := readCursor(env.State)
	return []any{c.seq, c.prev, c.from, c.allocSeq, c.sweepSeq}, nil
}

// openOperations counts the operations of the open epoch over every pair:
// zero means settle would emit nothing.
func openOperations(env *exec.Env, _ []any) ([]any, error) {
	var n uint64
	for _, p := range readPairs(env.State) {
		for _, k := range []string{kPayCount, kPayoutCount, kAllocCount, kSweepCount} {
			n += getUint(env.State, pairKey(k, p.Merchant, p.Asset)).Uint64()
		}
	}
	if err := env.Gas.Use(uint64(len(readPairs(env.State))) * 100); err != nil {
		return nil, err
	}
	return []any{n}, nil
}
