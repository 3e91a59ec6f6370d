package exec_test

import (
	"errors"
	"math/big"
	"math/rand/v2"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/gcpolicy"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/storage"
	"github.com/tallyhq/tally/engine/types"
)

// benchBlock makes n Ledger transfers from n distinct funded senders, to
// distinct receivers (hot=false) or all to one account (hot=true).
func benchBlock(n int, hot bool) (mapBackend, []*types.Tx, []common.Address) {
	base := mapBackend{}
	blk := state.NewBlock(base)
	l := ledger.New()
	rng := rand.New(rand.NewPCG(1, 1))
	txs := make([]*types.Tx, n)
	senders := make([]common.Address, n)
	merchant := common.HexToAddress("0xfeed")
	for i := range txs {
		senders[i] = common.BigToAddress(big.NewInt(int64(1_000_000 + i)))
		ledger.IssueGenesis(blk, "CNY", senders[i], uint256.NewInt(1000))
		to := common.BigToAddress(big.NewInt(int64(2_000_000 + i)))
		if hot {
			to = merchant
		}
		txs[i] = newTx(rng, &l.Addr, must(l.Pack("transfer", "CNY", to, big.NewInt(7))))
		txs[i].Gas = 100_000
	}
	for _, c := range blk.Changes() {
		base[string(c.Key)] = c.Value
	}
	return base, txs, senders
}

// benchSetup makes the 10k block of BenchmarkBlock10k (hot: payments into
// one account), an executor and a block context, with the transactions'
// hashes cached as they are after the pool.
func benchSetup(hot bool) (name string, base mapBackend, txs []*types.Tx, senders []common.Address, x *exec.Executor, bc *exec.BlockContext) {
	name = "distinct"
	if hot {
		name = "hot-account"
	}
	base, txs, senders = benchBlock(10_000, hot)
	x = exec.NewExecutor(nil, ledger.New())
	bc = &exec.BlockContext{ChainID: "t", Height: 1, Suite: crypto.Secp256k1()}
	for _, tx := range txs {
		tx.Hash(bc.Suite)
	}
	return name, base, txs, senders, x, bc
}

// BenchmarkBlock10k runs a block of 10,000 transfers serially and on the
// DAG scheduler: distinct accounts, and payments into one hot account
// (commutative deltas). Compare ns/op of serial and parallel in one run.
func BenchmarkBlock10k(b *testing.B) {
	for _, hot := range []bool{false, true} {
		name, base, txs, senders, x, bc := benchSetup(hot)
		b.Run(name+"/serial", func(b *testing.B) {
			for b.Loop() {
				if _, err := x.ExecuteSerial(bc, state.NewBlock(base), txs, senders); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/parallel", func(b *testing.B) {
			for b.Loop() {
				if _, err := x.ExecuteParallel(bc, state.NewBlock(base), txs, senders, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSpeedup10k measures what BenchmarkBlock10k compares, but
// alternates serial and parallel runs of the block within each iteration, so
// that both see the same machine: on a shared machine the speed of a core
// drifts from one second to the next, and two sub-benchmarks run seconds
// apart can differ by a third on identical code. Each iteration runs the
// block once in a mode to warm up, then times three runs; it does so for
// serial, parallel, parallel and serial again, so that a machine speeding
// up or slowing down during the iteration favours neither mode. The
// collector runs when the allocation calls for it, so each mode pays for
// the cycles its blocks bring on, at a node's steady rate (both modes
// allocate the same per block). Collecting before each mode's runs instead,
// as this benchmark once did, left the node's pacing no cycle within the
// timed runs, and hid its cost. It reports the median time of each
// mode and the median of the per-iteration ratios (serial/parallel,
// "speedup").
// Run it with -benchtime Nx (N ≥ 10).
//
// The block reads its state from a map in memory ("memory"); from badger
// through one snapshot per block ("badger": the accounts committed to a
// database on disk, read through state.Reader like the chain's, as a chain
// reads accounts it has not touched lately); or, as a chain reads accounts
// it has, through the chain's state cache in front of that snapshot
// ("cached": warm after the first run).
//
// Beside the speedup it reports why it is what it is: the CPU time of a
// parallel run over a serial one ("cpu-par/ser": what the parallel path
// adds, less the collection a serial run does on the idle core), and the
// cores a parallel run keeps busy ("par-cores": 2 at best here) and a
// serial one ("ser-cores": 1 and the collector's share). The speedup is
// par-cores / ser-cores / cpu-par/ser.
//
// Each runs with the collector paced as the process started ("gc=go":
// GOGC=100 unless the environment sets it) and as a node paces it
// ("gc=node": gcpolicy.Default, which tally node and tally sim apply).
func BenchmarkSpeedup10k(b *testing.B) {
	started := gcpolicy.Current()
	defer gcpolicy.Restore(started)
	pacings := []struct {
		name  string
		apply func()
	}{
		{"gc=go", func() { gcpolicy.Restore(started) }},
		{"gc=node", func() {
			if _, err := gcpolicy.Apply(gcpolicy.Default(), gcpolicy.Host{Getenv: func(string) string { return "" }}); err != nil {
				b.Fatal(err)
			}
		}},
	}
	for _, backend := range []string{"memory", "badger", "cached"} {
		for _, hot := range []bool{false, true} {
			name, base, txs, senders, x, bc := benchSetup(hot)
			read := func() (state.Reader, func()) { return base, func() {} }
			if backend != "memory" {
				db := badgerState(b, base)
				cache := state.NewCache(chain.DefaultStateCacheBytes)
				cache.Reset(0)
				read = func() (state.Reader, func()) {
					snap, err := db.Snapshot()
					if err != nil {
						b.Fatal(err)
					}
					if backend == "cached" {
						return cache.Reader(0, snapReader{snap}), snap.Release
					}
					return snapReader{snap}, snap.Release
				}
			}
			serial := func() {
				r, release := read()
				defer release()
				if _, err := x.ExecuteSerial(bc, state.NewBlock(r), txs, senders); err != nil {
					b.Fatal(err)
				}
			}
			parallel := func() {
				r, release := read()
				defer release()
				if _, err := x.ExecuteParallel(bc, state.NewBlock(r), txs, senders, 0); err != nil {
					b.Fatal(err)
				}
			}
			// timed returns the mean wall and CPU time (the process's, the
			// collector's included) of three runs of f, after a first run.
			timed := func(f func()) (wall, cpu float64) {
				f()
				t0, c0 := time.Now(), processCPU(b)
				for range 3 {
					f()
				}
				return time.Since(t0).Seconds() / 3, (processCPU(b) - c0) / 3
			}
			for _, pacing := range pacings {
				b.Run(backend+"/"+name+"/"+pacing.name, func(b *testing.B) {
					pacing.apply()
					var ser, par, ratio, cpuRatio, parCores, serCores []float64
					for b.Loop() {
						// Serial, parallel, parallel, serial: a drift in the
						// machine's speed during the iteration weighs on both.
						s1, sc1 := timed(serial)
						p1, pc1 := timed(parallel)
						p2, pc2 := timed(parallel)
						s2, sc2 := timed(serial)
						s, p := (s1+s2)/2, (p1+p2)/2
						ser, par, ratio = append(ser, s), append(par, p), append(ratio, s/p)
						cpuRatio = append(cpuRatio, (pc1+pc2)/(sc1+sc2))
						parCores = append(parCores, (pc1+pc2)/(p1+p2))
						serCores = append(serCores, (sc1+sc2)/(s1+s2))
					}
					b.ReportMetric(median(ser)*1e3, "serial-ms")
					b.ReportMetric(median(par)*1e3, "parallel-ms")
					b.ReportMetric(median(ratio), "speedup")
					b.ReportMetric(median(cpuRatio), "cpu-par/ser")
					b.ReportMetric(median(parCores), "par-cores")
					b.ReportMetric(median(serCores), "ser-cores")
				})
			}
		}
	}
}

// badgerState commits base to a new badger database, under the chain's
// state keys, and closes it when the benchmark ends.
func badgerState(b *testing.B, base mapBackend) storage.DB {
	db, err := storage.OpenBadger(b.TempDir(), storage.DefaultBadgerOptions())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	batch := db.NewBatch()
	for k, v := range base {
		if err := batch.Put(storage.StateKey([]byte(k)), v); err != nil {
			b.Fatal(err)
		}
	}
	if err := batch.Commit(); err != nil {
		b.Fatal(err)
	}
	return db
}

// snapReader reads state from a database snapshot as the chain does.
type snapReader struct{ s storage.Snapshot }

func (r snapReader) Get(key []byte) []byte {
	v, err := r.s.Get(storage.StateKey(key))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		panic(err)
	}
	return v
}

// processCPU is the CPU time the process has used, user and system, in
// seconds.
func processCPU(b *testing.B) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
