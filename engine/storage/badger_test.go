package storage_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/tallyhq/tally/engine/storage"
	"github.com/tallyhq/tally/engine/storage/storagetest"
)

func openBadger(t testing.TB, dir string, opts storage.BadgerOptions) storage.DB {
	t.Helper()
	db, err := storage.OpenBadger(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestBadger(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.DB {
		return openBadger(t, t.TempDir(), storage.DefaultBadgerOptions())
	})
}

func TestBadgerPersistsAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	db := openBadger(t, dir, storage.DefaultBadgerOptions())
	b := db.NewBatch()
	for _, kv := range [][2]string{{"a", "1"}, {"b", "2"}, {"gone", "x"}} {
		if err := b.Put([]byte(kv[0]), []byte(kv[1])); err != nil {
			t.Fatal(err)
		}
	}
	// A value above the threshold exercises the value log as well.
	big := make([]byte, 64<<10)
	big[len(big)-1] = 7
	if err := b.Put([]byte("big"), big); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	b = db.NewBatch()
	if err := b.Delete([]byte("gone")); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openBadger(t, dir, storage.DefaultBadgerOptions())
	defer db.Close()
	var got []string
	err := db.Iterate(nil, nil, func(k, v []byte) error {
		got = append(got, fmt.Sprintf("%s:%d:%d", k, len(v), v[len(v)-1]))
		return nil
	})
	want := fmt.Sprint([]string{"a:1:49", "b:1:50", "big:65536:7"})
	if err != nil || fmt.Sprint(got) != want {
		t.Fatalf("after reopen: %v, %v; want %v", got, err, want)
	}
}

// blockBatch fills a batch the size of a large block: n entries of
// 33-byte keys and 400-byte values, about 13 MB, which is more than one
// transaction admits under badger's default 64 MiB memtable.
func blockBatch(t testing.TB, db storage.DB, n int) storage.Batch {
	t.Helper()
	b := db.NewBatch()
	for i := range n {
		key := make([]byte, 33)
		key[0] = 'S'
		binary.BigEndian.PutUint64(key[25:], uint64(i))
		if err := b.Put(key, make([]byte, 400)); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func countKeys(t testing.TB, db storage.Reader) int {
	t.Helper()
	n := 0
	if err := db.Iterate(nil, nil, func(_, _ []byte) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBadgerCommitsBlockSizedBatch(t *testing.T) {
	dir := t.TempDir()
	db := openBadger(t, dir, storage.DefaultBadgerOptions())
	if err := blockBatch(t, db, 30_000).Commit(); err != nil {
		t.Fatalf("30,000-entry batch: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openBadger(t, dir, storage.DefaultBadgerOptions())
	defer db.Close()
	if n := countKeys(t, db); n != 30_000 {
		t.Fatalf("%d keys after reopen, want 30000", n)
	}
}

func TestBadgerTooBigBatchWritesNothing(t *testing.T) {
	opts := storage.DefaultBadgerOptions()
	opts.MemTableSizeBytes = 64 << 20 // badger's default
	db := openBadger(t, t.TempDir(), opts)
	defer db.Close()
	err := blockBatch(t, db, 30_000).Commit()
	if !errors.Is(err, badger.ErrTxnTooBig) {
		t.Fatalf("Commit = %v, want an error wrapping badger.ErrTxnTooBig", err)
	}
	if n := countKeys(t, db); n != 0 {
		t.Fatalf("%d keys written by a failed commit", n)
	}
	if err := blockBatch(t, db, 1000).Commit(); err != nil {
		t.Fatalf("database unusable after a failed commit: %v", err)
	}
}

func TestBadgerRunGC(t *testing.T) {
	db := openBadger(t, t.TempDir(), storage.DefaultBadgerOptions())
	gc, ok := db.(storage.GCer)
	if !ok {
		t.Fatal("badger backend does not implement GCer")
	}
	if err := gc.RunGC(); err != nil {
		t.Fatalf("RunGC with nothing to collect: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gc.RunGC(); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("RunGC after Close: %v, want ErrClosed", err)
	}
}

func TestBadgerRejectsBadOptions(t *testing.T) {
	noCache := storage.DefaultBadgerOptions()
	noCache.BlockCacheSizeBytes = 0 // badger itself panics on this with Snappy
	for name, opts := range map[string]storage.BadgerOptions{
		"zero value":           {},
		"snappy without cache": noCache,
	} {
		if db, err := storage.OpenBadger(t.TempDir(), opts); err == nil {
			db.Close()
			t.Errorf("%s: OpenBadger succeeded", name)
		}
	}
}

func TestBadgerSecondOpenFails(t *testing.T) {
	dir := t.TempDir()
	db := openBadger(t, dir, storage.DefaultBadgerOptions())
	defer db.Close()
	if db2, err := storage.OpenBadger(dir, storage.DefaultBadgerOptions()); err == nil {
		db2.Close()
		t.Fatal("a second OpenBadger on a directory in use succeeded")
	}
}

// TestBadgerIterateCallbackWritesLargeValues commits from inside Iterate
// while the value log rolls over to a new file. Badger write-locks the
// current value-log file to finish it, so a callback run while badger
// read-locks that file for a value deadlocks against its own commit.
func TestBadgerIterateCallbackWritesLargeValues(t *testing.T) {
	opts := storage.DefaultBadgerOptions()
	opts.ValueLogFileSizeBytes = 1 << 20   // badger's minimum, to roll over soon
	db := openBadger(t, t.TempDir(), opts) // not closed on deadlock: Close would wait too
	big := make([]byte, 64<<10)            // above the threshold: stored in the value log
	b := db.NewBatch()
	for i := range 4 {
		if err := b.Put(fmt.Appendf(nil, "r/%d", i), big); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		n := 0
		done <- db.Iterate([]byte("r/"), nil, func(_, _ []byte) error {
			b := db.NewBatch()
			for range 8 { // 512 KiB per callback: two callbacks fill a file
				if err := b.Put(fmt.Appendf(nil, "w/%d", n), big); err != nil {
					return err
				}
				n++
			}
			return b.Commit()
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Iterate deadlocked against a commit from its callback")
	}
}
