package evm

import (
	"math/big"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
)

// tokenBench is a block of ERC-20 transfers between funded holders, to be
// run on our VM and on go-ethereum's core/state.
type tokenBench struct {
	holders []common.Address
	fund    []*types.Tx // deploy, then one transfer per holder from the deployer
	block   []*types.Tx // holder i pays holder i+1
	token   common.Address
}

func newTokenBench(tb testing.TB, n int) *tokenBench {
	w := newWorld(tb, Options{})
	b := &tokenBench{token: crypto.CreateAddress(deployer, 0)}
	b.fund = append(b.fund, w.tx(nil, tokenInit(new(big.Int).Lsh(big.NewInt(1), 200)), 1_000_000))
	for i := range n {
		h := common.BigToAddress(big.NewInt(int64(0x10000 + i)))
		b.holders = append(b.holders, h)
		b.fund = append(b.fund, w.tx(&b.token, transferData(h, 1_000_000), 100_000))
	}
	for i := range n {
		to := b.holders[(i+1)%n]
		b.block = append(b.block, w.tx(&b.token, transferData(to, 1), 100_000))
	}
	for _, tx := range append(b.fund, b.block...) {
		tx.Hash(w.bc.Suite) // cached, as after the pool
	}
	return b
}

// BenchmarkTokenTransfer runs blocks of 1000 ERC-20 transfers, each block
// ending with its state root, on one core: through the executor on our VM,
// with the chain's precompiles installed, forced through the traced
// interpreter loop (as a transaction that calls a precompile runs), with
// no precompiles, and on
// go-ethereum's in-memory core/state (roots by IntermediateRoot). Compare
// transfers/s side by side; on a shared machine compare transfers/cpu-s,
// which counts the process's CPU time (GC included) instead of wall time.
func BenchmarkTokenTransfer(b *testing.B) {
	const n = 1000
	tb := newTokenBench(b, n)
	b.Run("tally", func(b *testing.B) {
		tb.runOurs(b, NewExecutor(Options{}, system.NewSystemConfig(), system.NewRoles(), ledger.New()))
	})
	b.Run("tally-traced", func(b *testing.B) { // what a transaction pays once it calls a precompile
		m := New([]*exec.Contract{system.NewSystemConfig(), system.NewRoles(), ledger.New()}, Options{})
		m.traceAll = true
		tb.runOurs(b, exec.NewExecutor(m, ledger.New()))
	})
	b.Run("tally-no-precompiles", func(b *testing.B) {
		tb.runOurs(b, exec.NewExecutor(New(nil, Options{})))
	})
	b.Run("go-ethereum", func(b *testing.B) { tb.runGeth(b) })
}

func (tb *tokenBench) runOurs(b *testing.B, x *exec.Executor) {
	w := newWorld(b, Options{})
	w.x = x
	root := common.Hash{}
	runBlock := func(txs []*types.Tx, from func(int) common.Address) {
		senders := make([]common.Address, len(txs))
		for i := range txs {
			senders[i] = from(i)
		}
		blk := state.NewBlock(w.base)
		rs, err := x.ExecuteSerial(w.bc, blk, txs, senders)
		check(b, err)
		for _, r := range rs {
			if r.Status != types.StatusOK {
				b.Fatalf("status %v", r.Status)
			}
		}
		ch := blk.Changes()
		root = state.NextRoot(w.bc.Suite.Hash, root, ch)
		w.base.apply(ch)
	}
	runBlock(tb.fund, func(int) common.Address { return deployer })
	tb.measure(b, func() { runBlock(tb.block, func(i int) common.Address { return tb.holders[i] }) })
}

func (tb *tokenBench) runGeth(b *testing.B) {
	w := newWorld(b, Options{})
	ref := newReference(b, New([]*exec.Contract{system.NewSystemConfig(), system.NewRoles(), ledger.New()}, Options{}).warm)
	runBlock := func(txs []*types.Tx, from func(int) common.Address) {
		for i, tx := range txs {
			if r := ref.apply(w.bc, tx, from(i)); r.Status != types.StatusOK {
				b.Fatalf("status %v", r.Status)
			}
		}
		ref.db.IntermediateRoot(ref.rules)
	}
	runBlock(tb.fund, func(int) common.Address { return deployer })
	tb.measure(b, func() { runBlock(tb.block, func(i int) common.Address { return tb.holders[i] }) })
}

// measure runs block in the benchmark loop and reports throughput in wall
// and CPU time.
func (tb *tokenBench) measure(b *testing.B, block func()) {
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		block()
	}
	n := float64(len(tb.block) * b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "transfers/s")
	b.ReportMetric(n/(cpuTime()-cpu).Seconds(), "transfers/cpu-s")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
