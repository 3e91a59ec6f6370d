package state

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// Cache keeps recently read and written values of a chain's committed state
// in memory, in front of its database, as FISCO BCOS's cached storage does.
// A block's execution reads each account it touches; from badger every
// such read walks a memtable skiplist or an SST, a few microseconds of
// cache misses, and those walks scale poorly across cores. A value the
// chain has read or written recently comes from memory instead.
//
// Every entry is a key's value since some height: the height of the block
// that wrote it, or the height at which a reader found it in the database
// (it may have been set earlier). A reader of height h uses an entry only
// if its value was set at or before h, and only while the cache has taken
// in every block up to h (Apply, after each commit); otherwise it reads
// its database, which must hold the state of h, and adds what it found.
// Apply replaces (or drops) the entry of every key a block changes, so an
// entry set at or before h that is still there is the key's value at h: a
// reader never sees another height's value, even one still running on an
// older height while a block commits.
//
// The entries live in a fixed table of buckets of eight slots, each slot a
// hash tag and an atomic pointer to an immutable entry: a key has at most
// one slot, in its bucket. Reads take no lock and write no shared memory,
// so the cores executing one block's transactions in parallel do not
// contend on the cache, and a read touches the bucket's two cache lines and
// the entry. Writers (a reader adding what it read, Apply) hold a mutex. A
// full bucket gives up its entry set longest ago. Values longer than
// maxCachedValue are not kept. A key known absent is cached as nil.
//
// Values are shared with the readers, which never modify a value they read
// (the state layer copies before it changes anything).
type Cache struct {
	tab    atomic.Pointer[cacheTable]
	height atomic.Uint64 // every block up to it is in; noHeight: none (or Apply runs)
	misses atomic.Uint64
	// mu is held by every writer: Apply and Reset hold it throughout, so a
	// reader adding what it read (under mu, after checking the height) never
	// adds across a block coming in, nor after that block's entry was
	// evicted, which would bring back the value before the block.
	mu      sync.Mutex
	buckets int
	entries int   // under mu
	bytes   int64 // under mu
	seed    maphash.Seed
}

type cacheTable struct {
	buckets []cacheBucket
	mask    uint64
}

// cacheBucket is eight slots; tag is a slot's key hash (0: empty), a hint
// that spares loading entries of other keys (the entry is checked).
type cacheBucket struct {
	tag [cacheWays]atomic.Uint64
	ent [cacheWays]atomic.Pointer[cacheEntry]
}

const cacheWays = 8

type cacheEntry struct {
	key   string
	val   []byte
	since uint64 // the value is the key's at every height from since to the cache's
}

// noHeight marks a cache that has taken in no height (or is changing).
const noHeight = ^uint64(0)

// cacheEntryBytes approximates what an entry costs: the entry and its slot,
// beyond its key and value. The table has a slot for every
// cacheEntryBytes+64 bytes of the bound.
const cacheEntryBytes = 96

// maxCachedValue is the longest value the cache keeps (state values are
// mostly 32-byte words; contract code is read once per call).
const maxCachedValue = 1024

// NewCache returns an empty cache of about maxBytes (of small values),
// holding no height until the first Reset or Apply.
func NewCache(maxBytes int64) *Cache {
	buckets := 1
	for int64(buckets*2*cacheWays)*(cacheEntryBytes+64) <= maxBytes {
		buckets *= 2
	}
	c := &Cache{buckets: buckets, seed: maphash.MakeSeed()}
	c.height.Store(noHeight)
	c.tab.Store(c.newTable())
	return c
}

func (c *Cache) newTable() *cacheTable {
	return &cacheTable{buckets: make([]cacheBucket, c.buckets), mask: uint64(c.buckets - 1)}
}

func (c *Cache) hash(key []byte) uint64 { return max(maphash.Bytes(c.seed, key), 1) }

// find returns key's slot in t (h is its hash), or -1.
func (t *cacheTable) find(h uint64, key []byte) (*cacheBucket, int) {
	b := &t.buckets[h&t.mask]
	for i := range b.tag {
		if b.tag[i].Load() == h {
			if e := b.ent[i].Load(); e != nil && e.key == string(key) {
				return b, i
			}
		}
	}
	return b, -1
}

// Reset empties the cache and makes it hold the state of height (with no
// entries: every read goes to the database once).
func (c *Cache) Reset(height uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reset(height)
}

func (c *Cache) reset(height uint64) {
	c.height.Store(noHeight)
	c.tab.Store(c.newTable())
	c.entries, c.bytes = 0, 0
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
	c.mu.Lock()
	defer c.mu.Unlock()
	prev := c.height.Swap(noHeight) // readers stop using it until the block is in
	if prev == noHeight || prev+1 != height {
		c.reset(noHeight)
	}
	t := c.tab.Load()
	for _, ch := range changes {
		v := ch.Value
		if len(v) == 0 {
			v = nil // a delete: the key is known absent
		}
		c.put(t, ch.Key, v, height, true)
	}
	c.height.Store(height)
}

// put sets key's entry under mu. A value too long to keep drops the key's
// entry instead; so does replace=false when the key has one (a reader
// adding what it read keeps what is there).
func (c *Cache) put(t *cacheTable, key, v []byte, since uint64, replace bool) {
	h := c.hash(key)
	b, i := t.find(h, key)
	if i >= 0 && !replace {
		return
	}
	if i >= 0 {
		old := b.ent[i].Load()
		c.bytes -= int64(len(old.key) + len(old.val) + cacheEntryBytes)
		c.entries--
		if len(v) > maxCachedValue {
			b.ent[i].Store(nil)
			b.tag[i].Store(0)
			return
		}
	} else {
		if len(v) > maxCachedValue {
			return
		}
		i = victim(b)
		if old := b.ent[i].Load(); old != nil {
			c.bytes -= int64(len(old.key) + len(old.val) + cacheEntryBytes)
			c.entries--
		}
	}
	e := &cacheEntry{key: string(key), val: v[:len(v):len(v)], since: since} // a reader that appends reallocates
	b.ent[i].Store(e)
	b.tag[i].Store(h)
	c.bytes += int64(len(e.key) + len(e.val) + cacheEntryBytes)
	c.entries++
}

// victim is the slot of b to fill: an empty one, else the entry set
// longest ago.
func victim(b *cacheBucket) int {
	best, since := 0, noHeight
	for i := range b.ent {
		e := b.ent[i].Load()
		if e == nil {
			return i
		}
		if e.since < since {
			best, since = i, e.since
		}
	}
	return best
}

// drop removes key's entry, if any (an eviction).
func (c *Cache) drop(key []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b, i := c.tab.Load().find(c.hash(key), key); i >= 0 {
		old := b.ent[i].Load()
		c.bytes -= int64(len(old.key) + len(old.val) + cacheEntryBytes)
		c.entries--
		b.ent[i].Store(nil)
		b.tag[i].Store(0)
	}
}

// Stats returns the reads that went to the database since the cache was
// made, and its current entries and approximate bytes.
func (c *Cache) Stats() (misses uint64, entries int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.misses.Load(), c.entries, c.bytes
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
		if b, i := c.tab.Load().find(c.hash(key), key); i >= 0 {
			if e := b.ent[i].Load(); e != nil && e.key == string(key) && e.since <= r.height {
				return e.val
			}
			// Changed after r's height, or replaced meanwhile: the database.
			return r.db.Get(key)
		}
	}
	c.misses.Add(1)
	v := r.db.Get(key)
	// Add it only while the cache holds r's height (and keeps holding it:
	// mu): no block after it is in, and the next one's Apply will replace
	// the entry if it changes the key.
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.height.Load() == r.height {
		if testHookFill != nil {
			testHookFill()
		}
		c.put(c.tab.Load(), key, v, r.height, false)
	}
	return v
}
