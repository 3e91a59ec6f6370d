package storage

import "errors"

// ErrNotFound is returned by Get for a missing key.
var ErrNotFound = errors.New("storage: not found")

// ErrClosed is returned by every operation on a closed database.
var ErrClosed = errors.New("storage: closed")

// ErrEmptyKey is returned for a zero-length key (badger rejects them).
var ErrEmptyKey = errors.New("storage: empty key")

// ErrReleased is returned by a Snapshot's reads after its Release.
var ErrReleased = errors.New("storage: snapshot released")

// Reader reads keys. Values returned are owned by the caller.
type Reader interface {
	// Get returns the value of key, or ErrNotFound.
	Get(key []byte) ([]byte, error)
	// Has reports whether key exists.
	Has(key []byte) (bool, error)
	// Iterate calls fn for every key with the given prefix, in ascending byte
	// order, starting at the first key >= start (start nil means the prefix
	// itself). Iteration stops at the first error fn returns, which Iterate
	// returns. key and value are only valid during the call.
	Iterate(prefix, start []byte, fn func(key, value []byte) error) error
}

// DB is a key-value database.
type DB interface {
	Reader
	// NewBatch starts an atomic write batch.
	NewBatch() Batch
	// Snapshot returns a read-only view of the database as it is now, which
	// later commits do not change.
	Snapshot() (Snapshot, error)
	// Close releases the database. Later calls return ErrClosed.
	Close() error
}

// A Snapshot is a consistent read-only view of a database, for reading
// many keys in a row from several goroutines at once (a block's execution
// reads all its state through one): it is safe for concurrent use, and a
// read costs less than one on the database, which sets up a view of its
// own each time. Release must be called when the reads are done (Close
// waits for it); reads after it return ErrReleased.
type Snapshot interface {
	Reader
	Release()
}

// Batch collects writes that commit atomically: after a crash either all of
// them are visible or none is. Commit is durable (fsynced) on disk backends.
// A batch is used by one goroutine.
type Batch interface {
	Put(key, value []byte) error
	Delete(key []byte) error
	// Len is the number of operations; Size approximates their bytes.
	Len() int
	Size() int
	// Commit applies the batch atomically and durably. A batch cannot be reused.
	Commit() error
	// Discard drops the batch without writing.
	Discard()
}
