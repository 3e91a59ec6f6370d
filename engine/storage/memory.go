package storage

import (
	"bytes"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// memoryDB keeps every value in a map. Stored slices are never modified in
// place (a write replaces the slice), so a value read under the lock stays
// valid after it is released.
type memoryDB struct {
	mu     sync.RWMutex
	closed bool
	kv     map[string][]byte
	// snaps counts the unreleased snapshots that hold kv: while there are
	// any, the next commit writes to a copy (and kv's generation moves on).
	snaps int
	gen   uint64
}

// NewMemory returns an empty in-memory database with the same semantics and
// errors as the badger backend, minus durability and the batch size limit.
func NewMemory() DB {
	return &memoryDB{kv: make(map[string][]byte)}
}

func (m *memoryDB) lookup(key []byte) ([]byte, bool, error) {
	if len(key) == 0 {
		return nil, false, ErrEmptyKey
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, false, ErrClosed
	}
	v, ok := m.kv[string(key)]
	return v, ok, nil
}

func (m *memoryDB) Get(key []byte) ([]byte, error) {
	v, ok, err := m.lookup(key)
	switch {
	case err != nil:
		return nil, err
	case !ok:
		return nil, ErrNotFound
	}
	return append([]byte{}, v...), nil
}

func (m *memoryDB) Has(key []byte) (bool, error) {
	_, ok, err := m.lookup(key)
	return ok, err
}

type kvPair struct {
	key   string
	value []byte
}

func (m *memoryDB) Iterate(prefix, start []byte, fn func(key, value []byte) error) error {
	pairs, err := m.matching(prefix, seekKey(prefix, start))
	if err != nil {
		return err
	}
	return iterPairs(pairs, fn)
}

// iterPairs calls fn on pairs in key order.
func iterPairs(pairs []kvPair, fn func(key, value []byte) error) error {
	slices.SortFunc(pairs, func(a, b kvPair) int { return strings.Compare(a.key, b.key) })
	for _, p := range pairs {
		// Fresh slices per call: a callback that keeps or scribbles on them
		// cannot reach the stored data.
		if err := fn([]byte(p.key), bytes.Clone(p.value)); err != nil {
			return err
		}
	}
	return nil
}

// matching copies out the matching entries so that fn runs without the lock:
// fn may call back into the database, and a read lock held across it would
// deadlock against a waiting writer.
func (m *memoryDB) matching(prefix, from []byte) ([]kvPair, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	return matchingIn(m.kv, prefix, from), nil
}

func matchingIn(kv map[string][]byte, prefix, from []byte) []kvPair {
	var pairs []kvPair
	for k, v := range kv {
		if strings.HasPrefix(k, string(prefix)) && k >= string(from) {
			pairs = append(pairs, kvPair{k, v})
		}
	}
	return pairs
}

func (m *memoryDB) NewBatch() Batch {
	return newBatch(m.isClosed, m.commit)
}

func (m *memoryDB) isClosed() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.closed
}

// commit applies every operation under one write lock, so readers see all of
// the batch or none of it. The batch owns ops' slices, so they are stored as is.
func (m *memoryDB) commit(ops []op) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if m.snaps > 0 { // copy on write: a snapshot keeps the map it took
		m.kv, m.snaps, m.gen = maps.Clone(m.kv), 0, m.gen+1
	}
	for _, o := range ops {
		if o.del {
			delete(m.kv, string(o.key))
		} else {
			m.kv[string(o.key)] = o.value
		}
	}
	return nil
}

func (m *memoryDB) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.closed, m.kv = true, nil
	return nil
}

// memorySnapshot reads the map the database had when it was taken; the
// database's next commit writes to a copy. Unlike badger's, a snapshot
// does not hold Close off: it keeps its map.
type memorySnapshot struct {
	m        *memoryDB
	kv       map[string][]byte
	gen      uint64 // the generation of the database's map that kv is
	released atomic.Bool
}

func (m *memoryDB) Snapshot() (Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	m.snaps++
	return &memorySnapshot{m: m, kv: m.kv, gen: m.gen}, nil
}

func (s *memorySnapshot) check() error {
	if s.released.Load() {
		return ErrReleased
	}
	return nil
}

func (s *memorySnapshot) Get(key []byte) ([]byte, error) {
	if len(key) == 0 {
		return nil, ErrEmptyKey
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	v, ok := s.kv[string(key)]
	if !ok {
		return nil, ErrNotFound
	}
	return append([]byte{}, v...), nil
}

func (s *memorySnapshot) Has(key []byte) (bool, error) {
	if len(key) == 0 {
		return false, ErrEmptyKey
	}
	if err := s.check(); err != nil {
		return false, err
	}
	_, ok := s.kv[string(key)]
	return ok, nil
}

func (s *memorySnapshot) Iterate(prefix, start []byte, fn func(key, value []byte) error) error {
	if err := s.check(); err != nil {
		return err
	}
	return iterPairs(matchingIn(s.kv, prefix, seekKey(prefix, start)), fn)
}

// Release lets the database write in place again once no snapshot holds
// its current map.
func (s *memorySnapshot) Release() {
	if s.released.Swap(true) {
		return
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	if s.gen == s.m.gen {
		s.m.snaps--
	}
}
