package system

import (
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/types"
)

// RolesAddress is the Roles precompile's fixed address.
var RolesAddress = common.HexToAddress("0x1005")

// The roles. ADMIN governs roles and configuration; ISSUER mints and burns
// (bank deposits and withdrawals); SETTLER closes epochs; DEPLOYER deploys
// contracts; MERCHANT operates a hot account.
const (
	RoleAdmin    = "ADMIN"
	RoleIssuer   = "ISSUER"
	RoleSettler  = "SETTLER"
	RoleDeployer = "DEPLOYER"
	RoleMerchant = "MERCHANT"
)

// Roles lists every valid role.
var Roles = []string{RoleAdmin, RoleIssuer, RoleSettler, RoleDeployer, RoleMerchant}

func validRole(r string) bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// RoleKey is the state key recording that account holds role.
func RoleKey(role string, account common.Address) string {
	return "roles/m/" + role + "/" + string(account[:])
}

func roleCountKey(role string) string { return "roles/n/" + role }

// HasRole reports whether account holds role in r.
func HasRole(r state.Reader, role string, account common.Address) bool {
	return len(r.Get([]byte(RoleKey(role, account)))) > 0
}

// RequireRole returns a permission failure unless env's caller holds role.
func RequireRole(env *exec.Env, role string) error {
	if !HasRole(env.State, role, env.Caller) {
		return exec.Fail(types.StatusPermissionDenied, "%s does not hold role %s", env.Caller, role)
	}
	return nil
}

// GrantGenesis writes a role grant directly (genesis only).
func GrantGenesis(w state.Writer, role string, account common.Address) error {
	if !validRole(role) {
		return exec.Fail(types.StatusInvalidArgument, "unknown role %q (valid: %v)", role, Roles)
	}
	return setRole(w, role, account, true)
}

var (
	evRoleGranted = exec.NewABIEvent("RoleGranted", exec.Args("string role", "address account", "address by"), "account", "by")
	evRoleRevoked = exec.NewABIEvent("RoleRevoked", exec.Args("string role", "address account", "address by"), "account", "by")
)

// NewRoles builds the Roles precompile.
func NewRoles() *exec.Contract {
	roleKeys := func(caller common.Address, args []any) []exec.Access {
		role, acct := args[0].(string), exec.AddressArg(args[1])
		return []exec.Access{
			{Key: RoleKey(RoleAdmin, caller), Mode: exec.Read},
			{Key: RoleKey(role, acct), Mode: exec.Write},
			{Key: roleCountKey(role), Mode: exec.Write},
		}
	}
	return exec.NewContract(RolesAddress, "Roles", []*exec.Method{
		{ABI: exec.NewABIMethod("grantRole", false, exec.Args("string role", "address account"), nil),
			Gas: 20000, Keys: roleKeys, Run: func(env *exec.Env, a []any) ([]any, error) { return nil, changeRole(env, a, true) }},
		{ABI: exec.NewABIMethod("revokeRole", false, exec.Args("string role", "address account"), nil),
			Gas: 20000, Keys: roleKeys, Run: func(env *exec.Env, a []any) ([]any, error) { return nil, changeRole(env, a, false) }},
		{ABI: exec.NewABIMethod("hasRole", true, exec.Args("string role", "address account"), exec.Args("bool")),
			Gas: 2000, Keys: func(_ common.Address, a []any) []exec.Access {
				return []exec.Access{{Key: RoleKey(a[0].(string), exec.AddressArg(a[1])), Mode: exec.Read}}
			},
			Run: func(env *exec.Env, a []any) ([]any, error) {
				return []any{HasRole(env.State, a[0].(string), exec.AddressArg(a[1]))}, nil
			}},
	}, evRoleGranted, evRoleRevoked)
}

func changeRole(env *exec.Env, args []any, grant bool) error {
	role, acct := args[0].(string), exec.AddressArg(args[1])
	if err := RequireRole(env, RoleAdmin); err != nil {
		return err
	}
	if !validRole(role) {
		return exec.Fail(types.StatusInvalidArgument, "unknown role %q (valid: %v)", role, Roles)
	}
	if HasRole(env.State, role, acct) == grant {
		return nil // idempotent: granting a held role or revoking an absent one changes nothing
	}
	if !grant && role == RoleAdmin && roleCount(env.State, RoleAdmin) <= 1 {
		return exec.Fail(types.StatusInvalidArgument, "cannot revoke the last ADMIN")
	}
	if err := setRole(env.State, role, acct, grant); err != nil {
		return err
	}
	ev := evRoleRevoked
	if grant {
		ev = evRoleGranted
	}
	data, _ := abi.Arguments{ev.Inputs[0]}.Pack(role)
	env.Emit(RolesAddress, ev, []common.Hash{common.BytesToHash(acct[:]), common.BytesToHash(env.Caller[:])}, data)
	return nil
}

func roleCount(r state.Reader, role string) uint64 {
	return state.DecodeUint(r.Get([]byte(roleCountKey(role)))).Uint64()
}

func setRole(w state.Writer, role string, acct common.Address, on bool) error {
	if HasRole(w, role, acct) == on {
		return nil
	}
	n := roleCount(w, role)
	var v []byte
	if on {
		n, v = n+1, []byte{1}
	} else {
		n--
	}
	w.Set([]byte(RoleKey(role, acct)), v)
	w.Set([]byte(roleCountKey(role)), state.EncodeUint(uint256New(n)))
	return nil
}
