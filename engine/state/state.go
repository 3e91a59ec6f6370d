package state

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"slices"
	"unsafe"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"
)

// Backend reads committed state. It returns nil for an absent key. A read
// error from disk is not recoverable mid-block, so Backend implementations
// panic on it (the node stops; nothing continues on state that differs from disk).
// Get must not modify key (it may be a string's bytes).
type Backend interface {
	Get(key []byte) []byte
}

// Reader is what execution reads through: a Backend, a Block or a TxView.
// Get must not modify key (it may be a string's bytes).
type Reader interface {
	Get(key []byte) []byte
}

// keyBytes returns the bytes of key without copying them, for a Reader's
// Get, which does not modify them: converting allocates, and execution
// reads a key of the base state or two per transaction.
func keyBytes(key string) []byte { return unsafe.Slice(unsafe.StringData(key), len(key)) }

// Change is one key's final value after a block; an empty Value is a delete.
type Change struct {
	Key   []byte
	Value []byte
}

// Block is one block's writes over a Backend. It is not safe for concurrent
// writes; concurrent reads are safe while no one writes. Its writes are
// spread over shards by key hash so that Fold can merge a wave of
// transactions on several cores.
type Block struct {
	base  Reader
	dirty [blockShards]map[string][]byte
}

// blockShards is the number of shards of a Block's writes (a power of two).
const blockShards = 16

var shardSeed = maphash.MakeSeed()

func shardOf(key string) int { return int(maphash.String(shardSeed, key) & (blockShards - 1)) }

func shardOfBytes(key []byte) int { return int(maphash.Bytes(shardSeed, key) & (blockShards - 1)) }

// NewBlock starts a block overlay over base.
func NewBlock(base Reader) *Block {
	b := &Block{base: base}
	for i := range b.dirty {
		b.dirty[i] = make(map[string][]byte)
	}
	return b
}

// Get returns the current value of key, or nil.
func (b *Block) Get(key []byte) []byte {
	if v, ok := b.dirty[shardOfBytes(key)][string(key)]; ok {
		return v
	}
	return b.base.Get(key)
}

// GetKey is Get with a string key.
func (b *Block) GetKey(key string) []byte { return b.getShard(shardOf(key), key) }

func (b *Block) getShard(s int, key string) []byte {
	if v, ok := b.dirty[s][key]; ok {
		return v
	}
	return b.base.Get(keyBytes(key))
}

// Set writes key; a nil or empty value deletes it. Values are not copied:
// callers hand over ownership.
func (b *Block) Set(key, value []byte) {
	if len(value) == 0 {
		value = nil
	}
	b.dirty[shardOfBytes(key)][string(key)] = value
}

// setShard is Set for a string key in shard s.
func (b *Block) setShard(s int, key string, value []byte) {
	if len(value) == 0 {
		value = nil
	}
	b.dirty[s][key] = value
}

// Changes returns the block's change set sorted by key. Keys whose final
// value equals the base are still listed: the set records what the block wrote.
func (b *Block) Changes() []Change {
	out := make([]Change, 0, b.Len())
	for _, m := range b.dirty {
		for k, v := range m {
			out = append(out, Change{Key: []byte(k), Value: v})
		}
	}
	slices.SortFunc(out, func(x, y Change) int { return bytes.Compare(x.Key, y.Key) })
	return out
}

// Len is the number of keys written.
func (b *Block) Len() int {
	n := 0
	for _, m := range b.dirty {
		n += len(m)
	}
	return n
}

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
