package simulation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tallyhq/tally/engine/api/pb"
	"github.com/tallyhq/tally/engine/storage"
	"github.com/tallyhq/tally/relay"
)

// ResultSchema names the JSON report's version.
const ResultSchema = "tally.sim/v1"

// sim is one run in progress.
type sim struct {
	cfg      Config
	cl       *Cluster
	tr       *tracker
	relayDir string
	log      *slog.Logger

	mu          sync.Mutex
	relayCancel context.CancelFunc
	relayDone   chan error
	faults      []FaultRecord
	started     time.Time
	followCtx   context.Context
}

// Run executes a simulation and returns its report; progress (may be nil)
// receives a live progress line.
func Run(ctx context.Context, cfg Config, progress io.Writer) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("simulation config: %w", err)
	}
	dir := cfg.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "tally-sim-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	s := &sim{cfg: cfg, relayDir: filepath.Join(dir, "relay"), log: slog.New(slog.DiscardHandler)}
	if err := s.start(ctx, dir); err != nil {
		return nil, err
	}
	defer s.stop()
	return s.run(ctx, progress)
}

func (s *sim) start(ctx context.Context, dir string) error {
	chains := s.cfg.Chains
	if s.cfg.Baseline != "" {
		chains = 1
	}
	cl, err := StartCluster(ctx, ClusterConfig{Dir: dir, UserChains: chains, Suite: s.cfg.Suite,
		UsersPerChain: max(1, s.cfg.Users/chains), FundingPerUser: 100_000_000, Asset: s.cfg.assetOf(),
		Merchants: s.cfg.Merchants, TickMs: s.cfg.TickMs, Log: s.log, Validators: s.cfg.Validators, Seed: s.cfg.Seed,
		UserConsensus: s.cfg.UserConsensus, UserValidators: s.cfg.UserValidators})
	if err != nil {
		return err
	}
	s.cl = cl
	if s.cfg.Baseline == "" {
		return s.startRelay(ctx)
	}
	return nil
}

func (s *sim) startRelay(ctx context.Context) error {
	db, err := storage.OpenBadger(s.relayDir, storage.DefaultBadgerOptions())
	if err != nil {
		return err
	}
	hub := relay.NewEndpoint(s.cl.Hub.Client, s.cl.Hub.ID, s.cl.Relayer)
	var users []*relay.Endpoint
	for _, u := range s.cl.UserChains() {
		users = append(users, relay.NewEndpoint(u.Client, u.ID, s.cl.Relayer))
	}
	opts := relay.DefaultOptions()
	opts.EpochInterval, opts.Log = s.cfg.EpochInterval, s.log
	// The relay outlives the load window that may have started it; it stops
	// only through stopRelay.
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() {
		err := relay.New(hub, users, db, opts).Run(rctx)
		db.Close() // before reporting: a restart reopens this database
		done <- err
	}()
	s.mu.Lock()
	s.relayCancel, s.relayDone = cancel, done
	s.mu.Unlock()
	return nil
}

func (s *sim) stopRelay() {
	s.mu.Lock()
	cancel, done := s.relayCancel, s.relayDone
	s.relayCancel, s.relayDone = nil, nil
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (s *sim) stop() {
	s.stopRelay()
	if s.cl != nil {
		s.cl.Stop()
	}
}

func (s *sim) run(ctx context.Context, progress io.Writer) (*Result, error) {
	s.started = time.Now()
	s.tr = newTracker(s.started)
	fctx, stopFollow := context.WithCancel(ctx)
	defer stopFollow()
	s.followCtx = fctx
	s.followAll(fctx)
	loadCtx, stopLoad := context.WithTimeout(ctx, s.cfg.Duration)
	defer stopLoad()
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); newWorkload(s.cfg, s.cl, s.tr).run(loadCtx) }()
	go func() { defer wg.Done(); s.injectFaults(loadCtx) }()
	go func() { defer wg.Done(); s.liquidity(loadCtx) }()
	go s.showProgress(loadCtx, progress)
	wg.Wait()
	loadSeconds := time.Since(s.started).Seconds()
	if err := s.drain(ctx); err != nil {
		return nil, err
	}
	rep, err := s.checks(ctx)
	if err != nil {
		return nil, err
	}
	return s.result(loadSeconds, rep), nil
}

func (s *sim) followAll(ctx context.Context) {
	for _, u := range s.cl.UserChains() {
		s.followChain(ctx, u)
	}
	go follow(ctx, s.cl.Hub, func(b *pb.Block, at time.Time) { s.tr.hubBlock(b, at) })
}

func (s *sim) followChain(ctx context.Context, u *Chain) {
	go follow(ctx, u, func(b *pb.Block, at time.Time) { s.tr.block(u.ID, b, at) })
}

// drain waits for every admitted transaction to commit (or expire: its
// block limit passed) and, with a hub,
// for the hub to book everything.
//
// A node killed by a restart-node fault loses its pool: what it had admitted
// but not committed is gone, as on any real chain (a client would resubmit).
// Those are reported as lost on that chain; anywhere else a transaction that
// never commits fails the run.
func (s *sim) drain(ctx context.Context) error {
	if err := waitUntil(ctx, s.drainTimeout(), func() (bool, error) { return s.tr.unresolved() == 0, nil }); err != nil && !errors.Is(err, errTimeout) {
		return err
	}
	if s.cfg.Baseline != "" {
		return nil
	}
	s.ensureRelay(ctx)
	return waitUntil(ctx, 2*time.Minute, func() (bool, error) { return s.cl.Quiet(ctx) })
}

func (s *sim) drainTimeout() time.Duration {
	for _, f := range s.cfg.Faults {
		if f.Kind == "restart-node" {
			return 10*time.Second + 2*s.cfg.EpochInterval
		}
	}
	return time.Minute
}

// ensureRelay restarts the relay if a fault left it stopped.
func (s *sim) ensureRelay(ctx context.Context) {
	s.mu.Lock()
	running := s.relayCancel != nil
	s.mu.Unlock()
	if !running {
		if err := s.startRelay(ctx); err != nil {
			s.log.Error("restart relay", "err", err)
		}
	}
}

var errTimeout = errors.New("timed out")

func waitUntil(ctx context.Context, timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return errTimeout
		}
		sleepCtx(ctx, 50*time.Millisecond)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// showProgress prints a bar with the current throughput every second.
func (s *sim) showProgress(ctx context.Context, w io.Writer) {
	if w == nil {
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last := 0
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(w)
			return
		case <-t.C:
		}
		done := s.tr.committedTotal()
		el := time.Since(s.started)
		frac := min(1, el.Seconds()/s.cfg.Duration.Seconds())
		bar := strings.Repeat("█", int(frac*30)) + strings.Repeat("░", 30-int(frac*30))
		fmt.Fprintf(w, "\r%s %3.0f%%  %5.1fs  %6d tx/s  committed %d  in flight %d   ", bar, frac*100, el.Seconds(), done-last, done, s.tr.outstanding())
		last = done
	}
}

// liquidity moves money the way a treasury would: the busiest merchant
// sweeps part of its available income to the hub, and the hub allocates
// part of its reserve back to every chain.
func (s *sim) liquidity(ctx context.Context) {
	if s.cfg.Baseline != "" {
		return
	}
	t := time.NewTicker(3 * s.cfg.EpochInterval)
	defer t.Stop()
	hot := s.cl.Hot[0]
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, u := range s.cl.UserChains() {
			if a, err := view(ctx, u.Client, shadowContract, "shadowOf", hot.Address, s.cfg.assetOf()); err == nil {
				if part := new(big.Int).Div(a[0].(*big.Int), big.NewInt(10)); part.Sign() > 0 {
					s.note(call(ctx, u.Account(hot.Operator), shadowContract, "sweep", hot.Address, s.cfg.assetOf(), part))
				}
			}
		}
		m, err := view(ctx, s.cl.Hub.Client, hubContract, "merchant", hot.Address, s.cfg.assetOf())
		if err != nil {
			continue
		}
		chains := s.cl.UserChains()
		share := new(big.Int).Div(m[2].(*big.Int), big.NewInt(int64(2*len(chains))))
		for _, u := range chains {
			if share.Sign() > 0 {
				s.note(call(ctx, s.cl.Hub.Account(hot.Operator), hubContract, "allocate", hot.Address, u.ID, s.cfg.assetOf(), share))
			}
		}
	}
}

func (s *sim) note(err error) {
	if err != nil && !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "context") {
		s.log.Warn("liquidity operation failed", "err", err)
	}
}
