package storage

import (
	"bytes"
	"errors"
	"fmt"
)

// maxKeyBytes is badger's key limit. Both backends enforce it, so code tested
// on the memory backend cannot write a key the disk backend refuses.
const maxKeyBytes = 65000

// badgerReserved is a prefix badger keeps for its own records.
var badgerReserved = []byte("!badger!")

var errBatchDone = errors.New("storage: batch already committed or discarded")

func checkKey(key []byte) error {
	switch {
	case len(key) == 0:
		return ErrEmptyKey
	case len(key) > maxKeyBytes:
		return fmt.Errorf("storage: key of %d bytes exceeds the %d-byte limit", len(key), maxKeyBytes)
	case bytes.HasPrefix(key, badgerReserved):
		return fmt.Errorf("storage: key prefix %q is reserved", badgerReserved)
	}
	return nil
}

// seekKey is the first key Iterate may visit: start, unless that sorts before
// the prefix.
func seekKey(prefix, start []byte) []byte {
	if bytes.Compare(start, prefix) > 0 {
		return start
	}
	return prefix
}

type op struct {
	key, value []byte
	del        bool
}

// batch buffers operations in memory; the backend's commit applies all of
// them at once, which is where atomicity comes from.
type batch struct {
	ops    []op
	size   int
	done   bool
	closed func() bool
	commit func([]op) error
}

func newBatch(closed func() bool, commit func([]op) error) *batch {
	return &batch{closed: closed, commit: commit}
}

func (b *batch) add(o op) error {
	switch {
	case b.done:
		return errBatchDone
	case b.closed():
		return ErrClosed
	}
	if err := checkKey(o.key); err != nil {
		return err
	}
	b.ops = append(b.ops, o)
	b.size += len(o.key) + len(o.value)
	return nil
}

// Put copies key and value, so the caller may reuse its buffers at once.
func (b *batch) Put(key, value []byte) error {
	return b.add(op{key: bytes.Clone(key), value: bytes.Clone(value)})
}

func (b *batch) Delete(key []byte) error {
	return b.add(op{key: bytes.Clone(key), del: true})
}

func (b *batch) Len() int  { return len(b.ops) }
func (b *batch) Size() int { return b.size }

func (b *batch) Commit() error {
	if b.done {
		return errBatchDone
	}
	ops := b.ops
	b.Discard()
	return b.commit(ops)
}

func (b *batch) Discard() {
	b.done = true
	b.ops, b.size = nil, 0
}
