package evm_test

import (
	"testing"

	"github.com/tallyhq/tally/engine/evm"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/hubchain"
	"github.com/tallyhq/tally/userchain"
)

// TestEveryChainsPrecompilesInstall: the precompiles of user chains and of
// the hub fit beside go-ethereum's (New panics on a clash).
func TestEveryChainsPrecompilesInstall(t *testing.T) {
	base := append(system.Contracts(), ledger.New())
	for name, cs := range map[string][]*exec.Contract{
		"user": append(base, userchain.New()),
		"hub":  append(append([]*exec.Contract(nil), base...), hubchain.New(), hubchain.NewDirectory()),
	} {
		t.Run(name, func(t *testing.T) { evm.NewExecutor(evm.Options{}, cs...) })
	}
}
