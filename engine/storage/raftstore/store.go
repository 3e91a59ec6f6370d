package raftstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/hashicorp/raft"

	"github.com/tallyhq/tally/engine/storage"
)

// ErrKeyNotFound is returned by Get and GetUint64 for a key never Set. Raft
// recognises a missing stable key by this exact message ("not found", as in
// raft-boltdb and raft's InmemStore), so it must not be wrapped.
var ErrKeyNotFound = errors.New("not found")

// defaultDeleteChunk bounds the deletions DeleteRange commits in one batch,
// far below what one badger transaction holds.
const defaultDeleteChunk = 10_000

var (
	_ raft.LogStore    = (*Store)(nil)
	_ raft.StableStore = (*Store)(nil)
)

// Store is a raft.LogStore and raft.StableStore kept in a storage.DB. It is
// safe for concurrent use. It does not own the database: close the database
// after raft has shut down.
type Store struct {
	db storage.DB

	// wmu serialises log writers, so the cached bounds change in the order
	// their batches commit.
	wmu sync.Mutex
	// mu guards the cached bounds; writers hold wmu too.
	mu          sync.RWMutex
	empty       bool
	first, last uint64

	deleteChunk int
}

// New opens the raft store kept in db. It reads the log's bounds once; the
// store must be the only writer of the "r/" keys for as long as it is used.
func New(db storage.DB) (*Store, error) {
	s := &Store{db: db, deleteChunk: defaultDeleteChunk}
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// load finds the first entry by a short forward scan and the last from the
// "r/m/last" record, which it checks: the entry must exist and none may
// follow it. A record that fails the check (it cannot, short of outside
// writes) is recomputed by a full scan and rewritten.
func (s *Store) load() error {
	firsts, err := s.scan(0, 1)
	if err != nil {
		return err
	}
	meta, metaErr := s.db.Get(storage.KeyRaftLastIndex)
	if metaErr != nil && !errors.Is(metaErr, storage.ErrNotFound) {
		return fmt.Errorf("raftstore: read last index: %w", metaErr)
	}
	if len(firsts) == 0 {
		s.empty = true
		if metaErr == nil {
			return s.repairLast(0, false)
		}
		return nil
	}
	s.first = firsts[0]
	if metaErr == nil {
		if last, err := storage.DecodeHeight(meta); err == nil && last >= s.first {
			ok, err := s.db.Has(storage.RaftLogKey(last))
			if err != nil {
				return fmt.Errorf("raftstore: read log %d: %w", last, err)
			}
			var after []uint64
			if ok && last < ^uint64(0) {
				if after, err = s.scan(last+1, 1); err != nil {
					return err
				}
			}
			if ok && len(after) == 0 {
				s.last = last
				return nil
			}
		}
	}
	last := s.first
	err = s.iterate(s.first, func(i uint64) bool { last = i; return true })
	if err != nil {
		return err
	}
	return s.repairLast(last, true)
}

func (s *Store) repairLast(last uint64, present bool) error {
	b := s.db.NewBatch()
	var err error
	if present {
		err = b.Put(storage.KeyRaftLastIndex, storage.EncodeHeight(last))
	} else {
		err = b.Delete(storage.KeyRaftLastIndex)
	}
	if err == nil {
		err = b.Commit()
	}
	if err != nil {
		b.Discard()
		return fmt.Errorf("raftstore: rewrite last index: %w", err)
	}
	s.last = last
	return nil
}

var errStop = errors.New("stop")

// iterate calls fn with the index of every entry >= from in ascending order
// until fn returns false.
func (s *Store) iterate(from uint64, fn func(uint64) bool) error {
	err := s.db.Iterate(storage.PrefixRaftLog, storage.RaftLogKey(from), func(k, _ []byte) error {
		i, err := storage.DecodeRaftLogKey(k)
		if err != nil {
			return fmt.Errorf("%w: key %x: %v", ErrCorrupt, k, err)
		}
		if !fn(i) {
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return fmt.Errorf("raftstore: scan log: %w", err)
	}
	return nil
}

// scan returns the indices of up to n entries >= from, ascending.
func (s *Store) scan(from uint64, n int) ([]uint64, error) {
	var out []uint64
	err := s.iterate(from, func(i uint64) bool {
		out = append(out, i)
		return len(out) < n
	})
	return out, err
}

// FirstIndex returns the index of the oldest entry, or 0 for an empty log.
func (s *Store) FirstIndex() (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.first, nil
}

// LastIndex returns the index of the newest entry, or 0 for an empty log.
func (s *Store) LastIndex() (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.last, nil
}

// GetLog reads the entry at index into log, or returns raft.ErrLogNotFound.
func (s *Store) GetLog(index uint64, log *raft.Log) error {
	v, err := s.db.Get(storage.RaftLogKey(index))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return raft.ErrLogNotFound
	case err != nil:
		return fmt.Errorf("raftstore: read log %d: %w", index, err)
	}
	if err := decodeLog(v, log); err != nil {
		return fmt.Errorf("raftstore: log %d: %w", index, err)
	}
	if log.Index != index {
		return fmt.Errorf("%w: key of log %d holds log %d", ErrCorrupt, index, log.Index)
	}
	return nil
}

// StoreLog stores one entry durably.
func (s *Store) StoreLog(log *raft.Log) error {
	return s.StoreLogs([]*raft.Log{log})
}

// StoreLogs stores entries in one atomic, durable batch, replacing any entry
// already at the same index. On the badger backend the batch must fit one
// transaction (see storage.BadgerOptions.MemTableSizeBytes).
func (s *Store) StoreLogs(logs []*raft.Log) error {
	if len(logs) == 0 {
		return nil
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	b := s.db.NewBatch()
	defer b.Discard()
	lo, hi := ^uint64(0), uint64(0)
	for _, l := range logs {
		if l == nil {
			return errors.New("raftstore: StoreLogs: nil log")
		}
		v, err := encodeLog(l)
		if err != nil {
			return err
		}
		if err := b.Put(storage.RaftLogKey(l.Index), v); err != nil {
			return fmt.Errorf("raftstore: store log %d: %w", l.Index, err)
		}
		lo, hi = min(lo, l.Index), max(hi, l.Index)
	}
	first, last := lo, hi
	if !s.empty {
		first, last = min(s.first, lo), max(s.last, hi)
	}
	if s.empty || last != s.last {
		if err := b.Put(storage.KeyRaftLastIndex, storage.EncodeHeight(last)); err != nil {
			return fmt.Errorf("raftstore: store logs: %w", err)
		}
	}
	if err := b.Commit(); err != nil {
		return fmt.Errorf("raftstore: store logs %d-%d: %w", lo, hi, err)
	}
	s.setBounds(false, first, last)
	return nil
}

func (s *Store) setBounds(empty bool, first, last uint64) {
	if empty {
		first, last = 0, 0
	}
	s.mu.Lock()
	s.empty, s.first, s.last = empty, first, last
	s.mu.Unlock()
}

// DeleteRange deletes the entries with min <= index <= max. A large range
// is deleted in several batches, each atomic and durable, ordered so that
// what a crash leaves is still one contiguous run of the log: a range that
// reaches the newest entry but not the oldest (raft truncating a conflicting
// suffix) is deleted from the top down, any other range (raft compacting
// after a snapshot) from the bottom up.
func (s *Store) DeleteRange(min, max uint64) error {
	if min > max {
		return nil
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.empty || max < s.first || min > s.last {
		return nil
	}
	if min > s.first && max >= s.last {
		return s.deleteSuffix(min)
	}
	return s.deleteUp(min, max)
}

// deleteUp deletes [lo, hi] a chunk at a time from the bottom.
func (s *Store) deleteUp(lo, hi uint64) error {
	from := lo
	for {
		// Up to a chunk of entries <= hi, then the entry after them, which
		// becomes the first if the chunk started there.
		var idx []uint64
		err := s.iterate(from, func(i uint64) bool {
			idx = append(idx, i)
			return i <= hi && len(idx) <= s.deleteChunk
		})
		if err != nil {
			return err
		}
		n := 0
		for n < len(idx) && n < s.deleteChunk && idx[n] <= hi {
			n++
		}
		if n == 0 {
			return nil
		}
		del := idx[:n]
		empty, first, last := false, s.first, s.last
		if del[0] == s.first {
			if n < len(idx) {
				first = idx[n]
			} else {
				empty = true
			}
		}
		if !empty && del[n-1] == s.last {
			// Only reached if entries below lo remain, which routes the
			// range to deleteSuffix; kept for completeness.
			if last, err = s.before(del[0]); err != nil {
				return err
			}
		}
		if err := s.commitDelete(del, empty, first, last); err != nil {
			return err
		}
		if n == len(idx) || idx[n] > hi {
			return nil
		}
		from = del[n-1] + 1
	}
}

// deleteSuffix deletes every entry >= lo, where an older entry remains, a
// chunk at a time from the top.
func (s *Store) deleteSuffix(lo uint64) error {
	var idx []uint64
	if err := s.iterate(lo, func(i uint64) bool { idx = append(idx, i); return true }); err != nil {
		return err
	}
	below, err := s.before(lo)
	if err != nil {
		return err
	}
	for end := len(idx); end > 0; {
		start := max(0, end-s.deleteChunk)
		last := below
		if start > 0 {
			last = idx[start-1]
		}
		if err := s.commitDelete(idx[start:end], false, s.first, last); err != nil {
			return err
		}
		end = start
	}
	return nil
}

// before returns the newest entry older than i; there must be one.
func (s *Store) before(i uint64) (uint64, error) {
	if i > 0 {
		ok, err := s.db.Has(storage.RaftLogKey(i - 1))
		if err != nil {
			return 0, fmt.Errorf("raftstore: read log %d: %w", i-1, err)
		}
		if ok {
			return i - 1, nil
		}
	}
	// A gap below i (raft leaves one when it installs a snapshot): scan.
	prev, found := uint64(0), false
	err := s.iterate(s.first, func(j uint64) bool {
		if j >= i {
			return false
		}
		prev, found = j, true
		return true
	})
	if err == nil && !found {
		err = fmt.Errorf("raftstore: no log entry below %d", i)
	}
	return prev, err
}

// commitDelete deletes the entries del and records the bounds that remain,
// in one batch; the cached bounds change only once it is committed.
func (s *Store) commitDelete(del []uint64, empty bool, first, last uint64) error {
	b := s.db.NewBatch()
	defer b.Discard()
	for _, i := range del {
		if err := b.Delete(storage.RaftLogKey(i)); err != nil {
			return fmt.Errorf("raftstore: delete log %d: %w", i, err)
		}
	}
	var err error
	switch {
	case empty:
		err = b.Delete(storage.KeyRaftLastIndex)
	case last != s.last:
		err = b.Put(storage.KeyRaftLastIndex, storage.EncodeHeight(last))
	}
	if err != nil {
		return fmt.Errorf("raftstore: delete logs: %w", err)
	}
	if err := b.Commit(); err != nil {
		return fmt.Errorf("raftstore: delete logs %d-%d: %w", del[0], del[len(del)-1], err)
	}
	s.setBounds(empty, first, last)
	return nil
}

// Set stores val under key durably.
func (s *Store) Set(key, val []byte) error {
	b := s.db.NewBatch()
	defer b.Discard()
	if err := b.Put(storage.RaftStableKey(key), val); err != nil {
		return fmt.Errorf("raftstore: set %q: %w", key, err)
	}
	if err := b.Commit(); err != nil {
		return fmt.Errorf("raftstore: set %q: %w", key, err)
	}
	return nil
}

// Get returns the value Set under key, or ErrKeyNotFound.
func (s *Store) Get(key []byte) ([]byte, error) {
	v, err := s.db.Get(storage.RaftStableKey(key))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, ErrKeyNotFound
	case err != nil:
		return nil, fmt.Errorf("raftstore: get %q: %w", key, err)
	}
	return v, nil
}

// SetUint64 stores val under key as 8 big-endian bytes; Get sees them too.
func (s *Store) SetUint64(key []byte, val uint64) error {
	return s.Set(key, binary.BigEndian.AppendUint64(nil, val))
}

// GetUint64 returns the value SetUint64 stored under key, or 0 and
// ErrKeyNotFound.
func (s *Store) GetUint64(key []byte) (uint64, error) {
	v, err := s.Get(key)
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: stable key %q holds %d bytes, not a uint64", ErrCorrupt, key, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}
