package state

import (
	"errors"
	"fmt"

	"github.com/holiman/uint256"
)

// ErrOverflow is returned when an amount would exceed 2^256-1.
var ErrOverflow = errors.New("state: uint256 overflow")

// Writer is what a transaction's execution writes through.
type Writer interface {
	Reader
	Set(key, value []byte)
}

// KeyReader is a Reader that can also read a key given as a string, without
// converting it (Block, TxView and the parallel executor's guard are).
type KeyReader interface {
	GetKey(key string) []byte
}

// TxView is one transaction's view: reads fall through to the parent, writes
// and deltas stay here until Commit. Snapshot/Revert undo nested calls.
//
// A transaction touches few keys (a transfer two), so the view keeps them in
// a slice in first-touch order, which is also the order Commit folds them
// in, and indexes them with a map only once there are many.
type TxView struct {
	parent  Writer
	kparent KeyReader        // parent, when it is one
	entries []entry          // every key changed, in first-touch order
	index   map[string]int32 // key -> entries index, once len(entries) > smallView
	journal []journalEntry

	// Inline room for the entries and journal of a small transaction.
	smallEntries [3]entry
	smallJournal [3]journalEntry
}

// smallView is how many keys a view scans linearly before indexing them.
const smallView = 8

// entry is one touched key: its pending plain write and its pending delta.
// A key stays listed after a revert, with neither.
type entry struct {
	key      string
	write    []byte
	delta    uint256.Int
	read     []byte // the parent's value, once AddUint has read it (for Fold)
	shard    uint8  // the key's Block shard
	hasWrite bool
	hasDelta bool
	hasRead  bool
}

type journalEntry struct {
	slot      int32
	hadWrite  bool
	hadDelta  bool
	prevWrite []byte
	prevDelta uint256.Int
}

// NewTxView starts a transaction over parent.
func NewTxView(parent Writer) *TxView {
	v := new(TxView)
	v.Init(parent)
	return v
}

// Init makes v a new transaction's view over parent, whatever it held
// (say a TxView allocated inside a larger structure).
func (v *TxView) Init(parent Writer) {
	*v = TxView{parent: parent}
	v.kparent, _ = parent.(KeyReader)
	v.entries, v.journal = v.smallEntries[:0], v.smallJournal[:0]
}

// keyArg is a key as the caller gave it: bytes (which the view copies
// before keeping) or a string (which it keeps).
type keyArg struct {
	b   []byte
	s   string
	str bool
}

func (k keyArg) is(key string) bool {
	if k.str {
		return k.s == key
	}
	return string(k.b) == key // no conversion: a comparison
}

// String returns the key as a string the view may keep.
func (k keyArg) String() string {
	if k.str {
		return k.s
	}
	return string(k.b)
}

// find returns key's entry index, or -1.
func (v *TxView) find(key keyArg) int {
	if v.index != nil {
		var i int32
		var ok bool
		if key.str {
			i, ok = v.index[key.s]
		} else {
			i, ok = v.index[string(key.b)]
		}
		if ok {
			return int(i)
		}
		return -1
	}
	for i := range v.entries {
		if key.is(v.entries[i].key) {
			return i
		}
	}
	return -1
}

// slot returns key's entry index, adding an entry on first touch.
func (v *TxView) slot(key keyArg) int {
	if i := v.find(key); i >= 0 {
		return i
	}
	k := key.String()
	v.entries = append(v.entries, entry{key: k, shard: uint8(shardOf(k))})
	i := len(v.entries) - 1
	switch {
	case v.index != nil:
		v.index[k] = int32(i)
	case len(v.entries) > smallView:
		v.index = make(map[string]int32, 2*len(v.entries))
		for j := range v.entries {
			v.index[v.entries[j].key] = int32(j)
		}
	}
	return i
}

// parentGet reads key from the parent.
func (v *TxView) parentGet(key keyArg) []byte {
	if !key.str {
		return v.parent.Get(key.b)
	}
	if v.kparent != nil {
		return v.kparent.GetKey(key.s)
	}
	return v.parent.Get(keyBytes(key.s))
}

// Get returns key's value as this transaction sees it, deltas included.
func (v *TxView) Get(key []byte) []byte { return v.get(keyArg{b: key}) }

// GetKey is Get with a string key.
func (v *TxView) GetKey(key string) []byte { return v.get(keyArg{s: key, str: true}) }

func (v *TxView) get(key keyArg) []byte {
	i := v.find(key)
	if i < 0 {
		return v.parentGet(key)
	}
	e := &v.entries[i]
	w := e.write
	if !e.hasWrite {
		w = v.parentGet(key)
	}
	if !e.hasDelta {
		return w
	}
	sum, _ := addBytes(w, &e.delta) // overflow was rejected when the delta was added
	return sum
}

// Set writes key (nil deletes). A pending delta on key is folded in first,
// so a later Get sees exactly value.
func (v *TxView) Set(key, value []byte) { v.set(keyArg{b: key}, value) }

// SetKey is Set with a string key.
func (v *TxView) SetKey(key string, value []byte) { v.set(keyArg{s: key, str: true}, value) }

func (v *TxView) set(key keyArg, value []byte) {
	i := v.slot(key)
	v.record(i)
	e := &v.entries[i]
	e.hasDelta = false
	e.delta.Clear()
	if len(value) == 0 {
		value = nil
	}
	e.write, e.hasWrite = value, true
}

// AddUint adds amount to the 32-byte big-endian integer at key. A delta
// never reads key in the parallel scheduler's sense: many transactions may
// add to one key at once; only reads and plain writes of it conflict.
// Overflow of the value this transaction can see is an error.
func (v *TxView) AddUint(key []byte, amount *uint256.Int) error {
	return v.addUint(keyArg{b: key}, amount)
}

// AddUintKey is AddUint with a string key.
func (v *TxView) AddUintKey(key string, amount *uint256.Int) error {
	return v.addUint(keyArg{s: key, str: true}, amount)
}

func (v *TxView) addUint(key keyArg, amount *uint256.Int) error {
	// The value this transaction sees (as Get, without allocating), plus amount.
	var cur uint256.Int
	var read []byte
	fromParent := false
	i := v.find(key)
	if i >= 0 && v.entries[i].hasWrite {
		cur.SetBytes(v.entries[i].write)
	} else {
		read, fromParent = v.parentGet(key), true
		cur.SetBytes(read)
	}
	if i >= 0 && v.entries[i].hasDelta {
		if _, overflow := cur.AddOverflow(&cur, &v.entries[i].delta); overflow {
			cur.Clear() // as Get: an unreachable overflow reads as absent
		}
	}
	if _, overflow := cur.AddOverflow(&cur, amount); overflow {
		return ErrOverflow
	}
	if i < 0 {
		i = v.slot(key)
	}
	v.record(i)
	e := &v.entries[i]
	if fromParent && !e.hasRead {
		e.read, e.hasRead = read, true // the parent does not change during the transaction
	}
	if e.hasDelta {
		e.delta.Add(&e.delta, amount)
	} else {
		e.delta.Set(amount)
		e.hasDelta = true
	}
	return nil
}

// record journals entry i's current write and delta before a change.
func (v *TxView) record(i int) {
	e := &v.entries[i]
	v.journal = append(v.journal, journalEntry{slot: int32(i), hadWrite: e.hasWrite, prevWrite: e.write,
		hadDelta: e.hasDelta, prevDelta: e.delta})
}

// Snapshot returns an id to revert to.
func (v *TxView) Snapshot() int { return len(v.journal) }

// RevertToSnapshot undoes every change made after Snapshot returned id.
func (v *TxView) RevertToSnapshot(id int) {
	if id < 0 || id > len(v.journal) {
		panic(fmt.Sprintf("state: revert to unknown snapshot %d of %d", id, len(v.journal)))
	}
	for i := len(v.journal) - 1; i >= id; i-- {
		j := &v.journal[i]
		e := &v.entries[j.slot]
		e.write, e.hasWrite = j.prevWrite, j.hadWrite
		e.delta, e.hasDelta = j.prevDelta, j.hadDelta
		*j = journalEntry{} // drop the reference to the old value
	}
	v.journal = v.journal[:id]
}

// Commit folds writes, then deltas, into the parent in first-touch order.
// Folding a delta reads the parent's current value, which is what makes
// deltas commute: the parent sees the sum whatever the order of transactions.
func (v *TxView) Commit() error {
	blk, _ := v.parent.(*Block)
	for i := range v.entries {
		e := &v.entries[i]
		if !e.hasWrite && !e.hasDelta {
			continue
		}
		if blk != nil {
			s := int(e.shard)
			if e.hasWrite {
				blk.setShard(s, e.key, e.write)
			}
			if e.hasDelta {
				sum, err := addBytes(blk.getShard(s, e.key), &e.delta)
				if err != nil {
					return fmt.Errorf("%w at key %q", err, e.key)
				}
				blk.setShard(s, e.key, sum)
			}
			continue
		}
		key := []byte(e.key)
		if e.hasWrite {
			v.parent.Set(key, e.write)
		}
		if e.hasDelta {
			sum, err := addBytes(v.parent.Get(key), &e.delta)
			if err != nil {
				return fmt.Errorf("%w at key %q", err, e.key)
			}
			v.parent.Set(key, sum)
		}
	}
	return nil
}

// Deltas returns a copy of the pending delta per key.
func (v *TxView) Deltas() map[string]*uint256.Int {
	out := make(map[string]*uint256.Int)
	for i := range v.entries {
		if e := &v.entries[i]; e.hasDelta {
			out[e.key] = new(uint256.Int).Set(&e.delta)
		}
	}
	return out
}

// Writes returns a copy of the pending plain writes per key.
func (v *TxView) Writes() map[string][]byte {
	out := make(map[string][]byte)
	for i := range v.entries {
		if e := &v.entries[i]; e.hasWrite {
			out[e.key] = e.write
		}
	}
	return out
}

// addBytes returns the 32-byte encoding of Uint(b)+d, nil when the sum is 0.
func addBytes(b []byte, d *uint256.Int) ([]byte, error) {
	var sum uint256.Int
	sum.SetBytes(b)
	if _, overflow := sum.AddOverflow(&sum, d); overflow {
		return nil, ErrOverflow
	}
	return EncodeUint(&sum), nil
}

// DecodeUint reads a big-endian integer; absent (nil) is zero.
func DecodeUint(b []byte) *uint256.Int {
	return new(uint256.Int).SetBytes(b)
}

// EncodeUint is the stored form of an integer: 32 bytes big-endian, or nil
// for zero so that empty balances take no space.
func EncodeUint(x *uint256.Int) []byte {
	if x.IsZero() {
		return nil
	}
	b := make([]byte, 32)
	x.PutUint256(b)
	return b
}

// Rebase points the view at a new parent before Commit (the parallel
// executor runs a view over a read guard, then folds it into the block).
func (v *TxView) Rebase(parent Writer) {
	v.parent = parent
	v.kparent, _ = parent.(KeyReader)
}
