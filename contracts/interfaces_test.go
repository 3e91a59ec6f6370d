package contracts_test

import (
	"fmt"
	"sort"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"

	"github.com/tallyhq/tally/contracts"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/hubchain"
	"github.com/tallyhq/tally/userchain"
)

// TestInterfacesMatchPrecompiles: every Solidity interface declares exactly
// the methods (by signature and mutability) and events of its precompile,
// so Solidity callers and the Go implementation can never drift apart.
func TestInterfacesMatchPrecompiles(t *testing.T) {
	pairs := map[string]*exec.Contract{
		"ILedger": ledger.New(), "IShadow": userchain.New(), "IHub": hubchain.New(), "IDirectory": hubchain.NewDirectory(),
		"ISystemConfig": system.NewSystemConfig(), "IConsensusAdmin": system.NewConsensusAdmin(), "ICNS": system.NewCNS(), "IRoles": system.NewRoles(),
	}
	for name, pc := range pairs {
		sol, err := contracts.ABI(name)
		if err != nil {
			t.Fatal(err)
		}
		goABI := pc.ABI()
		if a, b := methodSigs(sol.Methods), methodSigs(goABI.Methods); !equal(a, b) {
			t.Errorf("%s methods differ:\n solidity %v\n go       %v", name, a, b)
		}
		var se, ge []string
		for _, e := range sol.Events {
			se = append(se, e.Sig)
		}
		for _, e := range goABI.Events {
			ge = append(ge, e.Sig)
		}
		sort.Strings(se)
		sort.Strings(ge)
		if !equal(se, ge) {
			t.Errorf("%s events differ:\n solidity %v\n go       %v", name, se, ge)
		}
	}
}

// methodSigs renders each method as "sig mutability -> outputs", sorted.
func methodSigs(m map[string]abi.Method) []string {
	var out []string
	for _, x := range m {
		view := x.StateMutability == "view" || x.StateMutability == "pure"
		var outs []string
		for _, o := range x.Outputs {
			outs = append(outs, o.Type.String())
		}
		out = append(out, fmt.Sprintf("%s view=%v -> %v", x.Sig, view, outs))
	}
	sort.Strings(out)
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
