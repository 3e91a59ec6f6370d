package system

import (
	"fmt"
	"regexp"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/types"
)

// CNSAddress is the contract name service's fixed address.
var CNSAddress = common.HexToAddress("0x1004")

// MaxCNSABIBytes bounds a registered ABI.
const MaxCNSABIBytes = 64 << 10

var (
	cnsNameRe    = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
	cnsVersionRe = regexp.MustCompile(`^[A-Za-z0-9_.+-]{1,32}$`)
	evRegistered = exec.NewABIEvent("Registered", exec.Args("string name", "string version", "address addr"))
)

// cnsEntry is one registered name+version.
type cnsEntry struct {
	Addr common.Address
	ABI  string
}

// State keys: cns/e/NAME/VERSION (entry), cns/v/NAME (versions, in order).
func cnsEntryKey(name, version string) string { return "cns/e/" + name + "/" + version }
func cnsVersionsKey(name string) string       { return "cns/v/" + name }

// NewCNS builds the CNS precompile (0x1004): name+version → address and
// ABI, registered once and never overwritten; resolution by name gives the
// latest version.
func NewCNS() *exec.Contract {
	return exec.NewContract(CNSAddress, "CNS", []*exec.Method{
		{ABI: exec.NewABIMethod("register", false, exec.Args("string name", "string version", "address addr", "string abi"), nil),
			Gas: 40000, Keys: func(caller common.Address, a []any) []exec.Access {
				n, v := a[0].(string), a[1].(string)
				return []exec.Access{{Key: RoleKey(RoleDeployer, caller), Mode: exec.Read}, {Key: RoleKey(RoleAdmin, caller), Mode: exec.Read},
					{Key: cnsEntryKey(n, v), Mode: exec.Write}, {Key: cnsVersionsKey(n), Mode: exec.Write}}
			}, Run: cnsRegister},
		{ABI: exec.NewABIMethod("resolve", true, exec.Args("string name"), exec.Args("address addr", "string version", "string abi")),
			Gas: 3000, Run: cnsResolve},
		{ABI: exec.NewABIMethod("resolveVersion", true, exec.Args("string name", "string version"), exec.Args("address addr", "string abi")),
			Gas: 3000, Keys: func(_ common.Address, a []any) []exec.Access {
				return []exec.Access{{Key: cnsEntryKey(a[0].(string), a[1].(string)), Mode: exec.Read}}
			}, Run: cnsResolveVersion},
		{ABI: exec.NewABIMethod("versions", true, exec.Args("string name"), exec.Args("string[]")), Gas: 3000,
			Keys: func(_ common.Address, a []any) []exec.Access {
				return []exec.Access{{Key: cnsVersionsKey(a[0].(string)), Mode: exec.Read}}
			}, Run: func(env *exec.Env, a []any) ([]any, error) { return []any{cnsVersions(env.State, a[0].(string))}, nil }},
	}, evRegistered)
}

func cnsVersions(r state.Reader, name string) []string {
	var vs []string
	if b := r.Get([]byte(cnsVersionsKey(name))); b != nil {
		if err := rlp.DecodeBytes(b, &vs); err != nil {
			panic(fmt.Sprintf("system: corrupt CNS version list: %v", err))
		}
	}
	if vs == nil {
		vs = []string{}
	}
	return vs
}

func cnsRegister(env *exec.Env, a []any) ([]any, error) {
	if !HasRole(env.State, RoleDeployer, env.Caller) && !HasRole(env.State, RoleAdmin, env.Caller) {
		return nil, exec.Fail(types.StatusPermissionDenied, "%s holds neither DEPLOYER nor ADMIN", env.Caller.Hex())
	}
	name, version, addr, abi := a[0].(string), a[1].(string), exec.AddressArg(a[2]), a[3].(string)
	switch {
	case !cnsNameRe.MatchString(name):
		return nil, exec.Fail(types.StatusInvalidArgument, "name %q: 1-64 letters, digits, '_', '.', '-'", name)
	case !cnsVersionRe.MatchString(version):
		return nil, exec.Fail(types.StatusInvalidArgument, "version %q: 1-32 letters, digits, '_', '.', '+', '-'", version)
	case len(abi) > MaxCNSABIBytes:
		return nil, exec.Fail(types.StatusInvalidArgument, "abi of %d bytes exceeds %d", len(abi), MaxCNSABIBytes)
	case env.State.Get([]byte(cnsEntryKey(name, version))) != nil:
		return nil, exec.Fail(types.StatusAlreadyExists, "%s:%s is registered and can never be overwritten; register a new version", name, version)
	}
	enc, _ := rlp.EncodeToBytes(&cnsEntry{Addr: addr, ABI: abi})
	env.State.Set([]byte(cnsEntryKey(name, version)), enc)
	vs, _ := rlp.EncodeToBytes(append(cnsVersions(env.State, name), version))
	env.State.Set([]byte(cnsVersionsKey(name)), vs)
	data, _ := evRegistered.Inputs.Pack(name, version, addr)
	env.Emit(CNSAddress, evRegistered, nil, data)
	return nil, nil
}

func cnsGet(r state.Reader, name, version string) (*cnsEntry, error) {
	b := r.Get([]byte(cnsEntryKey(name, version)))
	if b == nil {
		return nil, exec.Fail(types.StatusNotFound, "%s:%s is not registered", name, version)
	}
	e := new(cnsEntry)
	if err := rlp.DecodeBytes(b, e); err != nil {
		panic(fmt.Sprintf("system: corrupt CNS entry: %v", err))
	}
	return e, nil
}

func cnsResolve(env *exec.Env, a []any) ([]any, error) {
	name := a[0].(string)
	vs := cnsVersions(env.State, name)
	if len(vs) == 0 {
		return nil, exec.Fail(types.StatusNotFound, "%s is not registered", name)
	}
	e, err := cnsGet(env.State, name, vs[len(vs)-1])
	if err != nil {
		return nil, err
	}
	return []any{e.Addr, vs[len(vs)-1], e.ABI}, nil
}

func cnsResolveVersion(env *exec.Env, a []any) ([]any, error) {
	e, err := cnsGet(env.State, a[0].(string), a[1].(string))
	if err != nil {
		return nil, err
	}
	return []any{e.Addr, e.ABI}, nil
}
