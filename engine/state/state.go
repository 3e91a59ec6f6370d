package state

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"
)

// Backend reads committed state. It returns nil for an absent key. A read
// error from disk is not recoverable mid-block, so Backend implementations
// panic on it (the node stops; nothing continues on state that differs from disk).
type Backend interface {
	Get(key []byte) []byte
}

// Reader is what execution reads through: a Backend, a Block or a TxView.
type Reader interface {
	Get(key []byte) []byte
}

// Change is one key's final value after a block; an empty Value is a delete.
type Change struct {
	Key   []byte
	Value []byte
}

// Block is one block's writes over a Backend. It is not safe for concurrent
// writes; concurrent reads are safe while no one writes.
type Block struct {
	base  Reader
	dirty map[string][]byte
}

// NewBlock starts a block overlay over base.
func NewBlock(base Reader) *Block {
	return &Block{base: base, dirty: make(map[string][]byte)}
}

// Get returns the current value of key, or nil.
func (b *Block) Get(key []byte) []byte {
	if v, ok := b.dirty[string(key)]; ok {
		return v
	}
	return b.base.Get(key)
}

// Set writes key; a nil or empty value deletes it. Values are not copied:
// callers hand over ownership.
func (b *Block) Set(key, value []byte) {
	if len(value) == 0 {
		value = nil
	}
	b.dirty[string(key)] = value
}

// Changes returns the block's change set sorted by key. Keys whose final
// value equals the base are still listed: the set records what the block wrote.
func (b *Block) Changes() []Change {
	out := make([]Change, 0, len(b.dirty))
	for k, v := range b.dirty {
		out = append(out, Change{Key: []byte(k), Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].Key, out[j].Key) < 0 })
	return out
}

// Len is the number of keys written.
func (b *Block) Len() int { return len(b.dirty) }

// HashFunc is the chain suite's hash.
type HashFunc func(data ...[]byte) common.Hash

// NextRoot chains the state root: H("tally/state" || prev || H(rlp(changes))).
// FISCO BCOS 2.x style — there is no trie; the root commits to the whole
// history of sorted change sets.
func NextRoot(h HashFunc, prev common.Hash, changes []Change) common.Hash {
	enc, err := rlp.EncodeToBytes(changes)
	if err != nil {
		panic(fmt.Sprintf("state: encode changes: %v", err))
	}
	setHash := h(enc)
	return h([]byte("tally/state"), prev[:], setHash[:])
}
