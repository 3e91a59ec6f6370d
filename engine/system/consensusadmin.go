package system

import (
	"bytes"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/types"
)

// ConsensusAdminAddress is the ConsensusAdmin precompile's fixed address.
var ConsensusAdminAddress = common.HexToAddress("0x1003")

// State keys of the chain's membership. The validator set certifies the
// next block: a change committed in block h is the header's
// NextValidatorsHash at h and certifies h+1 on.
const (
	KeyValidators = "sys/validators" // canonical types.ValidatorSet
	KeyObservers  = "sys/observers"  // RLP list of observer addresses (sync, do not vote)
)

// EvValidatorsChanged carries the complete new set, so that light clients
// (the hub, the relay) can follow the change from the receipt alone.
var EvValidatorsChanged = exec.NewABIEvent("ValidatorsChanged", exec.Args("bytes validators"))

var evObserversChanged = exec.NewABIEvent("ObserversChanged", exec.Args("address[] observers"))

// NewConsensusAdmin builds the ConsensusAdmin precompile. Every change is a
// barrier (it reads and writes the whole set) and needs ADMIN.
func NewConsensusAdmin() *exec.Contract {
	view := func(keys ...string) func(common.Address, []any) []exec.Access {
		return func(common.Address, []any) []exec.Access {
			out := make([]exec.Access, len(keys))
			for i, k := range keys {
				out[i] = exec.Access{Key: k, Mode: exec.Read}
			}
			return out
		}
	}
	return exec.NewContract(ConsensusAdminAddress, "ConsensusAdmin", []*exec.Method{
		{ABI: exec.NewABIMethod("addValidator", false, exec.Args("bytes pubkey"), nil), Gas: 50000, Run: addValidator},
		{ABI: exec.NewABIMethod("removeValidator", false, exec.Args("address validator"), nil), Gas: 50000, Run: removeValidator},
		{ABI: exec.NewABIMethod("addObserver", false, exec.Args("address observer"), nil), Gas: 30000, Run: addObserver},
		{ABI: exec.NewABIMethod("removeObserver", false, exec.Args("address observer"), nil), Gas: 30000, Run: removeObserver},
		{ABI: exec.NewABIMethod("validators", true, nil, exec.Args("address[]")), Gas: 5000, Keys: view(KeyValidators), Run: listValidators},
		{ABI: exec.NewABIMethod("validatorSet", true, nil, exec.Args("bytes")), Gas: 5000, Keys: view(KeyValidators),
			Run: func(env *exec.Env, _ []any) ([]any, error) { return []any{env.State.Get([]byte(KeyValidators))}, nil }},
		{ABI: exec.NewABIMethod("observers", true, nil, exec.Args("address[]")), Gas: 5000, Keys: view(KeyObservers),
			Run: func(env *exec.Env, _ []any) ([]any, error) { return []any{readObservers(env.State)}, nil }},
	}, EvValidatorsChanged, evObserversChanged)
}

// ReadValidators decodes the set in r.
func ReadValidators(env *exec.Env) (*types.ValidatorSet, error) {
	return types.DecodeValidatorSet(env.Block.Suite, env.State.Get([]byte(KeyValidators)))
}

func writeValidators(env *exec.Env, vals []types.Validator) error {
	vs, err := types.NewValidatorSet(env.Block.Suite, vals)
	if err != nil {
		return exec.Fail(types.StatusInvalidArgument, "%v", err)
	}
	enc := vs.Encode()
	env.State.Set([]byte(KeyValidators), enc)
	data, _ := EvValidatorsChanged.Inputs.Pack(enc)
	env.Emit(ConsensusAdminAddress, EvValidatorsChanged, nil, data)
	return nil
}

// KeyConsensus holds the chain's consensus kind, written at genesis.
const KeyConsensus = "sys/consensus"

// requireChangeable: a solo chain's one validator is its only sealer.
func requireChangeable(env *exec.Env) error {
	if err := RequireRole(env, RoleAdmin); err != nil {
		return err
	}
	if string(env.State.Get([]byte(KeyConsensus))) == "solo" {
		return exec.Fail(types.StatusInvalidArgument, "a solo chain has exactly one validator; its set cannot change")
	}
	return nil
}

func addValidator(env *exec.Env, a []any) ([]any, error) {
	if err := requireChangeable(env); err != nil {
		return nil, err
	}
	pub := a[0].([]byte)
	addr, err := env.Block.Suite.Address(pub)
	if err != nil {
		return nil, exec.Fail(types.StatusInvalidArgument, "public key: %v", err)
	}
	vs, err := ReadValidators(env)
	if err != nil {
		panic(fmt.Sprintf("system: corrupt validator set: %v", err))
	}
	if vs.Contains(addr) {
		return nil, exec.Fail(types.StatusAlreadyExists, "%s is already a validator", addr.Hex())
	}
	if err := dropObserver(env, addr); err != nil {
		return nil, err
	}
	return nil, writeValidators(env, append(append([]types.Validator(nil), vs.Validators...), types.Validator{Address: addr, PubKey: pub}))
}

func removeValidator(env *exec.Env, a []any) ([]any, error) {
	if err := requireChangeable(env); err != nil {
		return nil, err
	}
	addr := exec.AddressArg(a[0])
	vs, err := ReadValidators(env)
	if err != nil {
		panic(fmt.Sprintf("system: corrupt validator set: %v", err))
	}
	i := vs.Index(addr)
	if i < 0 {
		return nil, exec.Fail(types.StatusNotFound, "%s is not a validator", addr.Hex())
	}
	if vs.Len() == 1 {
		return nil, exec.Fail(types.StatusInvalidArgument, "cannot remove the last validator")
	}
	rest := append(append([]types.Validator(nil), vs.Validators[:i]...), vs.Validators[i+1:]...)
	return nil, writeValidators(env, rest)
}

func readObservers(r state.Reader) []common.Address {
	var out []common.Address
	if b := r.Get([]byte(KeyObservers)); b != nil {
		if err := rlp.DecodeBytes(b, &out); err != nil {
			panic(fmt.Sprintf("system: corrupt observer list: %v", err))
		}
	}
	if out == nil {
		out = []common.Address{}
	}
	return out
}

func writeObservers(env *exec.Env, obs []common.Address) {
	enc, _ := rlp.EncodeToBytes(obs)
	env.State.Set([]byte(KeyObservers), enc)
	data, _ := evObserversChanged.Inputs.Pack(obs)
	env.Emit(ConsensusAdminAddress, evObserversChanged, nil, data)
}

func addObserver(env *exec.Env, a []any) ([]any, error) {
	if err := RequireRole(env, RoleAdmin); err != nil {
		return nil, err
	}
	addr := exec.AddressArg(a[0])
	vs, err := ReadValidators(env)
	if err == nil && vs.Contains(addr) {
		return nil, exec.Fail(types.StatusInvalidArgument, "%s is a validator; remove it first", addr.Hex())
	}
	obs := readObservers(env.State)
	for _, o := range obs {
		if o == addr {
			return nil, exec.Fail(types.StatusAlreadyExists, "%s is already an observer", addr.Hex())
		}
	}
	writeObservers(env, append(obs, addr))
	return nil, nil
}

func removeObserver(env *exec.Env, a []any) ([]any, error) {
	if err := RequireRole(env, RoleAdmin); err != nil {
		return nil, err
	}
	before := len(readObservers(env.State))
	if err := dropObserver(env, exec.AddressArg(a[0])); err != nil {
		return nil, err
	}
	if len(readObservers(env.State)) == before {
		return nil, exec.Fail(types.StatusNotFound, "%s is not an observer", exec.AddressArg(a[0]).Hex())
	}
	return nil, nil
}

// dropObserver removes addr from the observers if present (a promoted observer).
func dropObserver(env *exec.Env, addr common.Address) error {
	obs := readObservers(env.State)
	for i, o := range obs {
		if bytes.Equal(o[:], addr[:]) {
			writeObservers(env, append(obs[:i:i], obs[i+1:]...))
			return nil
		}
	}
	return nil
}

func listValidators(env *exec.Env, _ []any) ([]any, error) {
	vs, err := ReadValidators(env)
	if err != nil {
		panic(fmt.Sprintf("system: corrupt validator set: %v", err))
	}
	out := make([]common.Address, vs.Len())
	for i, v := range vs.Validators {
		out[i] = v.Address
	}
	return []any{out}, nil
}
