package evm

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/stateless"
	"github.com/ethereum/go-ethereum/core/tracing"
	gethtypes "github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/types/bal"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/holiman/uint256"

	tstate "github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/types"
)

// shared is what the stateDBs of one VM share; none of it changes.
type shared struct {
	codes *codeCache
	// warm holds the precompiles, which are in every access list (EIP-2929)
	// and never leave it, so no transaction needs to add them.
	warm map[common.Address]struct{}
	// native holds Tally's precompiles. They show a one-byte marker as
	// their code so that Solidity's extcodesize check (made before a call
	// that expects no return data) passes; calls still reach the precompile,
	// which the EVM dispatches before looking at code.
	native map[common.Address]struct{}
}

// nativeMarker is the code Tally's precompiles show: INVALID, never run.
var nativeMarker = []byte{0xfe}

var nativeMarkerHash = crypto.Keccak256Hash(nativeMarker)

// stateDB is vm.StateDB over one transaction's TxView. It lives for one
// transaction: accounts, code and storage go to the view (whose journal
// reverts them); the rest is in txJournal.
type stateDB struct {
	view *tstate.TxView
	*shared
	*txJournal
	// original holds storage values as they were when the transaction
	// started (EIP-2200), recorded before a slot's first write.
	original map[slotRef]common.Hash
	// written lists the slots each new contract wrote, which its
	// self-destruct must delete.
	written map[common.Address]map[common.Hash]struct{}
}

var _ vm.StateDB = (*stateDB)(nil)

func newStateDB(view *tstate.TxView, sh *shared) *stateDB {
	return &stateDB{view: view, shared: sh, txJournal: newTxJournal(sh.warm)}
}

func (s *stateDB) account(a common.Address) account { return decodeAccount(s.view.Get(accountKey(a))) }

func (s *stateDB) setAccount(a common.Address, acct account) {
	s.view.Set(accountKey(a), encodeAccount(acct))
}

// An account exists while it has a nonce or code (balances are always
// zero). go-ethereum also counts an empty account as existing from the
// moment it is touched until the end of the transaction; under EIP-158 no
// result depends on that: the EVM asks Exist only before calling an
// account without code (which runs nothing either way) and before a
// creation (whose collision check reads nonce and code).

// CreateAccount has nothing to store: an account with no nonce and no code
// is not kept.
func (s *stateDB) CreateAccount(common.Address) {}

// CreateContract marks a as created in this transaction (EIP-6780).
func (s *stateDB) CreateContract(a common.Address) { s.mark(&s.newContracts, a, undoNewContract) }

func (s *stateDB) IsNewContract(a common.Address) bool { _, ok := s.newContracts[a]; return ok }

func (s *stateDB) Exist(a common.Address) bool { return !s.account(a).empty() }
func (s *stateDB) Empty(a common.Address) bool { return s.account(a).empty() }

// Touch records block-level access lists (Amsterdam), which are off.
func (s *stateDB) Touch(common.Address) {}

// GetBalance is always zero: Tally has no native coin.
func (s *stateDB) GetBalance(common.Address) *uint256.Int { return new(uint256.Int) }

// AddBalance and SubBalance only ever see zero: the block context's
// CanTransfer refuses every non-zero value before the EVM moves it.
func (s *stateDB) AddBalance(a common.Address, v *uint256.Int, _ tracing.BalanceChangeReason) uint256.Int {
	mustBeZero(v)
	return uint256.Int{}
}

func (s *stateDB) SubBalance(a common.Address, v *uint256.Int, _ tracing.BalanceChangeReason) uint256.Int {
	mustBeZero(v)
	return uint256.Int{}
}

func mustBeZero(v *uint256.Int) {
	if !v.IsZero() {
		panic(fmt.Sprintf("evm: balance change of %s reached the state; value transfers must be refused", v))
	}
}

func (s *stateDB) GetNonce(a common.Address) uint64 { return s.account(a).nonce }

func (s *stateDB) SetNonce(a common.Address, n uint64, _ tracing.NonceChangeReason) {
	acct := s.account(a)
	acct.nonce = n
	s.setAccount(a, acct)
}

// GetCodeHash follows go-ethereum: zero for an account that does not
// exist, the empty-code hash for one without code.
func (s *stateDB) GetCodeHash(a common.Address) common.Hash {
	if _, ok := s.native[a]; ok {
		return nativeMarkerHash
	}
	acct := s.account(a)
	switch {
	case acct.hasCode():
		return acct.codeHash
	case acct.empty():
		return common.Hash{}
	}
	return gethtypes.EmptyCodeHash
}

func (s *stateDB) GetCode(a common.Address) []byte {
	if _, ok := s.native[a]; ok {
		return nativeMarker
	}
	acct := s.account(a)
	if !acct.hasCode() {
		return nil
	}
	return s.code(acct.codeHash)
}

func (s *stateDB) code(h common.Hash) []byte {
	if c, ok := s.codes.get(h); ok {
		return c
	}
	c := s.view.Get(codeKey(h))
	if len(c) == 0 {
		panic(fmt.Sprintf("evm: code %x is referenced but missing", h))
	}
	c = bytes.Clone(c) // the cache outlives the backend's buffer
	s.codes.put(h, c)
	return c
}

func (s *stateDB) GetCodeSize(a common.Address) int { return len(s.GetCode(a)) }

// SetCode stores code under its hash (once) and points the account at it.
func (s *stateDB) SetCode(a common.Address, code []byte, _ tracing.CodeChangeReason) []byte {
	prev := s.GetCode(a)
	acct := s.account(a)
	acct.codeHash = common.Hash{}
	if len(code) > 0 {
		acct.codeHash = crypto.Keccak256Hash(code)
		if k := codeKey(acct.codeHash); s.view.Get(k) == nil {
			s.view.Set(k, bytes.Clone(code))
		}
	}
	s.setAccount(a, acct)
	return prev
}

func (s *stateDB) GetState(a common.Address, slot common.Hash) common.Hash {
	return common.BytesToHash(s.view.Get(storageKey(a, slot)))
}

// GetStateAndCommittedState returns the current value and the value at
// the start of the transaction: until a slot's first write they are equal.
func (s *stateDB) GetStateAndCommittedState(a common.Address, slot common.Hash) (common.Hash, common.Hash) {
	cur := s.GetState(a, slot)
	if orig, ok := s.original[slotRef{a, slot}]; ok {
		return cur, orig
	}
	return cur, cur
}

// SetState writes a slot and returns its previous value. An unchanged
// value is not written, so it does not appear in the block's change set.
func (s *stateDB) SetState(a common.Address, slot, v common.Hash) common.Hash {
	prev := s.GetState(a, slot)
	if prev == v {
		return prev
	}
	r := slotRef{a, slot}
	if _, ok := s.original[r]; !ok {
		if s.original == nil {
			s.original = make(map[slotRef]common.Hash)
		}
		s.original[r] = prev
	}
	if _, ok := s.newContracts[a]; ok {
		s.noteWrite(r)
	}
	s.view.Set(storageKey(a, slot), encodeWord(v))
	return prev
}

func (s *stateDB) noteWrite(r slotRef) {
	if s.written == nil {
		s.written = make(map[common.Address]map[common.Hash]struct{})
	}
	if s.written[r.addr] == nil {
		s.written[r.addr] = make(map[common.Hash]struct{})
	}
	s.written[r.addr][r.slot] = struct{}{}
}

func (s *stateDB) GetTransientState(a common.Address, k common.Hash) common.Hash {
	return s.transient[slotRef{a, k}]
}

func (s *stateDB) SetTransientState(a common.Address, k, v common.Hash) {
	r := slotRef{a, k}
	prev := s.transient[r]
	if prev == v {
		return
	}
	s.push(undo{kind: undoTransient, ref: r, prev: prev})
	s.setTransient(r, v)
}

// SelfDestruct is only called for contracts created in this transaction
// (EIP-6780); Finalise deletes them.
func (s *stateDB) SelfDestruct(a common.Address) { s.mark(&s.destructed, a, undoDestruct) }

func (s *stateDB) HasSelfDestructed(a common.Address) bool { _, ok := s.destructed[a]; return ok }

func (s *stateDB) AddRefund(n uint64) { s.setRefund(s.refund + n) }

func (s *stateDB) SubRefund(n uint64) {
	if n > s.refund {
		panic(fmt.Sprintf("evm: refund counter below zero (%d > %d)", n, s.refund))
	}
	s.setRefund(s.refund - n)
}

func (s *stateDB) GetRefund() uint64 { return s.refund }

func (s *stateDB) AddressInAccessList(a common.Address) bool { return s.inAccessList(a) }

func (s *stateDB) SlotInAccessList(a common.Address, slot common.Hash) (bool, bool) {
	_, slotOK := s.accessSlots[slotRef{a, slot}]
	return s.inAccessList(a), slotOK
}

func (s *stateDB) AddAddressToAccessList(a common.Address) { s.addAccessAddr(a, true) }

func (s *stateDB) AddSlotToAccessList(a common.Address, slot common.Hash) {
	s.addAccessSlot(slotRef{a, slot}, true)
}

// Prepare warms the access list as go-ethereum does at the start of a
// transaction (EIP-2929, EIP-3651). The journal is fresh per transaction,
// so there is nothing to clear, and these entries are never reverted.
func (s *stateDB) Prepare(rules params.Rules, sender, coinbase common.Address, dst *common.Address, precompiles []common.Address, list gethtypes.AccessList) {
	if !rules.IsEIP2929 {
		return
	}
	s.addAccessAddr(sender, false)
	if dst != nil {
		s.addAccessAddr(*dst, false)
	}
	for _, a := range precompiles {
		s.addAccessAddr(a, false)
	}
	for _, el := range list {
		s.addAccessAddr(el.Address, false)
		for _, k := range el.StorageKeys {
			s.addAccessSlot(slotRef{el.Address, k}, false)
		}
	}
	if rules.IsShanghai {
		s.addAccessAddr(coinbase, false)
	}
}

// Snapshot returns an id for RevertToSnapshot; ids are positions in a
// stack, and a revert discards its id and every later one.
func (s *stateDB) Snapshot() int {
	s.snaps = append(s.snaps, snapshot{view: s.view.Snapshot(), journal: len(s.entries)})
	return len(s.snaps) - 1
}

func (s *stateDB) RevertToSnapshot(id int) {
	if id < 0 || id >= len(s.snaps) {
		panic(fmt.Sprintf("evm: revert to unknown snapshot %d of %d", id, len(s.snaps)))
	}
	snap := s.snaps[id]
	s.unwind(snap.journal)
	s.view.RevertToSnapshot(snap.view)
	s.snaps = s.snaps[:id]
}

// AddLog keeps the EVM's log; receipts carry address, topics and data.
func (s *stateDB) AddLog(l *gethtypes.Log) {
	s.addLog(&types.Log{Address: l.Address, Topics: l.Topics, Data: l.Data})
}

func (s *stateDB) AddPreimage(common.Hash, []byte) {}

// Witness is for stateless execution and AccessEvents for EIP-4762
// (UBT), neither of which this chain runs.
func (s *stateDB) Witness() *stateless.Witness       { return nil }
func (s *stateDB) AccessEvents() *state.AccessEvents { return nil }

func (s *stateDB) SetTxContext(common.Hash, int, uint32) {}

// Finalise ends the transaction: self-destructed contracts are deleted
// with every slot they wrote. The block-level access list is Amsterdam's.
func (s *stateDB) Finalise(params.Rules) *bal.ConstructionBlockAccessList {
	for _, a := range sortedAddrs(s.destructed) {
		s.view.Set(accountKey(a), nil)
		for _, slot := range sortedSlots(s.written[a]) {
			if k := storageKey(a, slot); s.view.Get(k) != nil {
				s.view.Set(k, nil)
			}
		}
	}
	return nil
}

func sortedAddrs(m map[common.Address]struct{}) []common.Address {
	out := make([]common.Address, 0, len(m))
	for a := range m {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i][:], out[j][:]) < 0 })
	return out
}

func sortedSlots(m map[common.Hash]struct{}) []common.Hash {
	out := make([]common.Hash, 0, len(m))
	for h := range m {
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i][:], out[j][:]) < 0 })
	return out
}
