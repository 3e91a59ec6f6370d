package txpool_test

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/txpool"
)

const benchTxs = 4096

// benchRaws pre-signs benchTxs transfers per suite, once per process.
var benchRaws = struct {
	sync.Mutex
	m map[string][][]byte
}{m: map[string][][]byte{}}

func signedRaws(b *testing.B, c *fakeChain) [][]byte {
	benchRaws.Lock()
	defer benchRaws.Unlock()
	if r, ok := benchRaws.m[c.suite.Name()]; ok {
		return r
	}
	sg := newSigner(b, c, 42)
	raws := make([][]byte, benchTxs)
	for i := range raws {
		raws[i] = sg.tx(100, nil).Encode() // about the size of a Ledger transfer
	}
	benchRaws.m[c.suite.Name()] = raws
	return raws
}

// BenchmarkAddRawParallelVerify admits pre-signed transactions in batches
// of 512, as SendTransactions does: decode, check, verify the signatures
// on all cores, admit. One op is one admitted transaction. cores=1 runs the
// same work on one core, for the ratio.
func BenchmarkAddRawParallelVerify(b *testing.B) {
	for _, s := range []crypto.Suite{crypto.Secp256k1(), crypto.SM()} {
		for _, cores := range []int{1, runtime.NumCPU()} {
			b.Run(fmt.Sprintf("%s/cores=%d", s.Name(), cores), func(b *testing.B) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(cores))
				c := newFakeChain(s)
				raws := signedRaws(b, c)
				const batch = 512
				pool, next := txpool.New(c, txpool.DefaultConfig()), 0
				b.ReportAllocs()
				b.ResetTimer()
				for done := 0; done < b.N; {
					if next == len(raws) { // every transaction is in: a fresh pool
						b.StopTimer()
						pool, next = txpool.New(c, txpool.DefaultConfig()), 0
						b.StartTimer()
					}
					n := min(batch, len(raws)-next, b.N-done)
					for _, r := range pool.AddRaw(raws[next : next+n]) {
						if r.Err != nil {
							b.Fatal(r.Err)
						}
					}
					next, done = next+n, done+n
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
			})
		}
	}
}
