package ledger

import (
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
)

var (
	evIssued   = newEvent(exec.NewABIEvent("Issued", exec.Args("string asset", "address to", "uint256 amount"), "to"))
	evRedeemed = newEvent(exec.NewABIEvent("Redeemed", exec.Args("string asset", "address from", "uint256 amount"), "from"))
	evTransfer = newEvent(exec.NewABIEvent("Transfer", exec.Args("string asset", "address from", "address to", "uint256 amount"), "from", "to"))
)

// event is an ABI event with the encoder of its non-indexed fields.
type event struct {
	abi.Event
	data *exec.Encoder
}

func newEvent(ev abi.Event) event {
	return event{Event: ev, data: exec.NewEncoder(ev.Inputs.NonIndexed())}
}

// Gas of each call.
const (
	GasIssue    = 20000
	GasRedeem   = 20000
	GasTransfer = 10000
	GasView     = 2000
)

// New builds the Ledger precompile.
func New() *exec.Contract {
	return exec.NewContract(Address, "Ledger", []*exec.Method{
		{ABI: exec.NewABIMethod("issue", false, exec.Args("string asset", "address to", "uint256 amount"), nil),
			Gas: GasIssue, Keys: issueKeys, Run: issue},
		{ABI: exec.NewABIMethod("redeem", false, exec.Args("string asset", "address from", "uint256 amount"), nil),
			Gas: GasRedeem, Keys: redeemKeys, Run: redeem},
		{ABI: exec.NewABIMethod("transfer", false, exec.Args("string asset", "address to", "uint256 amount"), nil),
			Gas: GasTransfer, Keys: transferKeys, Run: transfer},
		{ABI: exec.NewABIMethod("balanceOf", true, exec.Args("string asset", "address owner"), exec.Args("uint256")),
			Gas: GasView, Keys: func(_ common.Address, a []any) []exec.Access {
				return []exec.Access{{Key: BalanceKey(a[0].(string), exec.AddressArg(a[1])), Mode: exec.Read}}
			},
			Run: func(env *exec.Env, a []any) ([]any, error) {
				return []any{Balance(env.State, a[0].(string), exec.AddressArg(a[1])).ToBig()}, nil
			}},
		{ABI: exec.NewABIMethod("totalSupply", true, exec.Args("string asset"), exec.Args("uint256")),
			Gas: GasView, Keys: func(_ common.Address, a []any) []exec.Access {
				return []exec.Access{{Key: issuedKey(a[0].(string)), Mode: exec.Read}, {Key: redeemedKey(a[0].(string)), Mode: exec.Read}}
			},
			Run: func(env *exec.Env, a []any) ([]any, error) {
				is, re := Supply(env.State, a[0].(string))
				return []any{new(uint256.Int).Sub(is, re).ToBig()}, nil
			}},
	}, evIssued.Event, evRedeemed.Event, evTransfer.Event)
}

func args3(a []any) (string, common.Address, *uint256.Int, error) {
	asset, who, amt := a[0].(string), exec.AddressArg(a[1]), exec.Amount(a[2])
	if err := CheckAsset(asset); err != nil {
		return "", common.Address{}, nil, err
	}
	return asset, who, amt, CheckAmount(amt)
}

func issueKeys(caller common.Address, a []any) []exec.Access {
	asset, to := a[0].(string), exec.AddressArg(a[1])
	return []exec.Access{
		{Key: system.RoleKey(system.RoleIssuer, caller), Mode: exec.Read},
		{Key: BalanceKey(asset, to), Mode: exec.Delta},
		{Key: issuedKey(asset), Mode: exec.Delta},
	}
}

func issue(env *exec.Env, a []any) ([]any, error) {
	if err := system.RequireRole(env, system.RoleIssuer); err != nil {
		return nil, err
	}
	asset, to, amt, err := args3(a)
	if err != nil {
		return nil, err
	}
	if err := Credit(env.State, asset, to, amt); err != nil {
		return nil, err
	}
	if err := addSupply(env.State, issuedKey(asset), amt); err != nil {
		return nil, err
	}
	emit(env, evIssued, a[0], amt, addrTopic(to))
	return nil, nil
}

func redeemKeys(caller common.Address, a []any) []exec.Access {
	asset, from := a[0].(string), exec.AddressArg(a[1])
	return []exec.Access{
		{Key: system.RoleKey(system.RoleIssuer, caller), Mode: exec.Read},
		{Key: BalanceKey(asset, from), Mode: exec.Write},
		{Key: redeemedKey(asset), Mode: exec.Delta},
	}
}

func redeem(env *exec.Env, a []any) ([]any, error) {
	if err := system.RequireRole(env, system.RoleIssuer); err != nil {
		return nil, err
	}
	asset, from, amt, err := args3(a)
	if err != nil {
		return nil, err
	}
	if err := Debit(env.State, asset, from, amt); err != nil {
		return nil, err
	}
	if err := addSupply(env.State, redeemedKey(asset), amt); err != nil {
		return nil, err
	}
	emit(env, evRedeemed, a[0], amt, addrTopic(from))
	return nil, nil
}

func transferKeys(caller common.Address, a []any) []exec.Access {
	asset, to := a[0].(string), exec.AddressArg(a[1])
	if to == caller {
		return []exec.Access{{Key: BalanceKey(asset, caller), Mode: exec.Write}}
	}
	from, dest := balanceKeys(asset, caller, to)
	return []exec.Access{{Key: from, Mode: exec.Write}, {Key: dest, Mode: exec.Delta}}
}

// transferKeysOf returns the keys a transfer debits and credits: the ones
// transferKeys declared for the call when the executor has them (the same
// strings), built again otherwise.
func transferKeysOf(env *exec.Env, asset string, to common.Address) (from, dest string) {
	switch d := env.Declared; len(d) {
	case 1: // to == caller
		return d[0].Key, d[0].Key
	case 2:
		return d[0].Key, d[1].Key
	}
	return balanceKeys(asset, env.Caller, to)
}

func transfer(env *exec.Env, a []any) ([]any, error) {
	asset, to := a[0].(string), exec.AddressArg(a[1])
	if err := CheckAsset(asset); err != nil {
		return nil, err
	}
	var amt uint256.Int // on the stack: the event takes the argument as it came
	if amt.SetFromBig(a[2].(*big.Int)) {
		panic("ledger: uint256 argument overflows") // impossible: the ABI type is uint256
	}
	if err := CheckAmount(&amt); err != nil {
		return nil, err
	}
	from, dest := transferKeysOf(env, asset, to)
	if err := debit(env.State, from, asset, env.Caller, &amt); err != nil {
		return nil, err
	}
	if err := credit(env.State, dest, to, &amt); err != nil {
		return nil, err
	}
	emit(env, evTransfer, a[0], a[2], addrTopic(env.Caller), addrTopic(to))
	return nil, nil
}

func addSupply(v *state.TxView, key string, amt *uint256.Int) error {
	if err := v.AddUint([]byte(key), amt); err != nil {
		return exec.Fail(types.StatusOverflow, "supply: %v", err)
	}
	return nil
}

func addrTopic(a common.Address) common.Hash { return common.BytesToHash(a[:]) }

// emit logs an event whose non-indexed fields are (asset, amount). asset
// is the call's asset argument as decoded (a string in an any, passed on
// as it is rather than boxed again); amt is a *uint256.Int or the call's
// *big.Int amount argument.
func emit(env *exec.Env, ev event, asset, amt any, topics ...common.Hash) {
	data, err := ev.data.Pack(asset, amt)
	if err != nil {
		panic(err)
	}
	env.Emit(Address, ev.Event, topics, data)
}
