package txpool_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/txpool"
	"github.com/tallyhq/tally/engine/types"
)

const testChain = "pool-test"

// fakeChain is what the pool asks of a chain: a head it can move and a set
// of committed nonces, with the real static checks.
type fakeChain struct {
	suite crypto.Suite
	head  atomic.Uint64
	cfg   system.Config
	mu    sync.Mutex
	used  map[common.Hash]bool
}

type noState struct{}

func (noState) Get([]byte) []byte { return nil }

func newFakeChain(s crypto.Suite) *fakeChain {
	cfg := system.ReadConfig(noState{}) // the defaults
	return &fakeChain{suite: s, cfg: cfg, used: make(map[common.Hash]bool)}
}

func (c *fakeChain) ID() string          { return testChain }
func (c *fakeChain) Suite() crypto.Suite { return c.suite }
func (c *fakeChain) Head() *types.Header {
	return &types.Header{ChainID: testChain, Height: c.head.Load()}
}
func (c *fakeChain) Config() system.Config { return c.cfg }
func (c *fakeChain) CheckTx(tx *types.Tx, head uint64, cfg system.Config) error {
	if err := chain.CheckTxStatic(testChain, tx, cfg); err != nil {
		return err
	}
	if err := chain.CheckBlockLimit(tx.BlockLimit, head, cfg.TxWindow); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.used[tx.Nonce] {
		return chain.ErrNonceUsed
	}
	return nil
}

// signer makes signed transactions deterministically from a seed.
type signer struct {
	t    testing.TB
	rng  *rand.Rand
	keys []crypto.PrivateKey
	c    *fakeChain
}

func newSigner(t testing.TB, c *fakeChain, seed uint64) *signer {
	sg := &signer{t: t, rng: rand.New(rand.NewPCG(seed, 7)), c: c}
	for i := range 4 {
		b := make([]byte, 32)
		b[0], b[31] = 0x22, byte(i+1)
		k, err := c.suite.PrivateKeyFromBytes(b)
		if err != nil {
			t.Fatal(err)
		}
		sg.keys = append(sg.keys, k)
	}
	return sg
}

// tx signs a transaction valid at the chain's current head; dataLen varies its size.
func (sg *signer) tx(dataLen int, edit func(*types.Tx)) *types.Tx {
	to := common.HexToAddress("0x5001")
	head := sg.c.head.Load()
	tx := &types.Tx{ChainID: testChain, BlockLimit: head + 1 + sg.rng.Uint64N(sg.c.cfg.TxWindow), To: &to, Gas: 100_000, Data: make([]byte, dataLen)}
	for i := range tx.Nonce {
		tx.Nonce[i] = byte(sg.rng.Uint32())
	}
	for i := range tx.Data {
		tx.Data[i] = byte(sg.rng.Uint32())
	}
	if edit != nil {
		edit(tx)
	}
	if err := tx.Sign(sg.keys[sg.rng.IntN(len(sg.keys))]); err != nil {
		sg.t.Fatal(err)
	}
	return tx
}

func encodeAll(txs []*types.Tx) [][]byte {
	out := make([][]byte, len(txs))
	for i, tx := range txs {
		out[i] = tx.Encode()
	}
	return out
}

func hashes(s crypto.Suite, txs []*types.Tx) []common.Hash {
	out := make([]common.Hash, len(txs))
	for i, tx := range txs {
		out[i] = tx.Hash(s)
	}
	return out
}

func wantErrs(t *testing.T, res []txpool.Result, want ...error) {
	t.Helper()
	if len(res) != len(want) {
		t.Fatalf("%d results, want %d", len(res), len(want))
	}
	for i, r := range res {
		if !errors.Is(r.Err, want[i]) || (want[i] == nil) != (r.Err == nil) {
			t.Errorf("result %d: %v, want %v", i, r.Err, want[i])
		}
	}
}

func TestBoundedByCount(t *testing.T) {
	c := newFakeChain(crypto.Secp256k1())
	sg := newSigner(t, c, 1)
	p := txpool.New(c, txpool.Config{MaxTxs: 3, MaxBytes: 1 << 20})
	txs := []*types.Tx{sg.tx(10, nil), sg.tx(10, nil), sg.tx(10, nil), sg.tx(10, nil), sg.tx(10, nil)}
	wantErrs(t, p.AddRaw(encodeAll(txs)), nil, nil, nil, txpool.ErrFull, txpool.ErrFull)
	for range 3 { // knocking again changes nothing
		wantErrs(t, p.AddRaw(encodeAll(txs[3:])), txpool.ErrFull, txpool.ErrFull)
	}
	if p.Len() != 3 || !slices.Equal(hashes(c.suite, p.Pending(10)), hashes(c.suite, txs[:3])) {
		t.Fatalf("pool holds %d: %v", p.Len(), p.Pending(10))
	}
	p.Remove(txs[1:2])
	wantErrs(t, p.AddRaw(encodeAll(txs[3:])), nil, txpool.ErrFull)
	if p.Len() != 3 {
		t.Fatalf("pool holds %d, bound 3", p.Len())
	}
}

func TestBoundedByBytes(t *testing.T) {
	c := newFakeChain(crypto.Secp256k1())
	sg := newSigner(t, c, 2)
	small1, big, small2 := sg.tx(100, nil), sg.tx(1000, nil), sg.tx(100, nil)
	max := small1.Size() + big.Size() + 10
	p := txpool.New(c, txpool.Config{MaxTxs: 1000, MaxBytes: max})
	// The small ones would fit by count; the bytes are what is full.
	wantErrs(t, p.AddRaw(encodeAll([]*types.Tx{small1, big, small2})), nil, nil, txpool.ErrFull)
	if p.Len() != 2 {
		t.Fatalf("pool holds %d", p.Len())
	}
	empty := txpool.New(c, txpool.Config{MaxTxs: 1000, MaxBytes: small1.Size() - 1})
	wantErrs(t, empty.AddRaw(encodeAll([]*types.Tx{small1})), txpool.ErrFull)
	if empty.Len() != 0 {
		t.Fatal("an empty pool took a transaction larger than its byte bound")
	}
	// Bytes are given back on Remove and on Evict.
	p.Remove([]*types.Tx{small1})
	wantErrs(t, p.AddRaw(encodeAll([]*types.Tx{small2})), nil)
	c.head.Store(1 << 40)
	if n := p.Evict(c.head.Load()); n != 2 || p.Len() != 0 {
		t.Fatalf("evicted %d, %d left; want 2, 0", n, p.Len())
	}
	var later []*types.Tx
	var want []error
	sum := 0
	for range 12 {
		tx := sg.tx(100, nil)
		later = append(later, tx)
		if sum+tx.Size() <= max {
			sum += tx.Size()
			want = append(want, nil)
		} else {
			want = append(want, txpool.ErrFull)
		}
	}
	if want[len(want)-1] == nil {
		t.Fatal("test too small to fill the pool")
	}
	wantErrs(t, p.AddRaw(encodeAll(later)), want...)
}

func TestFIFO(t *testing.T) {
	c := newFakeChain(crypto.SM())
	sg := newSigner(t, c, 3)
	p := txpool.New(c, txpool.DefaultConfig())
	var all []*types.Tx
	for batch := range 5 {
		txs := make([]*types.Tx, batch+1)
		for i := range txs {
			txs[i] = sg.tx(sg.rng.IntN(50), nil)
		}
		wantErrs(t, p.AddRaw(encodeAll(txs)), make([]error, len(txs))...)
		all = append(all, txs...)
	}
	if got := hashes(c.suite, p.Pending(len(all))); !slices.Equal(got, hashes(c.suite, all)) {
		t.Fatal("Pending is not arrival order")
	}
	if got := hashes(c.suite, p.Pending(4)); !slices.Equal(got, hashes(c.suite, all[:4])) {
		t.Fatal("Pending(4) is not the first four")
	}
	// Removing from the middle keeps the others' order; a removed
	// transaction that comes back goes to the end.
	p.Remove([]*types.Tx{all[0], all[5], all[9]})
	rest := slices.Concat(all[1:5], all[6:9], all[10:])
	if got := hashes(c.suite, p.Pending(100)); !slices.Equal(got, hashes(c.suite, rest)) {
		t.Fatal("order broken by Remove")
	}
	wantErrs(t, p.AddRaw(encodeAll(all[5:6])), nil)
	if got := hashes(c.suite, p.Pending(100)); !slices.Equal(got, hashes(c.suite, append(rest, all[5]))) {
		t.Fatal("a returning transaction did not go to the end")
	}
	if len(p.Pending(0)) != 0 {
		t.Fatal("Pending(0) returned transactions")
	}
}

func TestDuplicates(t *testing.T) {
	c := newFakeChain(crypto.Secp256k1())
	sg := newSigner(t, c, 4)
	p := txpool.New(c, txpool.DefaultConfig())
	a := sg.tx(10, nil)
	sameNonce := sg.tx(11, func(tx *types.Tx) { tx.Nonce = a.Nonce })
	wantErrs(t, p.AddRaw(encodeAll([]*types.Tx{a, a})), nil, txpool.ErrKnown) // twice in one batch
	wantErrs(t, p.AddRaw(encodeAll([]*types.Tx{a})), txpool.ErrKnown)
	wantErrs(t, p.AddRaw(encodeAll([]*types.Tx{sameNonce})), txpool.ErrNonceInUse)
	b := sg.tx(10, nil)
	bTwin := sg.tx(12, func(tx *types.Tx) { tx.Nonce = b.Nonce })
	wantErrs(t, p.AddRaw(encodeAll([]*types.Tx{b, bTwin})), nil, txpool.ErrNonceInUse) // nonce twins in one batch
	if p.Len() != 2 {
		t.Fatalf("pool holds %d, want 2", p.Len())
	}
	// Once a leaves, its nonce is free in the pool; once committed, it is not.
	p.Remove([]*types.Tx{a})
	wantErrs(t, p.AddRaw(encodeAll([]*types.Tx{sameNonce})), nil)
	c.mu.Lock()
	c.used[b.Nonce] = true
	c.mu.Unlock()
	p.Remove([]*types.Tx{b})
	wantErrs(t, p.AddRaw(encodeAll([]*types.Tx{b, bTwin})), chain.ErrNonceUsed, chain.ErrNonceUsed)
	// A bad signature and malformed bytes are refused before any slot is taken.
	bad := sg.tx(10, nil)
	bad.Sig[64] = 5
	res := p.AddRaw([][]byte{bad.Encode(), {1, 2, 3}})
	wantErrs(t, res, types.ErrBadSignature, types.ErrMalformed)
	if p.Len() != 1 {
		t.Fatalf("pool holds %d, want 1", p.Len())
	}
}

func TestWaitSignalsArrivals(t *testing.T) {
	c := newFakeChain(crypto.Secp256k1())
	sg := newSigner(t, c, 5)
	p := txpool.New(c, txpool.DefaultConfig())
	w := p.Wait()
	p.AddRaw([][]byte{{0xc0}})
	select {
	case <-w:
		t.Fatal("woken by a refused transaction")
	default:
	}
	p.AddRaw(encodeAll([]*types.Tx{sg.tx(1, nil)}))
	select {
	case <-w:
	default:
		t.Fatal("not woken by an admitted transaction")
	}
}

// poolModel is the pool's specification: a FIFO list bounded in count and bytes.
type poolModel struct {
	order    []common.Hash
	txs      map[common.Hash]*types.Tx
	nonces   map[common.Hash]common.Hash
	bytes    int
	maxTxs   int
	maxBytes int
}

func (m *poolModel) add(s crypto.Suite, tx *types.Tx) error {
	h := tx.Hash(s)
	switch {
	case m.txs[h] != nil:
		return txpool.ErrKnown
	case m.nonces[tx.Nonce] != (common.Hash{}):
		return txpool.ErrNonceInUse
	case len(m.order) >= m.maxTxs || m.bytes+tx.Size() > m.maxBytes:
		return txpool.ErrFull
	}
	m.order = append(m.order, h)
	m.txs[h], m.nonces[tx.Nonce] = tx, h
	m.bytes += tx.Size()
	return nil
}

func (m *poolModel) remove(h common.Hash) {
	tx := m.txs[h]
	if tx == nil {
		return
	}
	delete(m.txs, h)
	delete(m.nonces, tx.Nonce)
	m.bytes -= tx.Size()
	m.order = slices.DeleteFunc(m.order, func(x common.Hash) bool { return x == h })
}

// TestRandomOpsMatchModel drives the pool with a seeded random mix of adds
// (new, repeated, nonce twins), removes (known and unknown), evictions and
// head moves, and compares every answer and Pending with the model. The
// run is long enough to go through many compactions of the queue.
func TestRandomOpsMatchModel(t *testing.T) {
	steps := 2400
	if testing.Short() {
		steps = 1200
	}
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			c := newFakeChain(crypto.Secp256k1())
			c.cfg.TxWindow = 400
			sg := newSigner(t, c, seed)
			rng := rand.New(rand.NewPCG(seed, 99))
			cfg := txpool.Config{MaxTxs: 510, MaxBytes: 590 * 175} // both bounds bind at times
			p := txpool.New(c, cfg)
			m := &poolModel{txs: map[common.Hash]*types.Tx{}, nonces: map[common.Hash]common.Hash{}, maxTxs: cfg.MaxTxs, maxBytes: cfg.MaxBytes}
			s := c.suite
			// A long-lived transaction at the front: holes pile up behind it
			// until the queue compacts.
			pinned := sg.tx(10, func(tx *types.Tx) { tx.BlockLimit = c.cfg.TxWindow })
			wantErrs(t, p.AddRaw(encodeAll([]*types.Tx{pinned})), nil)
			m.add(c.suite, pinned)
			seen := []*types.Tx{pinned} // every transaction made, for repeats
			pick := func() *types.Tx { return seen[rng.IntN(len(seen))] }
			removed, evicted, full, peak := 0, 0, 0, 0
			for step := range steps {
				// Three phases: fill towards the bounds, churn (holes pile
				// up behind a live front, forcing compactions), then drain.
				addPct := 45
				switch {
				case step < steps/3:
					addPct = 60
				case step > 2*steps/3:
					addPct = 30
				}
				switch op := rng.IntN(100); {
				case op < addPct || len(seen) == 0: // a batch of new transactions, some with the nonce of an earlier one
					n := 1 + rng.IntN(12)
					batch := make([]*types.Tx, n)
					for i := range batch {
						if len(seen) > 0 && rng.IntN(10) == 0 {
							twin := pick()
							batch[i] = sg.tx(rng.IntN(120), func(tx *types.Tx) { tx.Nonce = twin.Nonce })
						} else {
							batch[i] = sg.tx(rng.IntN(120), nil)
						}
					}
					if rng.IntN(4) == 0 && len(seen) > 0 { // and a repeat
						batch = append(batch, pick())
					}
					res := p.AddRaw(encodeAll(batch))
					for i, tx := range batch {
						if tx.BlockLimit <= c.head.Load() { // a repeat that expired: refused before the pool looks
							if !errors.Is(res[i].Err, chain.ErrBlockLimitExpired) {
								t.Fatalf("step %d: expired repeat admitted: %v", step, res[i].Err)
							}
							continue
						}
						want := m.add(s, tx)
						if errors.Is(want, txpool.ErrFull) {
							full++
						}
						if !errors.Is(res[i].Err, want) || (want == nil) != (res[i].Err == nil) {
							t.Fatalf("step %d: add tx %d: pool says %v, model %v", step, i, res[i].Err, want)
						}
						if res[i].Hash != tx.Hash(s) {
							t.Fatalf("step %d: result hash %x", step, res[i].Hash)
						}
					}
					seen = append(seen, batch...)
				case op < addPct+40: // remove a random handful, some unknown, some from the front
					var rm []*types.Tx
					for range 1 + rng.IntN(16) {
						switch k := rng.IntN(10); {
						case k < 2 && len(m.order) > 0:
							rm = append(rm, m.txs[m.order[rng.IntN(min(len(m.order), 8))]])
						case k < 9 && len(m.order) > 0:
							rm = append(rm, m.txs[m.order[rng.IntN(len(m.order))]])
						default:
							rm = append(rm, pick())
						}
					}
					rm = slices.DeleteFunc(rm, func(tx *types.Tx) bool { return tx == pinned && step < steps-100 })
					p.Remove(rm)
					for _, tx := range rm {
						if m.txs[tx.Hash(s)] != nil {
							removed++
						}
						m.remove(tx.Hash(s))
					}
				case op < addPct+43: // the head moves and expired transactions are evicted
					c.head.Add(uint64(1 + rng.IntN(5)))
					head := c.head.Load()
					want := 0
					for _, h := range slices.Clone(m.order) {
						if m.txs[h].BlockLimit <= head {
							m.remove(h)
							want++
						}
					}
					if got := p.Evict(head); got != want {
						t.Fatalf("step %d: evicted %d, model %d", step, got, want)
					}
					evicted += want
				default: // look
					max := rng.IntN(len(m.order) + 3)
					got := hashes(s, p.Pending(max))
					if want := m.order[:min(max, len(m.order))]; !slices.Equal(got, want) {
						t.Fatalf("step %d: Pending(%d) differs from the model (%d vs %d)", step, max, len(got), len(want))
					}
				}
				peak = max(peak, len(m.order))
				if p.Len() != len(m.order) {
					t.Fatalf("step %d: Len %d, model %d", step, p.Len(), len(m.order))
				}
				if len(seen) > 0 {
					tx := pick()
					if p.Has(tx.Hash(s)) != (m.txs[tx.Hash(s)] != nil) {
						t.Fatalf("step %d: Has disagrees with the model", step)
					}
				}
			}
			if got := hashes(s, p.Pending(cfg.MaxTxs)); !slices.Equal(got, m.order) {
				t.Fatal("final contents differ from the model")
			}
			if removed < 3000 && !testing.Short() {
				t.Fatalf("only %d removals: the queue was not compacted much", removed)
			}
			if full == 0 && !testing.Short() {
				t.Fatal("the pool was never full")
			}
			t.Logf("%d steps: %d seen, %d removed, %d evicted, %d refused as full, peak %d, %d left",
				steps, len(seen), removed, evicted, full, peak, len(m.order))
		})
	}
}

// TestConcurrentAddRaw has many goroutines add overlapping batches to a
// small pool while others read and remove. Every transaction is admitted at
// most once, the bounds hold, and the indexes agree at the end. Run it
// under -race.
func TestConcurrentAddRaw(t *testing.T) {
	c := newFakeChain(crypto.Secp256k1())
	sg := newSigner(t, c, 6)
	var txs []*types.Tx
	for range 600 {
		txs = append(txs, sg.tx(sg.rng.IntN(60), nil))
	}
	raws := encodeAll(txs)
	cfg := txpool.Config{MaxTxs: 400, MaxBytes: 400 * 170}
	p := txpool.New(c, cfg)
	const writers = 8
	admitted := make([]atomic.Int32, len(txs))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			order := rng.Perm(len(raws))
			for start := 0; start < len(order); start += 25 {
				var batch [][]byte
				var ids []int
				for _, i := range order[start:min(start+25, len(order))] {
					batch, ids = append(batch, raws[i]), append(ids, i)
				}
				for k, r := range p.AddRaw(batch) {
					if r.Err == nil {
						admitted[ids[k]].Add(1)
					} else if !errors.Is(r.Err, txpool.ErrKnown) && !errors.Is(r.Err, txpool.ErrFull) {
						t.Errorf("unexpected refusal: %v", r.Err)
					}
				}
			}
		}()
	}
	var removedMu sync.Mutex
	removed := map[common.Hash]bool{}
	var readers sync.WaitGroup
	readers.Add(1)
	go func() { // reads and removes while the writers run
		defer readers.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			pend := p.Pending(20)
			for _, tx := range pend {
				p.Has(tx.Hash(c.suite))
			}
			if n := p.Len(); n > cfg.MaxTxs {
				t.Errorf("pool holds %d, bound %d", n, cfg.MaxTxs)
			}
			if len(pend) > 0 {
				p.Remove(pend[:1])
				removedMu.Lock()
				removed[pend[0].Hash(c.suite)] = true
				removedMu.Unlock()
			}
			select {
			case <-p.Wait():
			case <-stop:
				return
			}
		}
	}()
	wg.Wait()
	close(stop)
	readers.Wait()

	pend := p.Pending(len(txs) + 1)
	if len(pend) != p.Len() || p.Len() > cfg.MaxTxs {
		t.Fatalf("Pending has %d, Len %d, bound %d", len(pend), p.Len(), cfg.MaxTxs)
	}
	bytes, inPool := 0, map[common.Hash]bool{}
	for _, tx := range pend {
		h := tx.Hash(c.suite)
		if inPool[h] || !p.Has(h) {
			t.Fatalf("tx %x listed twice or not indexed", h[:4])
		}
		inPool[h] = true
		bytes += tx.Size()
	}
	if bytes > cfg.MaxBytes {
		t.Fatalf("pool holds %d bytes, bound %d", bytes, cfg.MaxBytes)
	}
	for i := range admitted {
		h, got := txs[i].Hash(c.suite), admitted[i].Load()
		// A transaction taken out by the reader may be admitted again.
		if got > 1 && !removed[h] {
			t.Fatalf("tx %d admitted %d times", i, got)
		}
		if inPool[h] && got == 0 {
			t.Fatalf("tx %d is in the pool but no writer was told it was admitted", i)
		}
	}
}

// TestRegossip: what clients submitted here is gossiped again once it has
// waited a period since its last gossip, and not before; never what came
// from peers, nor what has left the pool; -1 turns it off; a round sends
// at most RegossipBatch.
func TestRegossip(t *testing.T) {
	c := newFakeChain(crypto.Secp256k1())
	sg := newSigner(t, c, 9)
	s := c.suite
	p := txpool.New(c, txpool.Config{MaxTxs: 10_000, MaxBytes: 64 << 20, RegossipMs: 500})
	var sent [][]common.Hash
	p.SetGossip(func(txs []*types.Tx) { sent = append(sent, hashes(s, txs)) })

	local := []*types.Tx{sg.tx(10, nil), sg.tx(10, nil), sg.tx(10, nil)}
	remote := []*types.Tx{sg.tx(10, nil)}
	t0 := time.Now()
	wantErrs(t, p.AddRaw(encodeAll(local)), nil, nil, nil)
	wantErrs(t, p.AddRemote(encodeAll(remote)), nil)
	wantErrs(t, p.AddRaw(encodeAll(local[:1])), txpool.ErrKnown) // a client's resend is not local twice
	if len(sent) != 1 || len(sent[0]) != 3 {
		t.Fatalf("admission gossiped %v, want the 3 local transactions once", sent)
	}
	sent = nil
	if n := p.Regossip(t0); n != 0 || sent != nil {
		t.Fatalf("re-gossiped %d at once", n)
	}
	p.Remove(local[1:2]) // committed
	later := t0.Add(600 * time.Millisecond)
	if n := p.Regossip(later); n != 2 {
		t.Fatalf("re-gossiped %d after a period, want the 2 local ones still pending", n)
	}
	want := hashes(s, []*types.Tx{local[0], local[2]})
	slices.SortFunc(want, func(a, b common.Hash) int { return a.Cmp(b) })
	got := slices.Clone(sent[0])
	slices.SortFunc(got, func(a, b common.Hash) int { return a.Cmp(b) })
	if !slices.Equal(got, want) {
		t.Fatalf("re-gossiped %v, want %v", got, want)
	}
	if n := p.Regossip(later.Add(400 * time.Millisecond)); n != 0 {
		t.Fatalf("re-gossiped %d before a period since the last gossip", n)
	}
	if n := p.Regossip(later.Add(500 * time.Millisecond)); n != 2 {
		t.Fatalf("re-gossiped %d a period after the last gossip, want 2", n)
	}
	c.head.Store(local[0].BlockLimit + local[2].BlockLimit) // both expire
	p.Evict(c.head.Load())
	if n := p.Regossip(later.Add(time.Hour)); n != 0 {
		t.Fatalf("re-gossiped %d evicted transactions", n)
	}

	// Off.
	off := txpool.New(c, txpool.Config{MaxTxs: 10, MaxBytes: 1 << 20, RegossipMs: -1})
	off.SetGossip(func([]*types.Tx) {})
	c.head.Store(0)
	wantErrs(t, off.AddRaw(encodeAll([]*types.Tx{sg.tx(10, nil)})), nil)
	if n := off.Regossip(time.Now().Add(time.Hour)); n != 0 {
		t.Fatalf("re-gossip off sent %d", n)
	}

	// A round is bounded.
	big := txpool.New(c, txpool.Config{MaxTxs: 10_000, MaxBytes: 64 << 20})
	big.SetGossip(func([]*types.Tx) {})
	many := make([]*types.Tx, txpool.RegossipBatch+10)
	for i := range many {
		many[i] = sg.tx(1, nil)
	}
	for _, r := range big.AddRaw(encodeAll(many)) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	at := time.Now().Add(txpool.DefaultRegossip)
	if a, b := big.Regossip(at), big.Regossip(at); a != txpool.RegossipBatch || b != 10 {
		t.Fatalf("rounds sent %d and %d, want %d and 10", a, b, txpool.RegossipBatch)
	}
}

func TestRegossipConfig(t *testing.T) {
	for _, ms := range []int{-2, 600_001} {
		if err := (txpool.Config{MaxTxs: 1, MaxBytes: 1, RegossipMs: ms}).Validate(); err == nil {
			t.Errorf("regossip_ms %d accepted", ms)
		}
	}
	if d := (txpool.Config{}).Regossip(); d != txpool.DefaultRegossip {
		t.Errorf("default period %v", d)
	}
	if d := (txpool.Config{RegossipMs: -1}).Regossip(); d != 0 {
		t.Errorf("off gives %v", d)
	}
}
