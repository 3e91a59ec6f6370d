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

// TxView is one transaction's view: reads fall through to the parent, writes
// and deltas stay here until Commit. Snapshot/Revert undo nested calls.
type TxView struct {
	parent  Writer
	writes  map[string][]byte
	deltas  map[string]*uint256.Int
	order   []string // keys in first-touch order, for deterministic folding
	touched map[string]bool
	journal []journalEntry
}

type journalEntry struct {
	key       string
	hadWrite  bool
	prevWrite []byte
	prevDelta *uint256.Int // nil: there was no delta
}

// NewTxView starts a transaction over parent.
func NewTxView(parent Writer) *TxView {
	return &TxView{parent: parent, writes: make(map[string][]byte), deltas: make(map[string]*uint256.Int),
		touched: make(map[string]bool)}
}

// Get returns key's value as this transaction sees it, deltas included.
func (v *TxView) Get(key []byte) []byte {
	w, ok := v.writes[string(key)] // the compiler avoids allocating for string(key) in an index
	if !ok {
		w = v.parent.Get(key)
	}
	d := v.deltas[string(key)]
	if d == nil {
		return w
	}
	sum, _ := addBytes(w, d) // overflow was rejected when the delta was added
	return sum
}

// Set writes key (nil deletes). A pending delta on key is folded in first,
// so a later Get sees exactly value.
func (v *TxView) Set(key, value []byte) {
	k := string(key)
	v.record(k)
	delete(v.deltas, k)
	if len(value) == 0 {
		value = nil
	}
	v.writes[k] = value
}

// AddUint adds amount to the 32-byte big-endian integer at key. A delta
// never reads key in the parallel scheduler's sense: many transactions may
// add to one key at once; only reads and plain writes of it conflict.
// Overflow of the value this transaction can see is an error.
func (v *TxView) AddUint(key []byte, amount *uint256.Int) error {
	if _, err := addBytes(v.Get(key), amount); err != nil {
		return err
	}
	k := string(key)
	v.record(k)
	d := new(uint256.Int)
	if prev := v.deltas[k]; prev != nil {
		d.Set(prev)
	}
	d.Add(d, amount)
	v.deltas[k] = d
	return nil
}

// record journals key's current write and delta before a change.
func (v *TxView) record(k string) {
	w, had := v.writes[k]
	if !v.touched[k] {
		v.touched[k] = true
		v.order = append(v.order, k)
	}
	var d *uint256.Int
	if prev := v.deltas[k]; prev != nil {
		d = new(uint256.Int).Set(prev)
	}
	v.journal = append(v.journal, journalEntry{key: k, hadWrite: had, prevWrite: w, prevDelta: d})
}

// Snapshot returns an id to revert to.
func (v *TxView) Snapshot() int { return len(v.journal) }

// RevertToSnapshot undoes every change made after Snapshot returned id.
func (v *TxView) RevertToSnapshot(id int) {
	if id < 0 || id > len(v.journal) {
		panic(fmt.Sprintf("state: revert to unknown snapshot %d of %d", id, len(v.journal)))
	}
	for i := len(v.journal) - 1; i >= id; i-- {
		e := v.journal[i]
		if e.hadWrite {
			v.writes[e.key] = e.prevWrite
		} else {
			delete(v.writes, e.key)
		}
		if e.prevDelta != nil {
			v.deltas[e.key] = e.prevDelta
		} else {
			delete(v.deltas, e.key)
		}
	}
	v.journal = v.journal[:id]
}

// Commit folds writes, then deltas, into the parent in first-touch order.
// Folding a delta reads the parent's current value, which is what makes
// deltas commute: the parent sees the sum whatever the order of transactions.
func (v *TxView) Commit() error {
	for _, k := range v.order {
		key := []byte(k)
		if w, ok := v.writes[k]; ok {
			v.parent.Set(key, w)
		}
		if d := v.deltas[k]; d != nil {
			sum, err := addBytes(v.parent.Get(key), d)
			if err != nil {
				return fmt.Errorf("%w at key %q", err, k)
			}
			v.parent.Set(key, sum)
		}
	}
	return nil
}

// Deltas returns the pending delta per key (for the parallel scheduler).
func (v *TxView) Deltas() map[string]*uint256.Int { return v.deltas }

// Writes returns the pending plain writes per key (for the parallel scheduler).
func (v *TxView) Writes() map[string][]byte { return v.writes }

// addBytes returns the 32-byte encoding of Uint(b)+d, nil when the sum is 0.
func addBytes(b []byte, d *uint256.Int) ([]byte, error) {
	cur := DecodeUint(b)
	sum, overflow := new(uint256.Int).AddOverflow(cur, d)
	if overflow {
		return nil, ErrOverflow
	}
	return EncodeUint(sum), nil
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
	b := x.Bytes32()
	return b[:]
}

// Rebase points the view at a new parent before Commit (the parallel
// executor runs a view over a read guard, then folds it into the block).
func (v *TxView) Rebase(parent Writer) { v.parent = parent }
