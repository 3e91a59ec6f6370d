package state

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingReader is a map of state that counts its reads.
type countingReader struct {
	m     map[string][]byte
	reads atomic.Int64
}

func (r *countingReader) Get(key []byte) []byte {
	r.reads.Add(1)
	return r.m[string(key)]
}

func TestCacheReadsThrough(t *testing.T) {
	c := NewCache(1 << 20)
	db := &countingReader{m: map[string][]byte{"a": []byte("1"), "b": []byte("2")}}
	c.Reset(5)
	r := c.Reader(5, db)
	for range 3 {
		if got := r.Get([]byte("a")); string(got) != "1" {
			t.Fatalf("a = %q", got)
		}
		if got := r.Get([]byte("missing")); got != nil {
			t.Fatalf("missing = %q", got)
		}
	}
	if n := db.reads.Load(); n != 2 {
		t.Fatalf("%d database reads for 2 keys read 3 times each, want 2 (absent keys are cached too)", n)
	}
	misses, entries, _ := c.Stats()
	if misses != 2 || entries != 2 {
		t.Fatalf("stats: %d misses, %d entries", misses, entries)
	}

	// A reader of another height neither uses nor fills the cache.
	other := c.Reader(4, db)
	before := db.reads.Load()
	other.Get([]byte("a"))
	other.Get([]byte("b"))
	other.Get([]byte("b"))
	if n := db.reads.Load() - before; n != 3 {
		t.Fatalf("a reader of height 4 over a cache of 5 read the database %d times, want 3", n)
	}
	if _, entries, _ := c.Stats(); entries != 2 {
		t.Fatalf("a reader of another height filled the cache: %d entries", entries)
	}
}

func TestCacheApply(t *testing.T) {
	c := NewCache(1 << 20)
	db := &countingReader{m: map[string][]byte{"a": []byte("1"), "b": []byte("2"), "c": []byte("3")}}
	c.Reset(1)
	r1 := c.Reader(1, db)
	r1.Get([]byte("a"))
	r1.Get([]byte("b"))

	// Block 2 changes a, deletes b and creates d; the database moves on.
	changes := []Change{{Key: []byte("a"), Value: []byte("10")}, {Key: []byte("b")}, {Key: []byte("d"), Value: []byte("4")}}
	db2 := &countingReader{m: map[string][]byte{"a": []byte("10"), "c": []byte("3"), "d": []byte("4")}}
	c.Apply(2, changes)
	if h, ok := c.Height(); !ok || h != 2 {
		t.Fatalf("height %d %v", h, ok)
	}
	r2 := c.Reader(2, db2)
	for k, want := range map[string]string{"a": "10", "b": "", "d": "4"} {
		if got := r2.Get([]byte(k)); string(got) != want || (want == "" && got != nil) {
			t.Fatalf("after apply, %s = %q, want %q", k, got, want)
		}
	}
	if n := db2.reads.Load(); n != 0 {
		t.Fatalf("the changed keys were read from the database %d times", n)
	}
	if got := r2.Get([]byte("c")); string(got) != "3" || db2.reads.Load() != 1 {
		t.Fatalf("an untouched key: %q after %d reads", got, db2.reads.Load())
	}

	// A reader still on height 1 (a block that began before the commit)
	// reads its own height's values, from its database.
	if got := r1.Get([]byte("a")); string(got) != "1" {
		t.Fatalf("a reader of height 1 after the commit of 2 read a = %q", got)
	}

	// A gap (the cache missed a height) empties it.
	c.Apply(4, []Change{{Key: []byte("z"), Value: []byte("9")}})
	if _, entries, _ := c.Stats(); entries != 1 {
		t.Fatalf("after a gap the cache kept %d entries, want only the block's 1", entries)
	}

	// Invalidate sends every read to the database.
	c.Invalidate()
	db4 := &countingReader{m: map[string][]byte{"z": []byte("9")}}
	c.Reader(4, db4).Get([]byte("z"))
	if db4.reads.Load() != 1 {
		t.Fatal("an invalidated cache served a read")
	}
}

func TestCacheBounded(t *testing.T) {
	const limit = 256 * 1024
	c := NewCache(limit)
	c.Reset(0)
	db := &countingReader{m: map[string][]byte{}}
	for i := range 20000 {
		db.m[fmt.Sprintf("key-%06d", i)] = bytes.Repeat([]byte{1}, 32)
	}
	r := c.Reader(0, db)
	for i := range 20000 {
		r.Get(fmt.Appendf(nil, "key-%06d", i))
	}
	_, entries, size := c.Stats()
	if size > limit || entries == 0 {
		t.Fatalf("%d entries of %d bytes in a cache of %d", entries, size, limit)
	}
	// Every value read is still right, cached or not.
	for i := range 20000 {
		k := fmt.Appendf(nil, "key-%06d", i)
		if got := r.Get(k); !bytes.Equal(got, db.m[string(k)]) {
			t.Fatalf("%s = %x", k, got)
		}
	}
}

func TestCacheValuesSurviveAppend(t *testing.T) {
	c := NewCache(1 << 20)
	c.Reset(0)
	backing := make([]byte, 2, 64) // room past the value
	copy(backing, "ab")
	db := &countingReader{m: map[string][]byte{"k": backing}}
	r := c.Reader(0, db)
	v := r.Get([]byte("k"))
	_ = append(v, 'X') // a careless reader
	w := r.Get([]byte("k"))
	_ = append(w, 'Y')
	if got := r.Get([]byte("k")); string(got) != "ab" || cap(got) != len(got) {
		t.Fatalf("cached value %q (cap %d)", got, cap(got))
	}
}

// TestCacheConcurrentHeights: readers of recent heights run while blocks
// are applied, in a cache large enough for every key and in one so small
// that it evicts all the time. Each reader checks every value against the
// state of its own height; a read of a value from another height, or a
// reader that fills the cache with a stale value, fails it. Run it under
// -race.
func TestCacheConcurrentHeights(t *testing.T) {
	for _, size := range []int64{1 << 20, 2048} {
		t.Run(fmt.Sprint(size), func(t *testing.T) { testCacheConcurrentHeights(t, size) })
	}
}

func testCacheConcurrentHeights(t *testing.T, size int64) {
	const keys, heights, readers = 64, 300, 4
	states := make([]map[string][]byte, heights+1) // the state at each height
	states[0] = map[string][]byte{}
	for k := range keys {
		states[0][fmt.Sprint(k)] = []byte{0}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	blocks := make([][]Change, heights+1)
	for h := 1; h <= heights; h++ {
		next := make(map[string][]byte, keys)
		for k, v := range states[h-1] {
			next[k] = v
		}
		for range 1 + rng.IntN(8) {
			k := fmt.Sprint(rng.IntN(keys))
			v := []byte{byte(h), byte(rng.IntN(256))}
			if rng.IntN(5) == 0 {
				v = nil
				delete(next, k)
			} else {
				next[k] = v
			}
			blocks[h] = append(blocks[h], Change{Key: []byte(k), Value: v})
		}
		states[h] = next
	}
	c := NewCache(size)
	c.Reset(0)
	var current atomic.Uint64 // the height committed (the database's)
	var wg sync.WaitGroup
	var bad atomic.Value
	done := make(chan struct{})
	for w := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 9))
			for {
				select {
				case <-done:
					return
				default:
				}
				h := current.Load()
				if h > 0 && rng.IntN(4) == 0 {
					h-- // a block that began before the last commit
				}
				snap := &countingReader{m: states[h]} // the snapshot of height h
				r := c.Reader(h, snap)
				for range 50 {
					k := fmt.Sprint(rng.IntN(keys))
					if got, want := r.Get([]byte(k)), states[h][k]; !bytes.Equal(got, want) {
						bad.CompareAndSwap(nil, fmt.Sprintf("reader at height %d read %s = %x, want %x", h, k, got, want))
					}
				}
			}
		}()
	}
	for h := 1; h <= heights; h++ {
		c.Apply(uint64(h), blocks[h])
		current.Store(uint64(h))
	}
	close(done)
	wg.Wait()
	if msg := bad.Load(); msg != nil {
		t.Fatal(msg)
	}
	// After the last block, the cache holds exactly the last state.
	r := c.Reader(heights, &countingReader{m: states[heights]})
	for k := range keys {
		if got := r.Get([]byte(fmt.Sprint(k))); !bytes.Equal(got, states[heights][fmt.Sprint(k)]) {
			t.Fatalf("final %d = %x", k, got)
		}
	}
}

// TestCacheFillRacesApply: a reader of height 1 has read a key from its
// database and is about to add it when block 2, which changes the key,
// comes in, and the key's new entry is evicted at once. The reader must not
// bring back the value of height 1, which a reader of height 2 would take
// for the key's value.
func TestCacheFillRacesApply(t *testing.T) {
	c := NewCache(1 << 20)
	c.Reset(1)
	db1 := &countingReader{m: map[string][]byte{"k": []byte("old")}}
	block2 := []Change{{Key: []byte("k"), Value: []byte("new")}}
	applied := make(chan struct{})
	testHookFill = func() {
		testHookFill = nil
		go func() {
			c.Apply(2, block2)
			c.drop([]byte("k")) // evicted
			close(applied)
		}()
		select {
		case <-applied: // no lock held it back: the block is in
		case <-time.After(50 * time.Millisecond): // held back until the reader is done
		}
	}
	defer func() { testHookFill = nil }()
	if got := c.Reader(1, db1).Get([]byte("k")); string(got) != "old" {
		t.Fatalf("height 1 read %q", got)
	}
	<-applied
	db2 := &countingReader{m: map[string][]byte{"k": []byte("new")}}
	if got := c.Reader(2, db2).Get([]byte("k")); string(got) != "new" {
		t.Fatalf("after block 2, a reader of height 2 read k = %q", got)
	}
}

// TestCacheLongValues: a value longer than maxCachedValue is not kept, and a
// block that gives a cached key such a value drops the key's entry (no
// stale short value stays behind).
func TestCacheLongValues(t *testing.T) {
	c := NewCache(1 << 20)
	c.Reset(1)
	long := bytes.Repeat([]byte{7}, maxCachedValue+1)
	db := &countingReader{m: map[string][]byte{"code": long, "k": []byte("short")}}
	r := c.Reader(1, db)
	r.Get([]byte("code"))
	r.Get([]byte("code"))
	if n := db.reads.Load(); n != 2 {
		t.Fatalf("a long value was read from the database %d times in 2 reads, want 2 (not cached)", n)
	}
	r.Get([]byte("k"))
	c.Apply(2, []Change{{Key: []byte("k"), Value: long}})
	db2 := &countingReader{m: map[string][]byte{"k": long}}
	if got := c.Reader(2, db2).Get([]byte("k")); !bytes.Equal(got, long) || db2.reads.Load() != 1 {
		t.Fatalf("after a long value replaced it, k = %d bytes, %d database reads", len(got), db2.reads.Load())
	}
	if _, entries, _ := c.Stats(); entries != 0 {
		t.Fatalf("%d entries left", entries)
	}
}
