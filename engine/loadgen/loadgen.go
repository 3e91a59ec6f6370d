// Package loadgen drives a chain with pre-signed Ledger transfers over gRPC
// and measures what a client sees: admitted and committed transactions per
// second, and the latency from send to commit (taken from the committed-block
// stream). Signing happens before the clock starts, so the generator does not
// steal the cores it is measuring; only a transaction whose block limit the
// chain will soon reach (a long run, or a chain making many small blocks) is
// signed again, with a fresh limit, just before it is sent.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/api/pb"
	"github.com/tallyhq/tally/engine/client"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/types"
)

// Config is one load run.
type Config struct {
	// Txs is how many transfers to send.
	Txs int
	// Accounts is how many funded senders to spread the load over.
	Accounts int
	// RatePerSec is the open-loop send rate; 0 sends as fast as the node admits.
	RatePerSec int
	// Batch is transactions per SendTransactions call.
	Batch int
	// Workers is concurrent senders in closed-loop mode.
	Workers int
	// Asset is the asset transferred.
	Asset string
	// Seed makes the account choice reproducible.
	Seed uint64
}

// DefaultConfig sends 100k transfers at full speed.
func DefaultConfig() Config {
	return Config{Txs: 100_000, Accounts: 1000, Batch: 500, Workers: 4, Asset: "CNY", Seed: 1}
}

// Validate checks the config.
func (c Config) Validate() error {
	if c.Txs < 1 || c.Accounts < 2 || c.Batch < 1 || c.Workers < 1 || c.RatePerSec < 0 {
		return errors.New("loadgen: txs>=1, accounts>=2, batch>=1, workers>=1 and rate>=0 are required")
	}
	return nil
}

// Result is what a run measured.
type Result struct {
	Sent, Admitted, Committed int
	Rejected                  map[string]int
	// Checked receipts were fetched after the run; Failed of them were not OK.
	Checked, Failed int
	Duration        time.Duration
	TPS             float64
	LatencyP50      time.Duration
	LatencyP95      time.Duration
	LatencyP99      time.Duration
	LatencyMax      time.Duration
	Blocks          int
	// Resigned transactions were signed again before sending: the chain had
	// come within half their signing distance of their block limit.
	Resigned int
}

func (r *Result) String() string {
	return fmt.Sprintf("sent %d, admitted %d, committed %d (failed %d of %d checked) in %d blocks over %s: %.0f tx/s; latency p50 %s p95 %s p99 %s max %s; rejected %v",
		r.Sent, r.Admitted, r.Committed, r.Failed, r.Checked, r.Blocks, r.Duration.Round(time.Millisecond), r.TPS,
		r.LatencyP50.Round(time.Millisecond), r.LatencyP95.Round(time.Millisecond), r.LatencyP99.Round(time.Millisecond),
		r.LatencyMax.Round(time.Millisecond), r.Rejected) + r.resignedNote()
}

func (r *Result) resignedNote() string {
	if r.Resigned == 0 {
		return ""
	}
	return fmt.Sprintf("; %d signed again near their block limit", r.Resigned)
}

// Runner holds a prepared load.
type Runner struct {
	cfg     Config
	c       *client.Client
	suite   crypto.Suite
	chainID string
	keys    []crypto.PrivateKey
	jobs    []job // transfer i goes from keys[jobs[i].from] to keys[jobs[i].to]
	txs     [][]byte
	hash    []common.Hash
	limits  []uint64 // transfer i's block limit
	ahead   uint64   // how far past the head block limits are set
}

// job is one transfer's sender and receiver, by key index.
type job struct{ from, to int }

// maxAhead is how far past the head a transfer's block limit is set on a
// chain of the default window (600): far enough to last, and as the head the
// generator knows can only be behind the chain's, never too far.
const maxAhead = client.BlockLimitAhead + 50

// aheadFor is how far past the head to sign on a chain of tx_window window.
func aheadFor(window uint64) uint64 { return max(1, min(maxAhead, window)) }

// margin is how many blocks of validity a transfer must have left when it
// is sent; one with fewer is signed again with a fresh block limit. Under
// load a transaction may wait in the pool for a while: with less margin it
// could still expire there.
func (r *Runner) margin() uint64 { return r.ahead / 2 }

// Prepare makes cfg.Accounts keys, funds each from issuer (which must hold
// ISSUER), and pre-signs cfg.Txs transfers among them.
func Prepare(ctx context.Context, c *client.Client, chainID string, issuer crypto.PrivateKey, cfg Config) (*Runner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	window, err := c.TxWindow(ctx)
	if err != nil {
		return nil, err
	}
	r := &Runner{cfg: cfg, c: c, suite: issuer.Suite(), chainID: chainID, ahead: aheadFor(window)}
	for i := 0; i < cfg.Accounts; i++ {
		k, err := r.suite.GenerateKey()
		if err != nil {
			return nil, err
		}
		r.keys = append(r.keys, k)
	}
	if err := r.fund(ctx, chainID, issuer); err != nil {
		return nil, fmt.Errorf("fund accounts: %w", err)
	}
	head, err := c.Head(ctx)
	if err != nil {
		return nil, err
	}
	return r, r.sign(head)
}

// fund issues enough to every account for all its transfers.
func (r *Runner) fund(ctx context.Context, chainID string, issuer crypto.PrivateKey) error {
	head, err := r.c.Head(ctx)
	if err != nil {
		return err
	}
	per := big.NewInt(int64(r.cfg.Txs/r.cfg.Accounts+1) * 100)
	raws := make([][]byte, len(r.keys))
	hashes := make([]common.Hash, len(r.keys))
	for i, k := range r.keys {
		data, _ := ledger.New().Pack("issue", r.cfg.Asset, k.Address(), per)
		to := ledger.Address
		tx := types.NewTx(chainID, head+r.ahead, &to, client.DefaultGas, data)
		if err := tx.Sign(issuer); err != nil {
			return err
		}
		raws[i], hashes[i] = tx.Encode(), tx.Hash(r.suite)
	}
	if err := r.sendAll(ctx, raws); err != nil {
		return err
	}
	for _, h := range hashes {
		rc, err := r.c.WaitReceipt(ctx, h, time.Minute)
		if err != nil {
			return err
		}
		if rc.Status != 0 {
			return fmt.Errorf("issue failed: %s %s (does the key hold ISSUER?)", rc.StatusText, rc.RevertReason)
		}
	}
	return nil
}

func (r *Runner) sendAll(ctx context.Context, raws [][]byte) error {
	for i := 0; i < len(raws); i += r.cfg.Batch {
		res, err := r.c.SendRaw(ctx, raws[i:min(i+r.cfg.Batch, len(raws))])
		if err != nil {
			return err
		}
		for _, x := range res {
			if x.Code != pb.ErrorCode_OK {
				return fmt.Errorf("%s: %s", x.Code, x.Message)
			}
		}
	}
	return nil
}

// sign pre-signs the transfers on all cores, with block limits past head.
func (r *Runner) sign(head uint64) error {
	rng := rand.New(rand.NewPCG(r.cfg.Seed, 7))
	r.jobs = make([]job, r.cfg.Txs)
	for i := range r.jobs {
		f := i % len(r.keys)
		t := rng.IntN(len(r.keys) - 1)
		if t >= f {
			t++
		}
		r.jobs[i] = job{f, t}
	}
	r.txs, r.hash, r.limits = make([][]byte, len(r.jobs)), make([]common.Hash, len(r.jobs)), make([]uint64, len(r.jobs))
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(r.jobs); i += workers {
				if err := r.signOne(i, head+r.ahead); err != nil {
					errs[w] = err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	return errors.Join(errs...)
}

// signOne signs transfer i with block limit limit.
func (r *Runner) signOne(i int, limit uint64) error {
	j := r.jobs[i]
	data, err := ledger.New().Pack("transfer", r.cfg.Asset, r.keys[j.to].Address(), big.NewInt(1))
	if err != nil {
		return err
	}
	to := ledger.Address
	tx := types.NewTx(r.chainID, limit, &to, 60_000, data)
	if err := tx.Sign(r.keys[j.from]); err != nil {
		return err
	}
	r.txs[i], r.hash[i], r.limits[i] = tx.Encode(), tx.Hash(r.suite), limit
	return nil
}

// refresh signs again, with a fresh block limit, every transfer in
// [from, to) that has fewer than margin() blocks of validity left at
// head, and tells the tracker their new hashes. It returns how many it
// signed again. Ranges handed to concurrent calls must not overlap.
func (r *Runner) refresh(from, to int, head uint64, t *tracker) (int, error) {
	n := 0
	for i := from; i < to; i++ {
		if r.limits[i] >= head+r.margin() {
			continue
		}
		old := r.hash[i]
		if err := r.signOne(i, head+r.ahead); err != nil {
			return n, err
		}
		t.rehash(i, old, r.hash[i])
		n++
	}
	return n, nil
}

// Run sends the prepared load and waits for every admitted transaction to commit.
func (r *Runner) Run(ctx context.Context, progress func(sent, committed int)) (*Result, error) {
	head, err := r.c.Head(ctx)
	if err != nil {
		return nil, err
	}
	tr := newTracker(r.hash, head)
	subCtx, stop := context.WithCancel(ctx)
	defer stop()
	subErr := make(chan error, 1)
	go func() { subErr <- r.follow(subCtx, head+1, tr) }()
	start := time.Now()
	res := &Result{Rejected: make(map[string]int)}
	if err := r.send(ctx, tr, res, progress); err != nil {
		return nil, err
	}
	if err := tr.wait(ctx, res.Admitted, subErr, progress); err != nil {
		return nil, err
	}
	tr.summarize(res, start)
	return res, r.check(ctx, res)
}

// check fetches a spread of receipts: a load of failing transfers would
// measure nothing.
func (r *Runner) check(ctx context.Context, res *Result) error {
	step := max(1, len(r.hash)/200)
	for i := 0; i < len(r.hash); i += step {
		rc, err := r.c.RPC().GetReceipt(ctx, &pb.GetByHashRequest{ChainId: r.c.ChainID(), Hash: r.hash[i].Hex()})
		if err != nil {
			continue // not admitted
		}
		res.Checked++
		if rc.Status != 0 {
			res.Failed++
		}
	}
	return nil
}
