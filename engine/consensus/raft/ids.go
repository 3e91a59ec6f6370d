package raft

import (
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	hraft "github.com/hashicorp/raft"
)

// ServerID is a validator's Raft server id (and address): its hex address.
func ServerID(a common.Address) hraft.ServerID { return hraft.ServerID(strings.ToLower(a.Hex())) }

// AddressOf parses a server id or address back to the validator address.
func AddressOf(s string) (common.Address, error) {
	if !common.IsHexAddress(s) {
		return common.Address{}, fmt.Errorf("raft: server %q is not a validator address", s)
	}
	return common.HexToAddress(s), nil
}

// MaxSnapshotBytes bounds a snapshot sent in one InstallSnapshot: Tally's
// snapshots name a block (the state travels by block sync), so they are tiny.
const MaxSnapshotBytes = 1 << 20
