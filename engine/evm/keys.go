package evm

import (
	"encoding/binary"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tallyhq/tally/engine/state"
)

// The EVM's state keys. Addresses, hashes and slots appear as raw bytes.
//
//	"evm/a/" + address(20)            account: nonce as 8 bytes big-endian, then the 32-byte
//	                                  code hash when the account has code. Absent: nonce 0, no
//	                                  code. An empty account is never stored (EIP-161 would
//	                                  delete it at the end of the transaction anyway).
//	"evm/c/" + keccak256(code)(32)    code, content-addressed: written once, shared by every
//	                                  account with the same code, never deleted.
//	"evm/s/" + address(20) + slot(32) storage value, 32 bytes big-endian; absent is zero.
//
// A self-destruct (EIP-6780: only in the transaction that created the
// contract) deletes the account key and every storage key it wrote.
const (
	prefixAccount = "evm/a/"
	prefixCode    = "evm/c/"
	prefixStorage = "evm/s/"
)

func accountKey(a common.Address) []byte {
	return append(append(make([]byte, 0, len(prefixAccount)+common.AddressLength), prefixAccount...), a[:]...)
}

func codeKey(h common.Hash) []byte {
	return append(append(make([]byte, 0, len(prefixCode)+common.HashLength), prefixCode...), h[:]...)
}

func storageKey(a common.Address, slot common.Hash) []byte {
	k := make([]byte, 0, len(prefixStorage)+common.AddressLength+common.HashLength)
	return append(append(append(k, prefixStorage...), a[:]...), slot[:]...)
}

// account is the decoded form of an account key.
type account struct {
	nonce    uint64
	codeHash common.Hash // zero when the account has no code
}

func (a account) hasCode() bool { return a.codeHash != (common.Hash{}) }
func (a account) empty() bool   { return a.nonce == 0 && !a.hasCode() }

func encodeAccount(a account) []byte {
	if a.empty() {
		return nil
	}
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 8+common.HashLength), a.nonce)
	if a.hasCode() {
		b = append(b, a.codeHash[:]...)
	}
	return b
}

// decodeAccount panics on a malformed value: the state is written only by
// encodeAccount, so anything else is corruption the node must not run on.
func decodeAccount(b []byte) account {
	switch len(b) {
	case 0:
		return account{}
	case 8:
		return account{nonce: binary.BigEndian.Uint64(b)}
	case 8 + common.HashLength:
		return account{nonce: binary.BigEndian.Uint64(b), codeHash: common.BytesToHash(b[8:])}
	}
	panic(fmt.Sprintf("evm: corrupt account record of %d bytes", len(b)))
}

func encodeWord(h common.Hash) []byte {
	if h == (common.Hash{}) {
		return nil
	}
	return common.CopyBytes(h[:])
}

// Nonce returns how many contracts a has created (its EVM nonce); a
// contract starts at 1 (EIP-161).
func Nonce(r state.Reader, a common.Address) uint64 {
	return decodeAccount(r.Get(accountKey(a))).nonce
}

// Code returns the code deployed at a, or nil.
func Code(r state.Reader, a common.Address) []byte {
	acct := decodeAccount(r.Get(accountKey(a)))
	if !acct.hasCode() {
		return nil
	}
	return r.Get(codeKey(acct.codeHash))
}

// Storage returns a's storage slot.
func Storage(r state.Reader, a common.Address, slot common.Hash) common.Hash {
	return common.BytesToHash(r.Get(storageKey(a, slot)))
}

// Deploy writes code at a directly, as a genesis allocation does: the
// account gets nonce 1 like any contract. It is for genesis and tests; a
// running chain deploys through transactions.
func Deploy(w state.Writer, a common.Address, code []byte) {
	if len(code) == 0 {
		panic("evm: Deploy without code")
	}
	h := crypto.Keccak256Hash(code)
	w.Set(codeKey(h), common.CopyBytes(code))
	w.Set(accountKey(a), encodeAccount(account{nonce: 1, codeHash: h}))
}
