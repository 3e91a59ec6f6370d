package system

import "github.com/tallyhq/tally/engine/exec"

// Contracts returns the system precompiles every chain registers.
func Contracts() []*exec.Contract {
	return []*exec.Contract{NewSystemConfig(), NewConsensusAdmin(), NewCNS(), NewRoles()}
}
