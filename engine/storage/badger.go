package storage

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// BadgerOptions tunes the badger backend. Start from DefaultBadgerOptions;
// the zero value is rejected.
type BadgerOptions struct {
	// SyncWrites makes Commit return only after the write-ahead log is on
	// stable storage, so a committed block survives power loss, not only a
	// process crash.
	SyncWrites bool
	// MemTableSizeBytes is the size of one memtable. Badger caps a
	// transaction at 15% of it, so it also bounds the largest batch Commit
	// accepts (128 MiB admits about 19 MiB per batch).
	MemTableSizeBytes int64
	// NumMemTables is how many memtables (one active, the rest awaiting flush)
	// may exist before writes stall; each reserves about 1.3 ×
	// MemTableSizeBytes of RAM.
	NumMemTables int
	// ValueThresholdBytes sends values of at least this size to the value log
	// instead of the LSM tree, which keeps block bodies and receipt lists out
	// of compactions. At most 15% of MemTableSizeBytes.
	ValueThresholdBytes int64
	// BlockCacheSizeBytes caches decompressed table blocks; required when
	// Snappy is on.
	BlockCacheSizeBytes int64
	// IndexCacheSizeBytes caps the RAM used by table indexes and bloom
	// filters; 0 keeps all of them resident, which grows with the database.
	IndexCacheSizeBytes int64
	// ValueLogFileSizeBytes is the size at which badger starts a new
	// value-log file, within [1 MiB, 2 GiB); GC reclaims space a whole file
	// at a time.
	ValueLogFileSizeBytes int64
	// Snappy compresses table blocks. It costs little CPU, and RLP-encoded
	// bodies and receipts are full of zeroes.
	Snappy bool
	// NumCompactors is the number of background compaction goroutines: 0
	// disables compaction, badger rejects 1.
	NumCompactors int
	// Logger receives badger's own log lines; nil means slog.Default().
	Logger *slog.Logger
	// LogLevel drops badger lines below this level; badger is chatty at info.
	LogLevel slog.Level
}

// DefaultBadgerOptions returns durable settings sized for one chain per
// database on a shared machine: about 500 MiB of memtables at worst plus
// 96 MiB of caches.
func DefaultBadgerOptions() BadgerOptions {
	return BadgerOptions{
		SyncWrites:            true,
		MemTableSizeBytes:     128 << 20,
		NumMemTables:          3,
		ValueThresholdBytes:   4 << 10,
		ValueLogFileSizeBytes: 1 << 30,
		BlockCacheSizeBytes:   64 << 20,
		IndexCacheSizeBytes:   32 << 20,
		Snappy:                true,
		NumCompactors:         2,
		LogLevel:              slog.LevelWarn,
	}
}

// validate catches settings on which badger misbehaves instead of failing.
func (o BadgerOptions) validate() error {
	switch {
	case o.MemTableSizeBytes <= 0 || o.NumMemTables < 1:
		return errors.New("storage: badger options need a memtable size and count; start from DefaultBadgerOptions")
	case o.Snappy && o.BlockCacheSizeBytes <= 0:
		// Badger panics in Open on this combination.
		return errors.New("storage: snappy compression needs a block cache")
	}
	return nil
}

func (o BadgerOptions) badger(dir string) badger.Options {
	compression := options.None
	if o.Snappy {
		compression = options.Snappy
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.Default()
	}
	return badger.DefaultOptions(dir).
		WithSyncWrites(o.SyncWrites).
		WithMemTableSize(o.MemTableSizeBytes).
		WithNumMemtables(o.NumMemTables).
		WithValueThreshold(o.ValueThresholdBytes).
		WithValueLogFileSize(o.ValueLogFileSizeBytes).
		WithBlockCacheSize(o.BlockCacheSizeBytes).
		WithIndexCacheSize(o.IndexCacheSizeBytes).
		WithCompression(compression).
		WithNumCompactors(o.NumCompactors).
		WithLogger(slogLogger{l: logger, min: o.LogLevel}).
		// Batches are blind writes, which never conflict; tracking their
		// key hashes would only cost memory.
		WithDetectConflicts(false).
		WithMetricsEnabled(false)
}

// GCer is implemented by backends whose space is reclaimed by an explicit
// garbage collection pass.
type GCer interface {
	RunGC() error
}

type badgerDB struct {
	db *badger.DB
	// mu orders enter against Close, so that no operation starts on a
	// database Close is about to shut; inflight lets Close wait for the
	// operations already running.
	mu       sync.RWMutex
	closed   atomic.Bool
	inflight sync.WaitGroup
}

// OpenBadger opens or creates a badger database in dir.
func OpenBadger(dir string, opts BadgerOptions) (DB, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	db, err := badger.Open(opts.badger(dir))
	if err != nil {
		return nil, fmt.Errorf("storage: open badger in %s: %w", dir, err)
	}
	return &badgerDB{db: db}, nil
}

// enter registers an operation; it reports false once Close has begun,
// because badger panics or hangs when used after its Close.
func (d *badgerDB) enter() bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed.Load() {
		return false
	}
	d.inflight.Add(1)
	return true
}

func (d *badgerDB) view(key []byte, fn func(*badger.Txn) error) error {
	if len(key) == 0 {
		return ErrEmptyKey
	}
	if !d.enter() {
		return ErrClosed
	}
	defer d.inflight.Done()
	err := d.db.View(fn)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ErrNotFound
	}
	return err
}

func (d *badgerDB) Get(key []byte) ([]byte, error) {
	var v []byte
	err := d.view(key, func(txn *badger.Txn) error {
		item, err := txn.Get(key)
		if err != nil {
			return err
		}
		// The item's own buffer belongs to badger and dies with the txn.
		v, err = item.ValueCopy(make([]byte, 0, item.ValueSize()))
		return err
	})
	return v, err
}

func (d *badgerDB) Has(key []byte) (bool, error) {
	err := d.view(key, func(txn *badger.Txn) error {
		_, err := txn.Get(key)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Iterate holds Close off until it returns, so fn must not call Close.
func (d *badgerDB) Iterate(prefix, start []byte, fn func(key, value []byte) error) error {
	if !d.enter() {
		return ErrClosed
	}
	defer d.inflight.Done()
	return d.db.View(func(txn *badger.Txn) error { return iterate(txn, prefix, start, fn) })
}

func iterate(txn *badger.Txn, prefix, start []byte, fn func(key, value []byte) error) error {
	// No prefetching: values are read only when fn is about to see them,
	// and fn may stop early.
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	var value []byte
	for it.Seek(seekKey(prefix, start)); it.ValidForPrefix(prefix); it.Next() {
		// Copied rather than read inside item.Value: that holds a read
		// lock on the value-log file, and a commit from fn that rolls
		// the log over to a new file waits for it forever.
		var err error
		if value, err = it.Item().ValueCopy(value[:0]); err != nil {
			return err
		}
		if err := fn(it.Item().Key(), value); err != nil {
			return err
		}
	}
	return nil
}

// badgerSnapshot is one read-only badger transaction, shared by its
// readers: badger keeps no per-read state in a read-only transaction. A
// read on the database itself opens and discards a transaction, which
// takes the oracle's lock and two trips through its watermark goroutine.
// A snapshot counts as one operation in flight from Snapshot to Release
// (Close waits for it): registering each read instead would have every
// core write the same two counters at every read.
type badgerSnapshot struct {
	d        *badgerDB
	txn      *badger.Txn
	released atomic.Bool
}

func (d *badgerDB) Snapshot() (Snapshot, error) {
	if !d.enter() {
		return nil, ErrClosed
	}
	return &badgerSnapshot{d: d, txn: d.db.NewTransaction(false)}, nil
}

func (s *badgerSnapshot) get(key []byte) (*badger.Item, error) {
	if len(key) == 0 {
		return nil, ErrEmptyKey
	}
	if s.released.Load() {
		return nil, ErrReleased
	}
	item, err := s.txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	return item, err
}

func (s *badgerSnapshot) Get(key []byte) ([]byte, error) {
	item, err := s.get(key)
	if err != nil {
		return nil, err
	}
	return item.ValueCopy(make([]byte, 0, item.ValueSize()))
}

func (s *badgerSnapshot) Has(key []byte) (bool, error) {
	_, err := s.get(key)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (s *badgerSnapshot) Iterate(prefix, start []byte, fn func(key, value []byte) error) error {
	if s.released.Load() {
		return ErrReleased
	}
	return iterate(s.txn, prefix, start, fn)
}

// Release discards the transaction and lets Close proceed.
func (s *badgerSnapshot) Release() {
	if s.released.Swap(true) {
		return
	}
	s.txn.Discard()
	s.d.inflight.Done()
}

func (d *badgerDB) NewBatch() Batch {
	return newBatch(d.closed.Load, d.commit)
}

// commit writes ops in a single badger transaction. badger.WriteBatch is
// avoided on purpose: it splits large batches into several commits, and a
// crash between two of them would leave half a block on disk.
func (d *badgerDB) commit(ops []op) error {
	if !d.enter() {
		return ErrClosed
	}
	defer d.inflight.Done()
	txn := d.db.NewTransaction(true)
	defer txn.Discard()
	for i, o := range ops {
		if err := apply(txn, o); err != nil {
			if errors.Is(err, badger.ErrTxnTooBig) {
				return fmt.Errorf("storage: batch of %d operations overflows one badger transaction at operation %d; nothing was written; raise MemTableSizeBytes: %w", len(ops), i, err)
			}
			return fmt.Errorf("storage: commit: %w", err)
		}
	}
	if err := txn.Commit(); err != nil {
		return fmt.Errorf("storage: commit: %w", err)
	}
	return nil
}

func apply(txn *badger.Txn, o op) error {
	if o.del {
		return txn.Delete(o.key)
	}
	return txn.Set(o.key, o.value)
}

// RunGC rewrites value-log files until badger finds none worth rewriting.
// Only values of at least ValueThresholdBytes live there, so this reclaims
// the space of overwritten or deleted large values; Close waits for it.
func (d *badgerDB) RunGC() error {
	if !d.enter() {
		return ErrClosed
	}
	defer d.inflight.Done()
	for {
		err := d.db.RunValueLogGC(0.5)
		if errors.Is(err, badger.ErrNoRewrite) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("storage: value log GC: %w", err)
		}
	}
}

func (d *badgerDB) Close() error {
	d.mu.Lock()
	already := d.closed.Swap(true)
	d.mu.Unlock()
	if already {
		return ErrClosed
	}
	d.inflight.Wait()
	return d.db.Close()
}
