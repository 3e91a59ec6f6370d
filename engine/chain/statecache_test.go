package chain_test

import (
	"bytes"
	"math/big"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/storage"
	"github.com/tallyhq/tally/engine/types"
)

// snapshotReadCounter counts the state reads made through snapshots.
type snapshotReadCounter struct {
	storage.DB
	reads atomic.Int64
}

func (c *snapshotReadCounter) Snapshot() (storage.Snapshot, error) {
	s, err := c.DB.Snapshot()
	if err != nil {
		return nil, err
	}
	return countedSnapshot{s, &c.reads}, nil
}

type countedSnapshot struct {
	storage.Snapshot
	reads *atomic.Int64
}

func (s countedSnapshot) Get(key []byte) ([]byte, error) {
	if bytes.HasPrefix(key, storage.StateKey(nil)) {
		s.reads.Add(1)
	}
	return s.Snapshot.Get(key)
}

// TestStateCacheSameBlocks: a chain reading through its state cache and one
// without a cache, fed the same random blocks (transfers, issues, failing
// overdrafts, a restart of the cached chain half-way), commit identical
// blocks; and once the accounts are warm the cached chain reads almost
// nothing from the database to execute a block.
func TestStateCacheSameBlocks(t *testing.T) {
	cached := newFixture(t, crypto.Secp256k1())
	reads := &snapshotReadCounter{DB: cached.db}
	cached.db = reads
	cached.open()
	plain := &fixture{t: t, suite: cached.suite, ledger: cached.ledger, val: cached.val, admin: cached.admin,
		users: cached.users, gen: cached.gen, db: storage.NewMemory(), opts: []chain.Option{chain.WithStateCache(0)}}
	plainReads := &snapshotReadCounter{DB: plain.db}
	plain.db = plainReads
	plain.open()

	rng := rand.New(rand.NewPCG(5, 6))
	all := append(cached.users, cached.admin)
	block := func() []*types.Tx {
		var txs []*types.Tx
		for range 20 + rng.IntN(20) {
			switch from := all[rng.IntN(len(all))]; {
			case from == cached.admin && rng.IntN(2) == 0:
				txs = append(txs, cached.tx(from, "issue", "CNY", all[rng.IntN(len(all))].Address(), big.NewInt(int64(1+rng.IntN(500)))))
			default: // sometimes more than the balance: the transfer fails
				txs = append(txs, cached.tx(from, "transfer", "CNY", all[rng.IntN(len(all))].Address(), big.NewInt(int64(1+rng.IntN(400)))))
			}
		}
		return txs
	}
	for height := 1; height <= 40; height++ {
		if height == 20 {
			cached.open() // a restart: the cache starts empty at the head
		}
		txs := block()
		beforeCached, beforePlain := reads.reads.Load(), plainReads.reads.Load()
		a, _ := cached.commit(txs...)
		b, _ := plain.commit(txs...)
		if a.Block.Header.Hash(cached.suite) != b.Block.Header.Hash(plain.suite) {
			t.Fatalf("height %d: the cached chain committed %+v, the plain one %+v", height, a.Block.Header, b.Block.Header)
		}
		for i := range a.Receipts {
			if !bytes.Equal(a.Receipts[i].Encode(), b.Receipts[i].Encode()) {
				t.Fatalf("height %d: receipt %d differs", height, i)
			}
		}
		nc, np := reads.reads.Load()-beforeCached, plainReads.reads.Load()-beforePlain
		if height > 3 && height != 20 && nc > 3 {
			// The five accounts, the roles and the configuration were read or
			// written in the blocks before: at most a key never seen yet.
			t.Fatalf("height %d: the cached chain read the database %d times (the plain one %d)", height, nc, np)
		}
		if np < 5 {
			t.Fatalf("height %d: the plain chain read the database only %d times: is it cached?", height, np)
		}
	}
	for _, u := range all {
		if got, want := cached.balance(u.Address()), plain.balance(u.Address()); got != want {
			t.Fatalf("balance of %s: %d cached, %d plain", u.Address(), got, want)
		}
	}
	misses, entries, size := cached.c.StateCacheStats()
	if entries == 0 || misses == 0 || size == 0 {
		t.Fatalf("cache stats: %d misses, %d entries, %d bytes", misses, entries, size)
	}
	if m, e, _ := plain.c.StateCacheStats(); e != 0 || m != 0 {
		t.Fatalf("the chain without a cache reports %d misses and %d entries", m, e)
	}
}
