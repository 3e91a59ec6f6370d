package simulation

import (
	"context"
	"math/big"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/tallyhq/tally/engine/client"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/types"
)

// Operation kinds.
const (
	opPay      = "pay"
	opTransfer = "transfer"
	opPayout   = "payout"
)

// workload generates seeded operations and sends them.
type workload struct {
	cfg    Config
	cl     *Cluster
	tr     *tracker
	rng    *rand.Rand
	zipf   *rand.Zipf
	heads  []uint64 // last known head per chain, for block limits
	refs   uint64
	chains []*Chain // this slice's user chains (chains can be added mid-run)
}

func newWorkload(cfg Config, cl *Cluster, tr *tracker) *workload {
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	return &workload{cfg: cfg, cl: cl, tr: tr, rng: rng, chains: cl.UserChains(),
		zipf: rand.NewZipf(rand.New(rand.NewPCG(cfg.Seed, 0x21bf)), cfg.ZipfS, 1, uint64(len(cl.Hot)-1))}
}

type op struct {
	chain int
	kind  string
	key   crypto.PrivateKey
	tx    *types.Tx
}

// merchant picks a hot account: HotShare to merchant 0, the rest by Zipf.
func (w *workload) merchant() HotAccount {
	if w.cfg.HotShare > 0 && w.rng.Float64() < w.cfg.HotShare {
		return w.cl.Hot[0]
	}
	return w.cl.Hot[w.zipf.Uint64()]
}

// next generates one operation.
func (w *workload) next() op {
	ci := w.rng.IntN(len(w.chains))
	u := w.chains[ci]
	user := u.Users[w.rng.IntN(len(u.Users))]
	amt := big.NewInt(int64(w.rng.IntN(1000) + 1))
	w.refs++
	ref := [32]byte{}
	big.NewInt(int64(w.refs)).FillBytes(ref[:])
	m := w.mix()
	switch m {
	case opPay:
		hot := w.merchant()
		if w.cfg.Baseline != "" {
			return w.build(ci, opPay, user, ledgerContract, "transfer", w.cfg.assetOf(), hot.Operator.Address(), amt)
		}
		return w.build(ci, opPay, user, shadowContract, "pay", hot.Address, w.cfg.assetOf(), amt, ref)
	case opTransfer:
		to := u.Users[w.rng.IntN(len(u.Users))].Address()
		return w.build(ci, opTransfer, user, ledgerContract, "transfer", w.cfg.assetOf(), to, amt)
	default:
		hot := w.merchant()
		small := big.NewInt(int64(w.rng.IntN(50) + 1))
		if w.cfg.Baseline != "" {
			return w.build(ci, opPayout, hot.Operator, ledgerContract, "transfer", w.cfg.assetOf(), user.Address(), small)
		}
		return w.build(ci, opPayout, hot.Operator, shadowContract, "payout", hot.Address, user.Address(), w.cfg.assetOf(), small, ref)
	}
}

func (c Config) assetOf() string { return "CNY" }

func (w *workload) mix() string {
	x := w.rng.Float64() * (w.cfg.Mix.Pay + w.cfg.Mix.Transfer + w.cfg.Mix.Payout)
	switch {
	case x < w.cfg.Mix.Pay:
		return opPay
	case x < w.cfg.Mix.Pay+w.cfg.Mix.Transfer:
		return opTransfer
	}
	return opPayout
}

func (w *workload) build(ci int, kind string, key crypto.PrivateKey, c *exec.Contract, method string, args ...any) op {
	data, err := c.Pack(method, args...)
	if err != nil {
		panic(err) // the workload's own arguments
	}
	to := c.Addr
	tx := types.NewTx(w.chains[ci].ID, w.heads[ci]+client.BlockLimitAhead, &to, 200_000, data)
	nonceFrom(w.rng, tx)
	return op{chain: ci, kind: kind, key: key, tx: tx}
}

// nonceFrom makes the nonce part of the seeded workload.
func nonceFrom(rng *rand.Rand, tx *types.Tx) {
	for i := 0; i < len(tx.Nonce); i += 8 {
		v := rng.Uint64()
		for j := 0; j < 8; j++ {
			tx.Nonce[i+j] = byte(v >> (8 * j))
		}
	}
}

// run offers load until ctx ends: open loop at RatePerSec in 10 ms slices,
// or closed loop keeping a bounded number of transactions outstanding.
func (w *workload) run(ctx context.Context) {
	const slice = 10 * time.Millisecond
	tick := time.NewTicker(slice)
	defer tick.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	// Sends in flight finish even when the load window closes.
	sendCtx := context.WithoutCancel(ctx)
	start, offered := time.Now(), 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n := w.sliceSize(time.Since(start), offered)
		if n == 0 {
			continue
		}
		offered += n
		w.refreshHeads(ctx)
		batches := w.generate(n)
		for ci, b := range batches {
			if len(b) > 0 {
				wg.Add(1)
				go func() { defer wg.Done(); w.send(sendCtx, ci, b) }()
			}
		}
	}
}

// closedLoopWindow bounds outstanding transactions when running at maximum.
const closedLoopWindow = 4000

// sliceSize is how many operations to offer now: open loop keeps the total
// on the rate line whatever the ticker's jitter; closed loop refills the window.
func (w *workload) sliceSize(elapsed time.Duration, offered int) int {
	if w.cfg.RatePerSec == 0 {
		return max(0, min(500, closedLoopWindow-w.tr.outstanding()))
	}
	return max(0, int(elapsed.Seconds()*float64(w.cfg.RatePerSec))-offered)
}

func (w *workload) refreshHeads(ctx context.Context) {
	w.chains = w.cl.UserChains()
	for len(w.heads) < len(w.chains) {
		w.heads = append(w.heads, 0)
	}
	for i, u := range w.chains {
		if w.heads[i] == 0 || w.rng.IntN(50) == 0 {
			if h, err := u.Client.Head(ctx); err == nil {
				w.heads[i] = h
			}
		}
	}
}

// generate makes n signed operations, grouped by chain. Signing is spread
// over the cores; the operations themselves come from the seeded generator.
func (w *workload) generate(n int) map[int][]op {
	ops := make([]op, n)
	for i := range ops {
		ops[i] = w.next()
	}
	parallelSign(ops)
	out := map[int][]op{}
	for _, o := range ops {
		out[o.chain] = append(out[o.chain], o)
	}
	return out
}

func parallelSign(ops []op) {
	var wg sync.WaitGroup
	workers := 2
	for wk := 0; wk < workers; wk++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := wk; i < len(ops); i += workers {
				if err := ops[i].tx.Sign(ops[i].key); err != nil {
					panic(err)
				}
			}
		}()
	}
	wg.Wait()
}

func (w *workload) send(ctx context.Context, ci int, ops []op) {
	u := w.chains[ci]
	raws := make([][]byte, len(ops))
	now := time.Now()
	for i, o := range ops {
		raws[i] = o.tx.Encode()
		w.tr.track(o.tx.Hash(w.cl.Suite), u.ID, o.kind, o.tx.BlockLimit, now)
	}
	res, err := u.Client.SendRaw(ctx, raws)
	if err != nil {
		for _, o := range ops {
			w.tr.refused(o.tx.Hash(w.cl.Suite))
		}
		w.tr.reject("UNAVAILABLE", len(ops))
		return
	}
	for i, r := range res {
		if r.Code != 0 {
			w.tr.refused(ops[i].tx.Hash(w.cl.Suite))
			w.tr.reject(r.Code.String(), 1)
		}
	}
}
