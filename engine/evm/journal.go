package evm

import (
	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/types"
)

// The parts of a transaction's EVM state that do not live in the TxView
// have their own journal; a snapshot records a position in both.

type slotRef struct {
	addr common.Address
	slot common.Hash
}

type undoKind uint8

const (
	undoAccessAddr undoKind = iota + 1
	undoAccessSlot
	undoTransient
	undoRefund
	undoLog
	undoNewContract
	undoDestruct
)

// undo reverses one change; which fields matter depends on kind.
type undo struct {
	kind undoKind
	ref  slotRef
	prev common.Hash // transient: the previous value
	n    uint64      // refund: the previous counter
}

type snapshot struct {
	view    int // state.TxView snapshot
	journal int // len(journal) when taken
}

// txJournal is the per-transaction state the EVM keeps outside the TxView.
type txJournal struct {
	entries      []undo
	snaps        []snapshot
	refund       uint64
	logs         []*types.Log
	warm         map[common.Address]struct{} // always in the access list; never journaled
	accessAddrs  map[common.Address]struct{}
	accessSlots  map[slotRef]struct{}
	transient    map[slotRef]common.Hash
	newContracts map[common.Address]struct{} // created in this transaction (EIP-6780)
	destructed   map[common.Address]struct{}
}

func newTxJournal(warm map[common.Address]struct{}) *txJournal {
	return &txJournal{warm: warm, accessAddrs: make(map[common.Address]struct{})}
}

func (j *txJournal) push(u undo) { j.entries = append(j.entries, u) }

// unwind undoes entries down to length n.
func (j *txJournal) unwind(n int) {
	for i := len(j.entries) - 1; i >= n; i-- {
		j.undo(j.entries[i])
	}
	j.entries = j.entries[:n]
}

func (j *txJournal) undo(u undo) {
	switch u.kind {
	case undoAccessAddr:
		delete(j.accessAddrs, u.ref.addr)
	case undoAccessSlot:
		delete(j.accessSlots, u.ref)
	case undoTransient:
		j.setTransient(u.ref, u.prev)
	case undoRefund:
		j.refund = u.n
	case undoLog:
		j.logs = j.logs[:len(j.logs)-1]
	case undoNewContract:
		delete(j.newContracts, u.ref.addr)
	case undoDestruct:
		delete(j.destructed, u.ref.addr)
	default:
		panic("evm: unknown journal entry")
	}
}

func (j *txJournal) setTransient(r slotRef, v common.Hash) {
	if v == (common.Hash{}) {
		delete(j.transient, r)
		return
	}
	if j.transient == nil {
		j.transient = make(map[slotRef]common.Hash)
	}
	j.transient[r] = v
}

// mark adds a to a lazily made set, journaling the addition.
func (j *txJournal) mark(set *map[common.Address]struct{}, a common.Address, kind undoKind) {
	if _, ok := (*set)[a]; ok {
		return
	}
	if *set == nil {
		*set = make(map[common.Address]struct{})
	}
	(*set)[a] = struct{}{}
	j.push(undo{kind: kind, ref: slotRef{addr: a}})
}

func (j *txJournal) addLog(l *types.Log) {
	j.logs = append(j.logs, l)
	j.push(undo{kind: undoLog})
}

func (j *txJournal) setRefund(n uint64) {
	j.push(undo{kind: undoRefund, n: j.refund})
	j.refund = n
}

func (j *txJournal) inAccessList(a common.Address) bool {
	if _, ok := j.warm[a]; ok {
		return true
	}
	_, ok := j.accessAddrs[a]
	return ok
}

func (j *txJournal) addAccessAddr(a common.Address, journal bool) {
	if j.inAccessList(a) {
		return
	}
	j.accessAddrs[a] = struct{}{}
	if journal {
		j.push(undo{kind: undoAccessAddr, ref: slotRef{addr: a}})
	}
}

func (j *txJournal) addAccessSlot(r slotRef, journal bool) {
	j.addAccessAddr(r.addr, journal)
	if _, ok := j.accessSlots[r]; ok {
		return
	}
	if j.accessSlots == nil {
		j.accessSlots = make(map[slotRef]struct{})
	}
	j.accessSlots[r] = struct{}{}
	if journal {
		j.push(undo{kind: undoAccessSlot, ref: r})
	}
}
