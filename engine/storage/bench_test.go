package storage_test

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/tallyhq/tally/engine/storage"
)

// benchBackends opens each backend fresh for a benchmark.
var benchBackends = []struct {
	name string
	open func(b *testing.B, dir string) storage.DB
}{
	{"badger", func(b *testing.B, dir string) storage.DB {
		return openBadger(b, dir, storage.DefaultBadgerOptions())
	}},
	{"memory", func(*testing.B, string) storage.DB { return storage.NewMemory() }},
}

func benchKey(i uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte("S"), i)
}

// BenchmarkBatchCommit commits batches of 1000 puts of 100-byte values; on
// badger every commit is synced to disk.
func BenchmarkBatchCommit(b *testing.B) {
	const perBatch = 1000
	value := make([]byte, 100)
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			db := be.open(b, b.TempDir())
			defer db.Close()
			next := uint64(0)
			for b.Loop() {
				batch := db.NewBatch()
				for range perBatch {
					if err := batch.Put(benchKey(next), value); err != nil {
						b.Fatal(err)
					}
					next++
				}
				if err := batch.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(next)/b.Elapsed().Seconds(), "writes/s")
		})
	}
}

// BenchmarkGet reads random keys out of 100,000. Badger is reopened after
// loading, which moves the data from the memtable into table files.
func BenchmarkGet(b *testing.B) {
	const keys = 100_000
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			dir := b.TempDir()
			db := be.open(b, dir)
			loadBenchKeys(b, db, keys)
			if be.name == "badger" {
				if err := db.Close(); err != nil {
					b.Fatal(err)
				}
				db = be.open(b, dir)
			}
			defer db.Close()
			rng := rand.New(rand.NewPCG(1, 1))
			for b.Loop() {
				if _, err := db.Get(benchKey(rng.Uint64N(keys))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func loadBenchKeys(b *testing.B, db storage.DB, n uint64) {
	b.Helper()
	value := make([]byte, 100)
	for start := uint64(0); start < n; start += 10_000 {
		batch := db.NewBatch()
		for i := start; i < min(start+10_000, n); i++ {
			if err := batch.Put(benchKey(i), value); err != nil {
				b.Fatal(err)
			}
		}
		if err := batch.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}
