package state

import (
	"sync"
	"sync/atomic"
)

// Cache keeps recently read and written values of a chain's committed state
// in memory, in front of its database, as FISCO BCOS's cached storage does.
// A block's execution reads each account it touches; from badger every
// such read walks a memtable skiplist or an SST, a few microseconds of
// cache misses, and those walks scale poorly across cores. A value the
// chain has read or written recently comes from a map instead.
//
// Every entry is a key's value since some height: the height of the block
// that wrote it, or the height at which a reader found it in the database
// (it may have been set earlier). A reader of height h uses an entry only
// if its value was set at or before h, and only while the cache has taken
// in every block up to h (Apply, after each commit); otherwise it reads
// its database, which must hold the state of h, and adds what it found
// unless the key has an entry already. Apply replaces the entry of every
// key a block changes, so an entry set at or before h that is still there
// is the key's value at h: a reader never sees another height's value,
// even one still running on an older height while a block commits.
//
// Reads take no lock and write no shared memory (sync.Map's reads are
// atomic loads), so the cores executing one block's transactions in
// parallel do not contend on the cache. Values are shared with the
// readers, which never modify a value they read (the state layer copies
// before it changes anything). A key known absent is cached as nil. The
// cache is bounded: a reader that fills it past maxBytes drops entries
// until it is under 7/8 of it.
type Cache struct {
	m        sync.Map      // string -> *cacheEntry
	height   atomic.Uint64 // every block up to it is in; noHeight: none (or Apply runs)
	maxBytes int64
	bytes    atomic.Int64
	entries  atomic.Int64
	misses   atomic.Uint64
	evicting sync.Mutex // one reader evicts at a time
	// change is held by Apply and Reset, and read-held by a reader adding
	// what it read: so a reader adds only while the cache's height is its
	// own, never across a block coming in (or after that block's entry was
	// evicted, which would bring back the value before the block).
	change sync.RWMutex
}

type cacheEntry struct {
	val   []byte
	since uint64 // the value is the key's at every height from since to the cache's
}

// noHeight marks a cache that has taken in no height (or is changing).
const noHeight = ^uint64(0)

// cacheEntryOverhead approximates the bytes an entry costs beyond its key
// and value.
const cacheEntryOverhead = 96

// NewCache returns an empty cache of at most about maxBytes, holding no
// height until the first Reset or Apply.
func NewCache(maxBytes int64) *Cache {
	c := &Cache{maxBytes: max(maxBytes, 1)}
	c.height.Store(noHeight)
	return c
}

// Reset empties the cache and makes it hold the state of height (with no
// entries: every read goes to the database once).
func (c *Cache) Reset(height uint64) {
	c.change.Lock()
	defer c.change.Unlock()
	c.reset(height)
}

func (c *Cache) reset(height uint64) {
	c.height.Store(noHeight)
	c.m.Clear()
	c.bytes.Store(0)
	c.entries.Store(0)
	c.height.Store(height)
}

// Invalidate makes every read go to the database until the next Reset or
// Apply (for a chain whose database is in doubt).
func (c *Cache) Invalidate() { c.height.Store(noHeight) }

// Height returns the height the cache holds, and false while it holds none.
func (c *Cache) Height() (uint64, bool) {
	h := c.height.Load()
	return h, h != noHeight
}

// Apply takes in the block of height, whose changes move the state from
// height-1. If the cache did not hold height-1 it is emptied first: its
// entries may miss changes.
func (c *Cache) Apply(height uint64, changes []Change) {
	c.change.Lock()
	defer c.change.Unlock()
	prev := c.height.Swap(noHeight) // readers of height stop using it until it is in
	if prev == noHeight || prev+1 != height {
		c.reset(noHeight)
	}
	for _, ch := range changes {
		v := ch.Value
		if len(v) == 0 {
			v = nil // a delete: the key is known absent
		}
		e := &cacheEntry{val: v[:len(v):len(v)], since: height}
		if old, loaded := c.m.Swap(string(ch.Key), e); loaded {
			c.bytes.Add(int64(len(v) - len(old.(*cacheEntry).val)))
		} else {
			c.bytes.Add(int64(len(ch.Key) + len(v) + cacheEntryOverhead))
			c.entries.Add(1)
		}
	}
	c.height.Store(height)
	c.evictIfFull()
}

// evictIfFull drops entries, in the map's order, until the cache is under
// 7/8 of its bound.
func (c *Cache) evictIfFull() {
	if c.bytes.Load() <= c.maxBytes || !c.evicting.TryLock() {
		return
	}
	defer c.evicting.Unlock()
	c.m.Range(func(k, v any) bool {
		if c.bytes.Load() <= c.maxBytes-c.maxBytes/8 {
			return false
		}
		if c.m.CompareAndDelete(k, v) {
			c.bytes.Add(-int64(len(k.(string)) + len(v.(*cacheEntry).val) + cacheEntryOverhead))
			c.entries.Add(-1)
		}
		return true
	})
}

// Stats returns the reads that went to the database since the cache was
// made, and its current entries and approximate bytes.
func (c *Cache) Stats() (misses uint64, entries int, bytes int64) {
	return c.misses.Load(), int(c.entries.Load()), c.bytes.Load()
}

// Reader reads the state of height through the cache, and from db (which
// must read the state of height) what the cache cannot give.
func (c *Cache) Reader(height uint64, db Reader) Reader {
	return cacheReader{c: c, height: height, db: db}
}

// testHookFill, when set by a test, runs while a reader is about to add
// what it read.
var testHookFill func()

type cacheReader struct {
	c      *Cache
	height uint64
	db     Reader
}

func (r cacheReader) Get(key []byte) []byte {
	c := r.c
	if h := c.height.Load(); h != noHeight && h >= r.height {
		if e, ok := c.m.Load(string(key)); ok {
			if e := e.(*cacheEntry); e.since <= r.height {
				return e.val
			}
			return r.db.Get(key) // changed after r's height
		}
	}
	c.misses.Add(1)
	v := r.db.Get(key)
	// Add it only while the cache holds r's height (and keeps holding it:
	// change): no block after it is in, and the next one's Apply will
	// replace the entry if it changes the key. LoadOrStore keeps an entry
	// another reader added meanwhile.
	c.change.RLock()
	defer c.change.RUnlock()
	if c.height.Load() == r.height {
		if testHookFill != nil {
			testHookFill()
		}
		e := &cacheEntry{val: v[:len(v):len(v)], since: r.height}
		if _, loaded := c.m.LoadOrStore(string(key), e); !loaded {
			c.bytes.Add(int64(len(key) + len(v) + cacheEntryOverhead))
			c.entries.Add(1)
			c.evictIfFull()
		}
	}
	return v
}
