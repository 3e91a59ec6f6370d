package raftstore

import (
	"testing"

	"github.com/hashicorp/raft"
	raftbench "github.com/hashicorp/raft/bench"

	"github.com/tallyhq/tally/engine/storage"
)

// store is what raftbench exercises.
type store interface {
	raft.LogStore
	raft.StableStore
}

// benchStores runs fn, one of hashicorp's own store benchmarks, against a
// Store on durable badger (storage.DefaultBadgerOptions: every batch is
// fsynced), a Store on the memory backend, and raft's InmemStore as the
// reference.
func benchStores(b *testing.B, fn func(*testing.B, store)) {
	b.Run("badger", func(b *testing.B) {
		db := openBadger(b, b.TempDir())
		defer db.Close()
		fn(b, newStore(b, db))
	})
	b.Run("memory", func(b *testing.B) {
		db := storage.NewMemory()
		defer db.Close()
		fn(b, newStore(b, db))
	})
	b.Run("inmem", func(b *testing.B) { fn(b, raft.NewInmemStore()) })
}

func BenchmarkFirstIndex(b *testing.B) {
	benchStores(b, func(b *testing.B, s store) { raftbench.FirstIndex(b, s) })
}

func BenchmarkLastIndex(b *testing.B) {
	benchStores(b, func(b *testing.B, s store) { raftbench.LastIndex(b, s) })
}

func BenchmarkGetLog(b *testing.B) {
	benchStores(b, func(b *testing.B, s store) { raftbench.GetLog(b, s) })
}

func BenchmarkStoreLog(b *testing.B) {
	benchStores(b, func(b *testing.B, s store) { raftbench.StoreLog(b, s) })
}

func BenchmarkStoreLogs(b *testing.B) {
	benchStores(b, func(b *testing.B, s store) { raftbench.StoreLogs(b, s) })
}

func BenchmarkDeleteRange(b *testing.B) {
	benchStores(b, func(b *testing.B, s store) { raftbench.DeleteRange(b, s) })
}

func BenchmarkSet(b *testing.B) {
	benchStores(b, func(b *testing.B, s store) { raftbench.Set(b, s) })
}

func BenchmarkGet(b *testing.B) {
	benchStores(b, func(b *testing.B, s store) { raftbench.Get(b, s) })
}

func BenchmarkSetUint64(b *testing.B) {
	benchStores(b, func(b *testing.B, s store) { raftbench.SetUint64(b, s) })
}

func BenchmarkGetUint64(b *testing.B) {
	benchStores(b, func(b *testing.B, s store) { raftbench.GetUint64(b, s) })
}
