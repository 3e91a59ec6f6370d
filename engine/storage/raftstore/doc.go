// Package raftstore keeps a hashicorp/raft log and stable store in the
// chain's own database (engine/storage), next to the blocks it orders, so
// one database still holds one chain and one backup copies both.
//
// # Layout
//
// The keys are defined in engine/storage/schema.go:
//
//	"r/l/" index(8, big-endian)  one log entry, in the encoding below
//	"r/m/last"                   index (8) of the newest entry; absent while the log is empty
//	"r/s/" key                   a stable-store value; SetUint64 stores 8 big-endian bytes
//
// Big-endian indices make key order index order, so the oldest entry is the
// first key under "r/l/". The storage interface iterates forward only, so the
// newest is recorded in "r/m/last", rewritten in the same batch as every
// change to it. New reads both once, checks the record (the entry exists and
// none follows it; a record that fails is recomputed by a full scan) and then
// serves FirstIndex and LastIndex from memory.
//
// A log entry is encoded canonically and compactly: a format byte (1), index
// and term as uvarints, the type byte, a flags byte whose bit 0 marks a
// non-zero AppendedAt, AppendedAt as a zigzag varint of Unix nanoseconds
// (present only with that bit), then Data and Extensions, each a uvarint
// length and its bytes. Every varint must be minimal and nothing may follow,
// so an entry has exactly one encoding; anything else is rejected with an
// error wrapping ErrCorrupt. Nil and empty Data or Extensions read back as
// nil, and AppendedAt reads back in the local time zone, Equal to the stored
// time but without its monotonic clock reading.
//
// # Durability
//
// Every write is a storage batch, atomic and, on the badger backend,
// fsynced before it returns (storage.DefaultBadgerOptions). StoreLogs writes
// all its entries and the new "r/m/last" in one batch; a batch too large for
// one badger transaction is refused whole. Set and SetUint64 are one batch
// each. DeleteRange deletes at most 10 000 entries per batch so that
// compacting a long log cannot overflow a transaction; it orders the batches
// so that a crash between two leaves one contiguous run: a range that
// reaches the newest entry and leaves older ones (raft truncating a
// conflicting suffix) goes from the top down, any other (raft compacting
// after a snapshot) from the bottom up. The cached bounds follow each
// committed batch, so they stay right when a later batch fails.
//
// A missing stable key is reported as ErrKeyNotFound, whose message is
// exactly "not found": raft matches that text (as with raft-boltdb) to tell
// a fresh node from a failed read. GetUint64 of a missing key returns 0 and
// that error too.
//
// The store does not own the database and must be its only writer of "r/"
// keys; close the database after raft has shut down.
package raftstore
