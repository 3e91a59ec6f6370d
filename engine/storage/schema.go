package storage

import (
	"encoding/binary"
	"errors"

	"github.com/ethereum/go-ethereum/common"
)

// The key schema. Every key the engine writes is built here; one database
// holds one chain (a node hosting several chains opens one database each).
//
//	key                         value
//	"m/genesis"                 genesis block hash (32)
//	"m/head"                    height (8, big-endian) || block hash (32)
//	"H" height(8)               canonical header
//	"B" height(8)               canonical transaction list of the block
//	"R" height(8)               canonical receipt list of the block
//	"C" height(8)               canonical finality certificate
//	"N" blockhash(32)           height (8)
//	"T" txhash(32)              height (8) || index in block (4)
//	"L" blocklimit(8) nonce(32) 1 — a committed nonce, replayable until head >= blocklimit
//	"S" statekey                state value (state keys are namespaced by their owner, see engine/state)
//	"x/" name                   a consumer's own cursor (relay, exporter), owned by that consumer
//	"r/l/" index(8)             raft log entry (engine/storage/raftstore encoding)
//	"r/m/last"                  index (8) of the newest raft log entry; absent while the log is empty
//	"r/s/" key                  raft stable-store value (current term, vote) under raft's own key
//
// A block, its receipts, certificate, indexes, state changes and the new
// "m/head" are written in one atomic batch, so the head always names a block
// whose every record is present.
//
// The "r/" records belong to raftstore alone. Every batch that adds or
// removes the newest raft log entry also rewrites "r/m/last", so it always
// names a present entry.
var (
	KeyGenesis = []byte("m/genesis")
	KeyHead    = []byte("m/head")

	prefixHeader   = []byte("H")
	prefixBody     = []byte("B")
	prefixReceipts = []byte("R")
	prefixCert     = []byte("C")
	prefixHashNum  = []byte("N")
	prefixTxLookup = []byte("T")
	PrefixState    = []byte("S")
	PrefixNonce    = []byte("L")
	prefixCursor   = []byte("x/")

	// PrefixRaftLog prefixes every raft log entry key.
	PrefixRaftLog = []byte("r/l/")
	// KeyRaftLastIndex holds the index of the newest raft log entry.
	KeyRaftLastIndex = []byte("r/m/last")
	prefixRaftStable = []byte("r/s/")
)

// RaftLogKey is the key of the raft log entry at index i; keys sort by index.
func RaftLogKey(i uint64) []byte { return heightKey(PrefixRaftLog, i) }

// DecodeRaftLogKey returns the index of a raft log entry key.
func DecodeRaftLogKey(k []byte) (uint64, error) {
	if len(k) != len(PrefixRaftLog)+8 || string(k[:len(PrefixRaftLog)]) != string(PrefixRaftLog) {
		return 0, errors.New("storage: corrupt raft log key")
	}
	return binary.BigEndian.Uint64(k[len(PrefixRaftLog):]), nil
}

// RaftStableKey is the key of raft stable-store key k.
func RaftStableKey(k []byte) []byte { return join(prefixRaftStable, k) }

func heightKey(prefix []byte, h uint64) []byte {
	k := make([]byte, len(prefix)+8)
	copy(k, prefix)
	binary.BigEndian.PutUint64(k[len(prefix):], h)
	return k
}

func join(prefix []byte, b []byte) []byte {
	k := make([]byte, 0, len(prefix)+len(b))
	return append(append(k, prefix...), b...)
}

// HeaderKey is the key of the header at height h.
func HeaderKey(h uint64) []byte { return heightKey(prefixHeader, h) }

// BodyKey is the key of the transaction list at height h.
func BodyKey(h uint64) []byte { return heightKey(prefixBody, h) }

// ReceiptsKey is the key of the receipt list at height h.
func ReceiptsKey(h uint64) []byte { return heightKey(prefixReceipts, h) }

// CertKey is the key of the finality certificate at height h.
func CertKey(h uint64) []byte { return heightKey(prefixCert, h) }

// HashKey maps a block hash to its height.
func HashKey(hash common.Hash) []byte { return join(prefixHashNum, hash[:]) }

// TxKey maps a transaction hash to its location.
func TxKey(hash common.Hash) []byte { return join(prefixTxLookup, hash[:]) }

// StateKey is the database key of state key k.
func StateKey(k []byte) []byte { return join(PrefixState, k) }

// CursorKey is a consumer's own record, e.g. CursorKey("relay/chain-1").
func CursorKey(name string) []byte { return join(prefixCursor, []byte(name)) }

// EncodeHead encodes the "m/head" value.
func EncodeHead(height uint64, hash common.Hash) []byte {
	v := make([]byte, 40)
	binary.BigEndian.PutUint64(v, height)
	copy(v[8:], hash[:])
	return v
}

// DecodeHead decodes the "m/head" value.
func DecodeHead(v []byte) (uint64, common.Hash, error) {
	if len(v) != 40 {
		return 0, common.Hash{}, errors.New("storage: corrupt head record")
	}
	return binary.BigEndian.Uint64(v), common.BytesToHash(v[8:]), nil
}

// ReadHead reads the "m/head" record of a chain's database: the committed
// height and its block hash, or ErrNotFound when no chain was written.
func ReadHead(r Reader) (uint64, common.Hash, error) {
	v, err := r.Get(KeyHead)
	if err != nil {
		return 0, common.Hash{}, err
	}
	return DecodeHead(v)
}

// EncodeHeight encodes a height value.
func EncodeHeight(h uint64) []byte { return binary.BigEndian.AppendUint64(nil, h) }

// DecodeHeight decodes a height value.
func DecodeHeight(v []byte) (uint64, error) {
	if len(v) != 8 {
		return 0, errors.New("storage: corrupt height record")
	}
	return binary.BigEndian.Uint64(v), nil
}

// EncodeTxLoc encodes a transaction's location.
func EncodeTxLoc(height uint64, index uint32) []byte {
	v := binary.BigEndian.AppendUint64(nil, height)
	return binary.BigEndian.AppendUint32(v, index)
}

// DecodeTxLoc decodes a transaction's location.
func DecodeTxLoc(v []byte) (uint64, uint32, error) {
	if len(v) != 12 {
		return 0, 0, errors.New("storage: corrupt tx location record")
	}
	return binary.BigEndian.Uint64(v), binary.BigEndian.Uint32(v[8:]), nil
}

// NonceKey records a committed transaction nonce under its block limit, so
// that a restart finds every nonce still inside its window by iterating
// from NonceKeyFrom(head+1).
func NonceKey(blockLimit uint64, nonce common.Hash) []byte {
	return append(heightKey(PrefixNonce, blockLimit), nonce[:]...)
}

// NonceKeyFrom is the first nonce key with block limit >= blockLimit.
func NonceKeyFrom(blockLimit uint64) []byte { return heightKey(PrefixNonce, blockLimit) }

// DecodeNonceKey splits a nonce key.
func DecodeNonceKey(k []byte) (uint64, common.Hash, error) {
	if len(k) != 1+8+32 {
		return 0, common.Hash{}, errors.New("storage: corrupt nonce key")
	}
	return binary.BigEndian.Uint64(k[1:9]), common.BytesToHash(k[9:]), nil
}
