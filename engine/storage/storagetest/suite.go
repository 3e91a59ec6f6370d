// Package storagetest is the conformance suite every storage.DB backend
// passes. Run it with -race: several cases exercise concurrency.
package storagetest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tallyhq/tally/engine/storage"
)

// hangTimeout bounds calls that must return; badger hangs in some misuses.
const hangTimeout = 10 * time.Second

// Run runs every case on its own database. open returns a fresh, empty
// database; Run closes it.
func Run(t *testing.T, open func(t *testing.T) storage.DB) {
	cases := []struct {
		name string
		fn   func(*testing.T, storage.DB)
	}{
		{"GetHasMissing", testGetHasMissing},
		{"Overwrite", testOverwrite},
		{"Delete", testDelete},
		{"EmptyValue", testEmptyValue},
		{"BatchInvisibleBeforeCommit", testBatchInvisibleBeforeCommit},
		{"BatchDiscard", testBatchDiscard},
		{"BatchLastOpWins", testBatchLastOpWins},
		{"BatchNotReusable", testBatchNotReusable},
		{"BatchLenSize", testBatchLenSize},
		{"IterateBounds", testIterateBounds},
		{"IterateStopsOnError", testIterateStopsOnError},
		{"IterateCallbackReenters", testIterateCallbackReenters},
		{"ValuesAreCopies", testValuesAreCopies},
		{"KeyLimits", testKeyLimits},
		{"Closed", testClosed},
		{"ConcurrentReadersSeeWholeBatches", testConcurrentReaders},
		{"CloseDuringUse", testCloseDuringUse},
		{"SnapshotIsolation", testSnapshotIsolation},
		{"SnapshotConcurrentReaders", testSnapshotConcurrentReaders},
		{"SnapshotReleaseAndClose", testSnapshotReleaseAndClose},
		{"SnapshotOutlivesAnother", testSnapshotOutlivesAnother},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := open(t)
			t.Cleanup(func() { _ = within(t, "Close", db.Close) })
			c.fn(t, db)
		})
	}
}

// commit commits kv (key, value, key, value, ...) as one batch.
func commit(db storage.DB, kv ...string) error {
	b := db.NewBatch()
	for i := 0; i < len(kv); i += 2 {
		if err := b.Put([]byte(kv[i]), []byte(kv[i+1])); err != nil {
			return fmt.Errorf("Put(%q): %w", kv[i], err)
		}
	}
	return b.Commit()
}

func put(t *testing.T, db storage.DB, kv ...string) {
	t.Helper()
	if err := commit(db, kv...); err != nil {
		t.Fatal(err)
	}
}

func del(t *testing.T, db storage.DB, keys ...string) {
	t.Helper()
	b := db.NewBatch()
	for _, k := range keys {
		if err := b.Delete([]byte(k)); err != nil {
			t.Fatalf("Delete(%q): %v", k, err)
		}
	}
	if err := b.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// expect checks that key holds want, or is absent when want is nil.
func expect(t *testing.T, db storage.Reader, key string, want []byte) {
	t.Helper()
	v, err := db.Get([]byte(key))
	has, herr := db.Has([]byte(key))
	if herr != nil {
		t.Fatalf("Has(%q): %v", key, herr)
	}
	if want == nil {
		if !errors.Is(err, storage.ErrNotFound) || has {
			t.Fatalf("%s: Get = %s, %v; Has = %v; want absent (ErrNotFound, false)", short(key), short(v), err, has)
		}
		return
	}
	if err != nil || !bytes.Equal(v, want) || !has {
		t.Fatalf("%s: Get = %s, %v; Has = %v; want %s", short(key), short(v), err, has, short(want))
	}
}

// short quotes s, abbreviated if long.
func short[T string | []byte](s T) string {
	if len(s) <= 40 {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q... (%d bytes)", s[:40], len(s))
}

// collect returns the keys and values Iterate visits, "key=value" each.
func collect(t *testing.T, db storage.Reader, prefix, start []byte) []string {
	t.Helper()
	var got []string
	err := db.Iterate(prefix, start, func(k, v []byte) error {
		got = append(got, string(k)+"="+string(v))
		return nil
	})
	if err != nil {
		t.Fatalf("Iterate(%q, %q): %v", prefix, start, err)
	}
	return got
}

var errHung = errors.New("storagetest: call did not return")

// within returns fn's error, or fails the test and returns errHung if fn runs
// longer than hangTimeout. It does not stop the test, so that it can be used
// in defers and cleanups; the stuck goroutine is abandoned.
func within(t *testing.T, what string, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(hangTimeout):
		t.Errorf("%s did not return within %v", what, hangTimeout)
		return errHung
	}
}

func testGetHasMissing(t *testing.T, db storage.DB) {
	expect(t, db, "missing", nil)
	put(t, db, "a", "1", "b", "2")
	expect(t, db, "a", []byte("1"))
	expect(t, db, "b", []byte("2"))
	expect(t, db, "c", nil)
	expect(t, db, "a\x00", nil) // a longer key sharing the prefix
}

func testOverwrite(t *testing.T, db storage.DB) {
	put(t, db, "k", "first")
	put(t, db, "k", "second, longer")
	expect(t, db, "k", []byte("second, longer"))
	put(t, db, "k", "3")
	expect(t, db, "k", []byte("3"))
}

func testDelete(t *testing.T, db storage.DB) {
	put(t, db, "a", "1", "b", "2")
	del(t, db, "a", "never-written")
	expect(t, db, "a", nil)
	expect(t, db, "b", []byte("2"))
	if got := collect(t, db, nil, nil); !slices.Equal(got, []string{"b=2"}) {
		t.Fatalf("after delete, Iterate = %q", got)
	}
	put(t, db, "a", "again")
	expect(t, db, "a", []byte("again"))
}

func testEmptyValue(t *testing.T, db storage.DB) {
	b := db.NewBatch()
	if err := b.Put([]byte("nil"), nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Put([]byte("empty"), []byte{}); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"nil", "empty"} {
		v, err := db.Get([]byte(k))
		// Non-nil, so that a nil value never has to mean "absent".
		if err != nil || v == nil || len(v) != 0 {
			t.Fatalf("Get(%q) = %#v, %v; want an empty non-nil value", k, v, err)
		}
		expect(t, db, k, []byte{})
	}
}

func testBatchInvisibleBeforeCommit(t *testing.T, db storage.DB) {
	put(t, db, "old", "v0")
	b := db.NewBatch()
	for _, kv := range [][2]string{{"x", "1"}, {"y", "2"}, {"old", "v1"}} {
		if err := b.Put([]byte(kv[0]), []byte(kv[1])); err != nil {
			t.Fatal(err)
		}
	}
	expect(t, db, "x", nil)
	expect(t, db, "old", []byte("v0"))
	if got := collect(t, db, nil, nil); !slices.Equal(got, []string{"old=v0"}) {
		t.Fatalf("before Commit, Iterate = %q", got)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	want := []string{"old=v1", "x=1", "y=2"}
	if got := collect(t, db, nil, nil); !slices.Equal(got, want) {
		t.Fatalf("after Commit, Iterate = %q, want %q", got, want)
	}
}

func testBatchDiscard(t *testing.T, db storage.DB) {
	put(t, db, "keep", "1")
	b := db.NewBatch()
	if err := b.Put([]byte("x"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete([]byte("keep")); err != nil {
		t.Fatal(err)
	}
	b.Discard()
	if err := b.Commit(); err == nil {
		t.Fatal("Commit after Discard succeeded")
	}
	expect(t, db, "x", nil)
	expect(t, db, "keep", []byte("1"))
}

func testBatchLastOpWins(t *testing.T, db storage.DB) {
	put(t, db, "d", "old")
	b := db.NewBatch()
	steps := []struct {
		key, value string
		del        bool
	}{
		{"a", "1", false}, {"a", "2", false}, // overwritten
		{"b", "1", false}, {"b", "", true}, // put then delete
		{"c", "", true}, {"c", "1", false}, // delete then put
		{"d", "", true}, {"d", "new", false}, {"d", "", true},
	}
	for _, s := range steps {
		var err error
		if s.del {
			err = b.Delete([]byte(s.key))
		} else {
			err = b.Put([]byte(s.key), []byte(s.value))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	expect(t, db, "a", []byte("2"))
	expect(t, db, "b", nil)
	expect(t, db, "c", []byte("1"))
	expect(t, db, "d", nil)
}

func testBatchNotReusable(t *testing.T, db storage.DB) {
	b := db.NewBatch()
	if err := b.Put([]byte("a"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := b.Put([]byte("b"), []byte("1")); err == nil {
		t.Error("Put after Commit succeeded")
	}
	if err := b.Delete([]byte("a")); err == nil {
		t.Error("Delete after Commit succeeded")
	}
	if err := b.Commit(); err == nil {
		t.Error("second Commit succeeded")
	}
	expect(t, db, "a", []byte("1"))
	expect(t, db, "b", nil)
}

func testBatchLenSize(t *testing.T, db storage.DB) {
	b := db.NewBatch()
	defer b.Discard()
	if b.Len() != 0 || b.Size() != 0 {
		t.Fatalf("new batch: Len %d, Size %d", b.Len(), b.Size())
	}
	_ = b.Put([]byte("key"), []byte("value"))
	_ = b.Put([]byte("key"), []byte("value"))
	_ = b.Delete([]byte("other"))
	_ = b.Put(nil, []byte("rejected"))
	if b.Len() != 3 {
		t.Errorf("Len = %d, want 3 (rejected operations do not count)", b.Len())
	}
	if b.Size() < 3+5+3+5+5 {
		t.Errorf("Size = %d, want at least the 21 bytes of keys and values", b.Size())
	}
}

// iterKeys sort in this order; some differ only in trailing 0x00 / 0xff.
var iterKeys = []string{"\x00", "a", "a\x00", "a\x01x", "ab", "abc", "a\xff", "a\xff\xff", "b", "\xff"}

func testIterateBounds(t *testing.T, db storage.DB) {
	b := db.NewBatch()
	for _, i := range rand.New(rand.NewPCG(1, 2)).Perm(len(iterKeys)) {
		if err := b.Put([]byte(iterKeys[i]), []byte("v"+iterKeys[i])); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		prefix, start string
		from, to      int // want iterKeys[from:to]
	}{
		{"", "", 0, 10},
		{"a", "", 1, 8},
		{"a", "0", 1, 8},           // start before the prefix
		{"a", "a", 1, 8},           // start equal to the prefix
		{"a", "ab", 4, 8},          // start on a key
		{"a", "aa", 4, 8},          // start between keys
		{"a", "a\xff", 6, 8},       // start near the end of the range
		{"a", "b", 8, 8},           // start after the range
		{"ab", "", 4, 6},           // nested prefix
		{"a\xff", "", 6, 8},        // prefix ending in 0xff
		{"", "b", 8, 10},           // no prefix, with start
		{"z", "", 0, 0},            // no match
		{"abcd", "", 0, 0},         // prefix longer than every key
		{"\xff", "\xff\x00", 0, 0}, // start past the only match
	}
	for _, c := range cases {
		var start []byte
		if c.start != "" {
			start = []byte(c.start)
		}
		var want []string
		for _, k := range iterKeys[c.from:c.to] {
			want = append(want, k+"=v"+k)
		}
		if got := collect(t, db, []byte(c.prefix), start); !slices.Equal(got, want) {
			t.Errorf("Iterate(%q, %q) = %q, want %q", c.prefix, c.start, got, want)
		}
	}
}

func testIterateStopsOnError(t *testing.T, db storage.DB) {
	put(t, db, "p1", "1", "p2", "2", "p3", "3")
	stop := errors.New("stop")
	var seen []string
	err := db.Iterate([]byte("p"), nil, func(k, _ []byte) error {
		seen = append(seen, string(k))
		if len(seen) == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("Iterate returned %v, want the callback's error", err)
	}
	if !slices.Equal(seen, []string{"p1", "p2"}) {
		t.Fatalf("visited %q after the error, want [p1 p2]", seen)
	}
}

// testIterateCallbackReenters reads and commits from inside a callback while
// another goroutine commits: a backend holding a lock across the callback
// deadlocks here.
func testIterateCallbackReenters(t *testing.T, db storage.DB) {
	put(t, db, "r/1", "1", "r/2", "2")
	var writes sync.WaitGroup
	defer within(t, "the writer", func() error { writes.Wait(); return nil })
	stop := make(chan struct{})
	defer close(stop)
	writes.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
				if err := commit(db, "w", fmt.Sprint(i)); err != nil {
					t.Error(err)
					return
				}
			}
		}
	})
	err := within(t, "Iterate with a re-entrant callback", func() error {
		return db.Iterate([]byte("r/"), nil, func(k, v []byte) error {
			time.Sleep(20 * time.Millisecond) // let the writer queue up
			if _, err := db.Get(k); err != nil {
				return err
			}
			b := db.NewBatch()
			if err := b.Put(append([]byte("copy/"), k...), v); err != nil {
				return err
			}
			return b.Commit()
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, db, "copy/r/2", []byte("2"))
}

// testValuesAreCopies runs with a small and a large value: backends may
// keep them in different places (badger moves large ones to its value log).
func testValuesAreCopies(t *testing.T, db storage.DB) {
	for _, size := range []int{5, 64 << 10} {
		key := []byte(fmt.Sprintf("key%d", size))
		val := bytes.Repeat([]byte("v"), size)
		want := bytes.Clone(val)
		b := db.NewBatch()
		if err := b.Put(key, val); err != nil {
			t.Fatal(err)
		}
		copy(key, "KEY")
		copy(val, "XXXXX") // after Put, before Commit
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
		copy(val, "YYYYY") // after Commit
		name := fmt.Sprintf("key%d", size)
		expect(t, db, name, want)
		expect(t, db, "KEY"+name[3:], nil)

		got, err := db.Get([]byte(name))
		if err != nil {
			t.Fatal(err)
		}
		copy(got, "ZZZZZ")
		_ = append(got[:1], "appended"...) // writes past len if capacity allows
		expect(t, db, name, want)
	}
}

func testKeyLimits(t *testing.T, db storage.DB) {
	if _, err := db.Get(nil); !errors.Is(err, storage.ErrEmptyKey) {
		t.Errorf("Get(nil): %v, want ErrEmptyKey", err)
	}
	if _, err := db.Get([]byte{}); !errors.Is(err, storage.ErrEmptyKey) {
		t.Errorf("Get(empty): %v, want ErrEmptyKey", err)
	}
	if _, err := db.Has(nil); !errors.Is(err, storage.ErrEmptyKey) {
		t.Errorf("Has(nil): %v, want ErrEmptyKey", err)
	}
	b := db.NewBatch()
	if err := b.Put(nil, []byte("v")); !errors.Is(err, storage.ErrEmptyKey) {
		t.Errorf("Put(nil): %v, want ErrEmptyKey", err)
	}
	if err := b.Delete([]byte{}); !errors.Is(err, storage.ErrEmptyKey) {
		t.Errorf("Delete(empty): %v, want ErrEmptyKey", err)
	}
	if err := b.Put([]byte("!badger!mine"), []byte("v")); err == nil {
		t.Error("Put of a badger-reserved key succeeded")
	}
	if err := b.Put(bytes.Repeat([]byte("k"), 65001), []byte("v")); err == nil {
		t.Error("Put of a 65001-byte key succeeded")
	}
	long := bytes.Repeat([]byte("k"), 65000)
	if err := b.Put(long, []byte("longest")); err != nil {
		t.Errorf("Put of a 65000-byte key: %v", err)
	}
	if err := b.Commit(); err != nil {
		t.Fatalf("Commit after rejected operations: %v", err)
	}
	expect(t, db, string(long), []byte("longest"))
}

func testClosed(t *testing.T, db storage.DB) {
	put(t, db, "a", "1")
	pending := db.NewBatch()
	if err := pending.Put([]byte("b"), []byte("2")); err != nil {
		t.Fatal(err)
	}
	if err := within(t, "Close", db.Close); err != nil {
		t.Fatalf("Close: %v", err)
	}
	calls := map[string]func() error{
		"Get": func() error { _, err := db.Get([]byte("a")); return err },
		"Has": func() error { _, err := db.Has([]byte("a")); return err },
		"Iterate": func() error {
			return db.Iterate(nil, nil, func(_, _ []byte) error { return nil })
		},
		"Put":               func() error { return db.NewBatch().Put([]byte("c"), nil) },
		"Delete":            func() error { return db.NewBatch().Delete([]byte("a")) },
		"Commit(empty)":     func() error { return db.NewBatch().Commit() },
		"Commit(pre-Close)": pending.Commit,
		"Close(second)":     db.Close,
	}
	for name, call := range calls {
		if err := within(t, name+" after Close", call); !errors.Is(err, storage.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

// testConcurrentReaders has one writer commit generations of a group of keys
// while readers check that every snapshot shows one whole generation and that
// generations never go backwards.
func testConcurrentReaders(t *testing.T, db storage.DB) {
	const keys, readers, minGens, minReads = 20, 4, 100, 2000
	var done atomic.Bool
	var reads atomic.Int64
	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() {
			defer done.Store(true) // a failed reader ends the test
			var last uint64
			for ; !done.Load(); reads.Add(1) {
				g, err := readGeneration(db, keys)
				if err == nil && g < last {
					err = fmt.Errorf("generation went back from %d to %d", last, g)
				}
				if err != nil {
					t.Error(err)
					return
				}
				last = g
			}
		})
	}
	// Keep writing until the sides have overlapped: a fast backend could
	// otherwise finish every commit before a reader is scheduled. The time
	// budget is for slow disks and -race.
	budget := time.Now().Add(5 * time.Second)
	for g := uint64(1); !done.Load(); g++ {
		if g > minGens && (reads.Load() >= minReads || time.Now().After(budget)) {
			break
		}
		if err := writeGeneration(db, keys, g); err != nil {
			t.Error(err)
			break
		}
	}
	done.Store(true)
	wg.Wait()
	if n := reads.Load(); n < readers {
		t.Errorf("only %d reads overlapped the commits", n)
	}
}

func writeGeneration(db storage.DB, keys int, g uint64) error {
	b := db.NewBatch()
	for i := range keys {
		if err := b.Put(fmt.Appendf(nil, "g/%02d", i), binary.BigEndian.AppendUint64(nil, g)); err != nil {
			return err
		}
	}
	return b.Commit()
}

// readGeneration iterates the group and returns its generation, or an error
// if the snapshot mixes generations or lacks keys.
func readGeneration(db storage.Reader, keys int) (uint64, error) {
	var gens []uint64
	err := db.Iterate([]byte("g/"), nil, func(_, v []byte) error {
		gens = append(gens, binary.BigEndian.Uint64(v))
		return nil
	})
	switch {
	case err != nil:
		return 0, err
	case len(gens) == 0:
		return 0, nil
	case len(gens) != keys:
		return 0, fmt.Errorf("snapshot has %d of %d keys", len(gens), keys)
	case slices.Min(gens) != slices.Max(gens):
		return 0, fmt.Errorf("snapshot mixes generations %d..%d", slices.Min(gens), slices.Max(gens))
	}
	return gens[0], nil
}

// testCloseDuringUse closes the database under running readers and writers:
// each call must succeed or report ErrClosed, and none may hang or panic.
func testCloseDuringUse(t *testing.T, db storage.DB) {
	ops := []func(i int) error{
		func(i int) error {
			b := db.NewBatch()
			if err := b.Put(fmt.Appendf(nil, "k%d", i%50), make([]byte, 100)); err != nil {
				return err
			}
			return b.Commit()
		},
		func(i int) error {
			_, err := db.Get(fmt.Appendf(nil, "k%d", i%50))
			if errors.Is(err, storage.ErrNotFound) {
				return nil
			}
			return err
		},
		func(int) error { return db.Iterate(nil, nil, func(_, _ []byte) error { return nil }) },
	}
	var wg sync.WaitGroup
	var started atomic.Int64
	for _, op := range ops {
		for range 2 {
			wg.Go(func() {
				for i := 0; ; i++ {
					started.Add(1)
					if err := op(i); err != nil {
						if !errors.Is(err, storage.ErrClosed) {
							t.Errorf("during Close: %v", err)
						}
						return
					}
				}
			})
		}
	}
	for started.Load() < 200 {
		time.Sleep(time.Millisecond)
	}
	if err := within(t, "Close under load", db.Close); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_ = within(t, "callers after Close", func() error { wg.Wait(); return nil })
}

// testSnapshotIsolation: a snapshot keeps showing the database as it was
// when taken, whatever is committed after; the database shows the commits.
func testSnapshotIsolation(t *testing.T, db storage.DB) {
	put(t, db, "a", "1", "b", "2", "p/1", "x", "p/2", "y")
	snap, err := db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	put(t, db, "a", "changed", "c", "new", "p/3", "z")
	del(t, db, "b", "p/1")
	expect(t, snap, "a", []byte("1"))
	expect(t, snap, "b", []byte("2"))
	expect(t, snap, "c", nil)
	if got := strings.Join(collect(t, snap, []byte("p/"), nil), ","); got != "p/1=x,p/2=y" {
		t.Fatalf("snapshot iterates %s", got)
	}
	expect(t, db, "a", []byte("changed"))
	expect(t, db, "b", nil)
	if got := strings.Join(collect(t, db, []byte("p/"), nil), ","); got != "p/2=y,p/3=z" {
		t.Fatalf("database iterates %s", got)
	}
	later, err := db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer later.Release()
	expect(t, later, "a", []byte("changed"))
	if _, err := snap.Get(nil); !errors.Is(err, storage.ErrEmptyKey) {
		t.Fatalf("snapshot Get of an empty key: %v", err)
	}
	v, _ := snap.Get([]byte("a"))
	v[0] = 'X' // the caller owns what it read
	expect(t, snap, "a", []byte("1"))
}

// testSnapshotConcurrentReaders reads one snapshot from several goroutines
// while commits rewrite every key it holds: each reader sees the snapshot's
// whole generation, every time.
func testSnapshotConcurrentReaders(t *testing.T, db storage.DB) {
	const keys = 20
	if err := writeGeneration(db, keys, 1); err != nil {
		t.Fatal(err)
	}
	snap, err := db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	var wg, writer sync.WaitGroup
	var stop atomic.Bool
	writer.Go(func() {
		// Bounded: every generation adds versions a reader of the old
		// snapshot skips, so its reads slow down as the writer goes on.
		for g := uint64(2); !stop.Load() && g < 100; g++ {
			if err := writeGeneration(db, keys, g); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for range 4 {
		wg.Go(func() {
			for range 100 {
				g, err := readGeneration(snap, keys)
				if err == nil && g != 1 {
					err = fmt.Errorf("the snapshot shows generation %d", g)
				}
				if err == nil {
					var v []byte
					if v, err = snap.Get([]byte("g/07")); err == nil && binary.BigEndian.Uint64(v) != 1 {
						err = fmt.Errorf("a Get in the snapshot shows generation %d", binary.BigEndian.Uint64(v))
					}
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	stop.Store(true)
	writer.Wait()
	if g, err := readGeneration(db, keys); err != nil || g < 2 {
		t.Fatalf("the database is at generation %d (%v): the writer never overlapped the readers", g, err)
	}
}

// testSnapshotReleaseAndClose: reads after Release fail with ErrReleased;
// Release twice is harmless; Close waits for a snapshot to be released
// (or, as the memory backend does, lets it keep its view), and a closed
// database gives no snapshot.
func testSnapshotReleaseAndClose(t *testing.T, db storage.DB) {
	put(t, db, "a", "1")
	snap, err := db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	snap.Release()
	snap.Release()
	if _, err := snap.Get([]byte("a")); !errors.Is(err, storage.ErrReleased) {
		t.Fatalf("Get after Release: %v", err)
	}
	if _, err := snap.Has([]byte("a")); !errors.Is(err, storage.ErrReleased) {
		t.Fatalf("Has after Release: %v", err)
	}
	if err := snap.Iterate([]byte("a"), nil, func(_, _ []byte) error { return nil }); !errors.Is(err, storage.ErrReleased) {
		t.Fatalf("Iterate after Release: %v", err)
	}
	open, err := db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	select {
	case err := <-closed: // the memory backend
		if err != nil {
			t.Fatal(err)
		}
		expect(t, open, "a", []byte("1"))
		open.Release()
	case <-time.After(200 * time.Millisecond): // badger: Close waits
		expect(t, open, "a", []byte("1"))
		open.Release()
		if err := <-closed; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Snapshot(); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("Snapshot of a closed database: %v", err)
	}
}

// testSnapshotOutlivesAnother: releasing one snapshot leaves another taken
// at the same moment isolated, through several commits.
func testSnapshotOutlivesAnother(t *testing.T, db storage.DB) {
	put(t, db, "a", "1")
	first, err := db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	second, err := db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer second.Release()
	first.Release()
	put(t, db, "a", "2")
	put(t, db, "a", "3")
	expect(t, second, "a", []byte("1"))
	expect(t, db, "a", []byte("3"))
}
