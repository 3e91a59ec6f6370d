package pbft

import "github.com/ethereum/go-ethereum/common"

// Status is a snapshot for logs, metrics and tests.
type Status struct {
	Height   uint64 // being decided
	View     uint64
	InView   bool // false during a view change
	Leader   common.Address
	Proposal common.Hash // accepted in View; zero if none
	Prepared *PreparedCert
	LastHash common.Hash // last committed block
	Busy     bool        // the view timer is running
	Timer    int         // ticks counted in View
	Timeout  int         // ticks View may last
	Guarded  bool        // restored above the durable head: syncing, not voting
}

// Status returns the current snapshot.
func (m *Machine) Status() Status {
	return Status{
		Height: m.height, View: m.hs.View, InView: m.hs.InView, Leader: m.addr(m.leader(m.hs.View)),
		Proposal: m.r.proposal, Prepared: m.hs.Prepared, LastHash: m.lastHash,
		Busy: m.guard == nil && m.busy(), Timer: m.timer, Timeout: m.timeout(), Guarded: m.guard != nil,
	}
}
