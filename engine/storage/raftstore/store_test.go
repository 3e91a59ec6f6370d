package raftstore

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/tallyhq/tally/engine/storage"
)

// handle is a database under test. restart returns a Store over the
// database as a restarted process would find it: badger is closed and
// reopened from its directory, memory is read again by a fresh New.
type handle struct {
	db      storage.DB
	restart func(t *testing.T) *Store
}

type backend struct {
	name string
	open func(t *testing.T) *handle
}

var backends = []backend{
	{"badger", func(t *testing.T) *handle {
		dir := t.TempDir()
		h := &handle{db: openBadger(t, dir)}
		h.restart = func(t *testing.T) *Store {
			t.Helper()
			if err := h.db.Close(); err != nil {
				t.Fatal(err)
			}
			h.db = openBadger(t, dir)
			return newStore(t, h.db)
		}
		t.Cleanup(func() { _ = h.db.Close() })
		return h
	}},
	{"memory", func(t *testing.T) *handle {
		h := &handle{db: storage.NewMemory()}
		h.restart = func(t *testing.T) *Store { return newStore(t, h.db) }
		t.Cleanup(func() { _ = h.db.Close() })
		return h
	}},
}

func openBadger(t testing.TB, dir string) storage.DB {
	t.Helper()
	db, err := storage.OpenBadger(dir, storage.DefaultBadgerOptions())
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func newStore(t testing.TB, db storage.DB) *Store {
	t.Helper()
	s, err := New(db)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// forEach runs fn against a fresh store on every backend.
func forEach(t *testing.T, fn func(t *testing.T, h *handle, s *Store)) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			h := be.open(t)
			fn(t, h, newStore(t, h.db))
		})
	}
}

func entry(i uint64) *raft.Log {
	return &raft.Log{Index: i, Term: i/4 + 1, Type: raft.LogCommand, Data: fmt.Appendf(nil, "entry %d", i)}
}

func entries(lo, hi uint64) []*raft.Log {
	var out []*raft.Log
	for i := lo; i <= hi; i++ {
		out = append(out, entry(i))
	}
	return out
}

func mustStore(t *testing.T, s *Store, logs ...*raft.Log) {
	t.Helper()
	if err := s.StoreLogs(logs); err != nil {
		t.Fatal(err)
	}
}

func wantBounds(t *testing.T, s *Store, first, last uint64) {
	t.Helper()
	f, err := s.FirstIndex()
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.LastIndex()
	if err != nil {
		t.Fatal(err)
	}
	if f != first || l != last {
		t.Fatalf("FirstIndex, LastIndex = %d, %d; want %d, %d", f, l, first, last)
	}
}

// wantPresent checks which indices in [lo, hi] hold their entry.
func wantPresent(t *testing.T, s *Store, lo, hi uint64, present func(uint64) bool) {
	t.Helper()
	for i := lo; i <= hi; i++ {
		var got raft.Log
		err := s.GetLog(i, &got)
		switch {
		case present(i) && err != nil:
			t.Fatalf("GetLog(%d): %v", i, err)
		case present(i) && !bytes.Equal(got.Data, entry(i).Data):
			t.Fatalf("GetLog(%d).Data = %q", i, got.Data)
		case !present(i) && err != raft.ErrLogNotFound:
			t.Fatalf("GetLog(%d) = %v, want ErrLogNotFound", i, err)
		}
	}
}

// wantConsistent checks that a store opened afresh on the same database
// agrees with s's cached bounds.
func wantConsistent(t *testing.T, h *handle, s *Store) {
	t.Helper()
	f, _ := s.FirstIndex()
	l, _ := s.LastIndex()
	// The last-index record must be right as written, not only after New
	// has repaired it.
	v, err := h.db.Get(storage.KeyRaftLastIndex)
	s.mu.RLock()
	empty := s.empty
	s.mu.RUnlock()
	switch {
	case empty:
		if !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("last-index record of an empty log: %x, %v; want none", v, err)
		}
	case err != nil || !bytes.Equal(v, storage.EncodeHeight(l)):
		t.Fatalf("last-index record = %x, %v; want %d", v, err, l)
	}
	wantBounds(t, newStore(t, h.db), f, l)
}

func TestEmptyStore(t *testing.T) {
	forEach(t, func(t *testing.T, h *handle, s *Store) {
		wantBounds(t, s, 0, 0)
		for _, i := range []uint64{0, 1, math.MaxUint64} {
			if err := s.GetLog(i, new(raft.Log)); err != raft.ErrLogNotFound {
				t.Fatalf("GetLog(%d) on an empty store = %v, want ErrLogNotFound", i, err)
			}
		}
		if err := s.DeleteRange(1, 10); err != nil {
			t.Fatal(err)
		}
		wantBounds(t, s, 0, 0)
	})
}

func TestStoreLogRoundTrip(t *testing.T) {
	forEach(t, func(t *testing.T, h *handle, s *Store) {
		at := time.Now()
		want := &raft.Log{
			Index: 7, Term: 3, Type: raft.LogConfiguration,
			Data: []byte("configuration"), Extensions: []byte{0, 1, 2, 0xff}, AppendedAt: at,
		}
		if err := s.StoreLog(want); err != nil {
			t.Fatal(err)
		}
		wantBounds(t, s, 7, 7)
		// Stale fields in the destination must be overwritten.
		got := raft.Log{Index: 99, Data: []byte("stale"), Extensions: []byte("stale"), AppendedAt: time.Unix(1, 0)}
		if err := s.GetLog(7, &got); err != nil {
			t.Fatal(err)
		}
		if got.Index != 7 || got.Term != 3 || got.Type != raft.LogConfiguration ||
			!bytes.Equal(got.Data, want.Data) || !bytes.Equal(got.Extensions, want.Extensions) ||
			!got.AppendedAt.Equal(at) {
			t.Fatalf("GetLog = %+v, want %+v", got, want)
		}

		// The zero time and empty payloads survive as such.
		if err := s.StoreLog(&raft.Log{Index: 8, Term: math.MaxUint64, Type: raft.LogNoop}); err != nil {
			t.Fatal(err)
		}
		if err := s.GetLog(8, &got); err != nil {
			t.Fatal(err)
		}
		if got.Term != math.MaxUint64 || got.Type != raft.LogNoop || got.Data != nil || got.Extensions != nil || !got.AppendedAt.IsZero() {
			t.Fatalf("GetLog(8) = %+v", got)
		}
		wantBounds(t, s, 7, 8)
	})
}

func TestStoreLogs(t *testing.T) {
	forEach(t, func(t *testing.T, h *handle, s *Store) {
		mustStore(t, s, entries(1, 10)...)
		wantBounds(t, s, 1, 10)
		mustStore(t, s, entries(11, 20)...)
		wantBounds(t, s, 1, 20)
		wantPresent(t, s, 0, 21, func(i uint64) bool { return i >= 1 && i <= 20 })

		// Storing at an existing index replaces the entry.
		replaced := &raft.Log{Index: 5, Term: 42, Data: []byte("replaced")}
		mustStore(t, s, replaced)
		var got raft.Log
		if err := s.GetLog(5, &got); err != nil || got.Term != 42 || string(got.Data) != "replaced" {
			t.Fatalf("GetLog(5) = %+v, %v after replacing it", got, err)
		}
		wantBounds(t, s, 1, 20)

		// An empty batch is a no-op; out-of-order batches set both bounds.
		mustStore(t, s)
		mustStore(t, s, entry(30), entry(25))
		wantBounds(t, s, 1, 30)
		wantConsistent(t, h, s)

		// An entry stored below the oldest becomes the oldest.
		if err := s.DeleteRange(1, 9); err != nil {
			t.Fatal(err)
		}
		wantBounds(t, s, 10, 30)
		mustStore(t, s, entry(4))
		wantBounds(t, s, 4, 30)
		wantConsistent(t, h, s)
	})
}

func TestGetLogMissing(t *testing.T) {
	forEach(t, func(t *testing.T, h *handle, s *Store) {
		mustStore(t, s, entries(3, 5)...)
		for _, i := range []uint64{0, 1, 2, 6, 1 << 40} {
			err := s.GetLog(i, new(raft.Log))
			if err != raft.ErrLogNotFound {
				t.Fatalf("GetLog(%d) = %v, want raft.ErrLogNotFound", i, err)
			}
		}
	})
}

func TestDeleteRange(t *testing.T) {
	cases := []struct {
		name        string
		min, max    uint64
		first, last uint64 // bounds after deleting from 1..10
	}{
		{"middle", 3, 5, 1, 10},
		{"prefix", 1, 4, 5, 10},
		{"prefix from zero", 0, 4, 5, 10},
		{"suffix", 7, 10, 1, 6},
		{"suffix past the end", 7, math.MaxUint64, 1, 6},
		{"all", 1, 10, 0, 0},
		{"all and more", 0, math.MaxUint64, 0, 0},
		{"one", 10, 10, 1, 9},
		{"first", 1, 1, 2, 10},
		{"below", 0, 0, 1, 10},
		{"above", 11, 20, 1, 10},
		{"min above max", 5, 4, 1, 10},
	}
	for _, c := range cases {
		for _, chunk := range []int{defaultDeleteChunk, 2} {
			t.Run(fmt.Sprintf("%s/chunk=%d", c.name, chunk), func(t *testing.T) {
				forEach(t, func(t *testing.T, h *handle, s *Store) {
					s.deleteChunk = chunk
					mustStore(t, s, entries(1, 10)...)
					if err := s.DeleteRange(c.min, c.max); err != nil {
						t.Fatal(err)
					}
					wantBounds(t, s, c.first, c.last)
					gone := func(i uint64) bool { return i >= c.min && i <= c.max }
					wantPresent(t, s, 0, 12, func(i uint64) bool { return i >= 1 && i <= 10 && !gone(i) })
					wantConsistent(t, h, s)

					// The log keeps working after the deletion.
					next := max(c.last, 10) + 1
					mustStore(t, s, entry(next))
					first := c.first
					if first == 0 {
						first = next
					}
					wantBounds(t, s, first, next)
					wantConsistent(t, h, s)
				})
			})
		}
	}
}

// Raft leaves a gap in the log when a follower installs a snapshot.
func TestDeleteRangeAcrossGap(t *testing.T) {
	for _, chunk := range []int{defaultDeleteChunk, 2} {
		t.Run(fmt.Sprint("chunk=", chunk), func(t *testing.T) {
			forEach(t, func(t *testing.T, h *handle, s *Store) {
				s.deleteChunk = chunk
				mustStore(t, s, entries(1, 5)...)
				mustStore(t, s, entries(100, 105)...)
				wantBounds(t, s, 1, 105)

				// A suffix starting just above the gap: the new last entry
				// is below it.
				if err := s.DeleteRange(100, 200); err != nil {
					t.Fatal(err)
				}
				wantBounds(t, s, 1, 5)
				wantConsistent(t, h, s)

				mustStore(t, s, entries(100, 105)...)
				// A prefix ending inside the gap: the new first entry is
				// above it.
				if err := s.DeleteRange(0, 50); err != nil {
					t.Fatal(err)
				}
				wantBounds(t, s, 100, 105)
				wantPresent(t, s, 0, 106, func(i uint64) bool { return i >= 100 && i <= 105 })
				wantConsistent(t, h, s)
			})
		})
	}
}

func TestStable(t *testing.T) {
	forEach(t, func(t *testing.T, h *handle, s *Store) {
		v, err := s.Get([]byte("missing"))
		if err == nil || err.Error() != "not found" || !errors.Is(err, ErrKeyNotFound) || v != nil {
			t.Fatalf("Get(missing) = %q, %v; want nil and an error reading exactly \"not found\"", v, err)
		}
		n, err := s.GetUint64([]byte("missing"))
		if err == nil || err.Error() != "not found" || n != 0 {
			t.Fatalf("GetUint64(missing) = %d, %v; want 0 and an error reading exactly \"not found\"", n, err)
		}

		for _, kv := range [][2]string{{"LastVoteCand", "node-1"}, {"LastVoteCand", "node-2"}, {"empty", ""}} {
			if err := s.Set([]byte(kv[0]), []byte(kv[1])); err != nil {
				t.Fatal(err)
			}
			if v, err := s.Get([]byte(kv[0])); err != nil || string(v) != kv[1] {
				t.Fatalf("Get(%q) = %q, %v; want %q", kv[0], v, err, kv[1])
			}
		}
		for _, want := range []uint64{0, 1, 1 << 40, math.MaxUint64} {
			if err := s.SetUint64([]byte("CurrentTerm"), want); err != nil {
				t.Fatal(err)
			}
			if got, err := s.GetUint64([]byte("CurrentTerm")); err != nil || got != want {
				t.Fatalf("GetUint64 = %d, %v; want %d", got, err, want)
			}
		}
		if _, err := s.GetUint64([]byte("LastVoteCand")); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("GetUint64 of a 6-byte value = %v, want ErrCorrupt", err)
		}
		// The empty key is a key like any other.
		if err := s.Set(nil, []byte("x")); err != nil {
			t.Fatal(err)
		}
		if v, err := s.Get([]byte{}); err != nil || string(v) != "x" {
			t.Fatalf("Get(empty key) = %q, %v", v, err)
		}
		// Stable keys do not show up in the log.
		wantBounds(t, s, 0, 0)
		wantConsistent(t, h, s)
	})
}

// Only "r/" keys are written, and the values Get returns are copies.
func TestKeysAndValuesStayInPlace(t *testing.T) {
	forEach(t, func(t *testing.T, h *handle, s *Store) {
		mustStore(t, s, entries(1, 3)...)
		if err := s.Set([]byte("k"), []byte("v")); err != nil {
			t.Fatal(err)
		}
		err := h.db.Iterate(nil, nil, func(k, _ []byte) error {
			if !bytes.HasPrefix(k, []byte("r/")) {
				return fmt.Errorf("key %q outside the raft prefix", k)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		v, _ := s.Get([]byte("k"))
		v[0] = 'x'
		if v, _ := s.Get([]byte("k")); string(v) != "v" {
			t.Fatalf("a caller's write reached the stored value: %q", v)
		}
		// Appending to Data must not spill into Extensions.
		mustStore(t, s, &raft.Log{Index: 4, Data: []byte("ab"), Extensions: []byte("cd")})
		var l raft.Log
		if err := s.GetLog(4, &l); err != nil {
			t.Fatal(err)
		}
		_ = append(l.Data, 'X', 'Y')
		if string(l.Extensions) != "cd" {
			t.Fatalf("appending to Data overwrote Extensions: %q", l.Extensions)
		}
	})
}

func TestPersistsAcrossRestart(t *testing.T) {
	forEach(t, func(t *testing.T, h *handle, s *Store) {
		at := time.Unix(1_700_000_000, 123456789)
		logs := entries(1, 50)
		logs[49].AppendedAt, logs[49].Extensions = at, []byte("ext")
		mustStore(t, s, logs...)
		if err := s.DeleteRange(1, 9); err != nil {
			t.Fatal(err)
		}
		if err := s.SetUint64([]byte("CurrentTerm"), 9); err != nil {
			t.Fatal(err)
		}
		if err := s.Set([]byte("LastVoteCand"), []byte("n2")); err != nil {
			t.Fatal(err)
		}

		s = h.restart(t)
		wantBounds(t, s, 10, 50)
		wantPresent(t, s, 1, 51, func(i uint64) bool { return i >= 10 && i <= 50 })
		var l raft.Log
		if err := s.GetLog(50, &l); err != nil || !l.AppendedAt.Equal(at) || string(l.Extensions) != "ext" {
			t.Fatalf("GetLog(50) after restart = %+v, %v", l, err)
		}
		if n, err := s.GetUint64([]byte("CurrentTerm")); err != nil || n != 9 {
			t.Fatalf("GetUint64 after restart = %d, %v", n, err)
		}
		if v, err := s.Get([]byte("LastVoteCand")); err != nil || string(v) != "n2" {
			t.Fatalf("Get after restart = %q, %v", v, err)
		}

		// A truncated suffix and an emptied log survive a restart too.
		if err := s.DeleteRange(40, 50); err != nil {
			t.Fatal(err)
		}
		s = h.restart(t)
		wantBounds(t, s, 10, 39)
		if err := s.DeleteRange(0, math.MaxUint64); err != nil {
			t.Fatal(err)
		}
		s = h.restart(t)
		wantBounds(t, s, 0, 0)
		if _, err := h.db.Get(storage.KeyRaftLastIndex); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("last-index record of an empty log: %v, want ErrNotFound", err)
		}
	})
}

// New checks the last-index record and repairs one that disagrees with the
// entries, which only writes from outside the store can cause.
func TestNewRepairsLastIndexRecord(t *testing.T) {
	put := func(t *testing.T, db storage.DB, k, v []byte) {
		t.Helper()
		b := db.NewBatch()
		if v == nil {
			_ = b.Delete(k)
		} else {
			_ = b.Put(k, v)
		}
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name   string
		record []byte // nil deletes it
	}{
		{"missing", nil},
		{"too low", storage.EncodeHeight(5)},
		{"too high", storage.EncodeHeight(20)},
		{"below first", storage.EncodeHeight(1)},
		{"garbage", []byte("xyz")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			forEach(t, func(t *testing.T, h *handle, s *Store) {
				mustStore(t, s, entries(3, 10)...)
				put(t, h.db, storage.KeyRaftLastIndex, c.record)
				s = newStore(t, h.db)
				wantBounds(t, s, 3, 10)
				if v, err := h.db.Get(storage.KeyRaftLastIndex); err != nil || !bytes.Equal(v, storage.EncodeHeight(10)) {
					t.Fatalf("record after New = %x, %v; want it rewritten", v, err)
				}
			})
		})
	}
	t.Run("empty log", func(t *testing.T) {
		forEach(t, func(t *testing.T, h *handle, _ *Store) {
			put(t, h.db, storage.KeyRaftLastIndex, storage.EncodeHeight(4))
			s := newStore(t, h.db)
			wantBounds(t, s, 0, 0)
			if _, err := h.db.Get(storage.KeyRaftLastIndex); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("record after New = %v, want it deleted", err)
			}
			mustStore(t, s, entry(1))
			wantBounds(t, s, 1, 1)
		})
	})
	t.Run("corrupt entry", func(t *testing.T) {
		forEach(t, func(t *testing.T, h *handle, s *Store) {
			mustStore(t, s, entry(1))
			put(t, h.db, storage.RaftLogKey(1), []byte{logFormat, 1})
			if err := s.GetLog(1, new(raft.Log)); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("GetLog of a truncated record = %v, want ErrCorrupt", err)
			}
			v, _ := encodeLog(entry(2))
			put(t, h.db, storage.RaftLogKey(1), v)
			if err := s.GetLog(1, new(raft.Log)); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("GetLog of entry 2 under key 1 = %v, want ErrCorrupt", err)
			}
		})
	})
}

// failingDB fails the commit numbered failAt (from 1) and every later one,
// as a crash would.
type failingDB struct {
	storage.DB
	mu      sync.Mutex
	commits int
	failAt  int
}

var errInjected = errors.New("injected commit failure")

type failingBatch struct {
	storage.Batch
	db *failingDB
}

func (d *failingDB) NewBatch() storage.Batch { return &failingBatch{d.DB.NewBatch(), d} }

func (b *failingBatch) Commit() error {
	b.db.mu.Lock()
	b.db.commits++
	fail := b.db.failAt > 0 && b.db.commits >= b.db.failAt
	b.db.mu.Unlock()
	if fail {
		b.Discard()
		return errInjected
	}
	return b.Batch.Commit()
}

// A DeleteRange cut short between two batches leaves one contiguous run of
// the log, and the cached bounds agree with what was committed.
func TestDeleteRangeInterrupted(t *testing.T) {
	cases := []struct {
		name        string
		min, max    uint64
		first, last uint64 // after the first batch of 3 deletions from 1..20
	}{
		{"prefix", 1, 15, 4, 20},
		{"all", 0, 100, 4, 20},
		{"suffix", 6, 20, 1, 17},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			forEach(t, func(t *testing.T, h *handle, _ *Store) {
				db := &failingDB{DB: h.db}
				s := newStore(t, db)
				s.deleteChunk = 3
				mustStore(t, s, entries(1, 20)...)
				db.failAt = db.commits + 2
				if err := s.DeleteRange(c.min, c.max); !errors.Is(err, errInjected) {
					t.Fatalf("DeleteRange = %v, want the injected failure", err)
				}
				wantBounds(t, s, c.first, c.last)
				wantPresent(t, s, 0, 21, func(i uint64) bool { return i >= c.first && i <= c.last })
				wantConsistent(t, h, s)
			})
		})
	}
}

func TestStoreLogsIsAtomic(t *testing.T) {
	forEach(t, func(t *testing.T, h *handle, _ *Store) {
		db := &failingDB{DB: h.db}
		s := newStore(t, db)
		mustStore(t, s, entries(1, 5)...)
		db.failAt = db.commits + 1
		if err := s.StoreLogs(entries(6, 10)); !errors.Is(err, errInjected) {
			t.Fatalf("StoreLogs = %v, want the injected failure", err)
		}
		wantBounds(t, s, 1, 5)
		wantPresent(t, s, 0, 11, func(i uint64) bool { return i >= 1 && i <= 5 })
		// A log whose time cannot be encoded fails the whole batch.
		db.failAt = 0
		bad := entries(6, 8)
		bad[2].AppendedAt = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
		if err := s.StoreLogs(bad); err == nil {
			t.Fatal("StoreLogs accepted an AppendedAt beyond 2262")
		}
		wantPresent(t, s, 0, 11, func(i uint64) bool { return i >= 1 && i <= 5 })
		wantConsistent(t, h, s)
	})
}

// Raft reads entries from replication goroutines while its main loop
// appends and compacts; run with -race.
func TestConcurrentUse(t *testing.T) {
	forEach(t, func(t *testing.T, h *handle, s *Store) {
		s.deleteChunk = 7
		const total = 300
		done := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for r := 0; r < 3; r++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-done:
						return
					default:
					}
					first, _ := s.FirstIndex()
					last, _ := s.LastIndex()
					if first > last {
						errs <- fmt.Errorf("FirstIndex %d > LastIndex %d", first, last)
						return
					}
					var l raft.Log
					if err := s.GetLog(last, &l); err != nil && err != raft.ErrLogNotFound {
						errs <- err
						return
					}
					if _, err := s.GetUint64([]byte("CurrentTerm")); err != nil && err != ErrKeyNotFound {
						errs <- err
						return
					}
				}
			}()
		}
		for i := uint64(1); i <= total; i += 10 {
			if err := s.StoreLogs(entries(i, i+9)); err != nil {
				t.Fatal(err)
			}
			if err := s.SetUint64([]byte("CurrentTerm"), i); err != nil {
				t.Fatal(err)
			}
			if i > 50 {
				if err := s.DeleteRange(0, i-50); err != nil {
					t.Fatal(err)
				}
			}
		}
		close(done)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		wantBounds(t, s, total-9-50+1, total)
		wantConsistent(t, h, s)
	})
}
