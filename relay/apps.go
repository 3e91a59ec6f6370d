package relay

import (
	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/evm"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/hubchain"
	"github.com/tallyhq/tally/userchain"
)

// Executor builds the executor of a consortium chain from its genesis app:
// the base precompiles, plus Shadow on user chains or Hub on the hub.
func Executor(gen *chain.Genesis) *exec.Executor {
	cs := append(system.Contracts(), ledger.New())
	switch gen.App {
	case chain.AppUser:
		cs = append(cs, userchain.New())
	case chain.AppHub:
		cs = append(cs, hubchain.New(), hubchain.NewDirectory())
	}
	return evm.NewExecutor(evm.Options{}, cs...)
}
