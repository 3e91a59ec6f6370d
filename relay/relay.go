package relay

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/settlement"
	"github.com/tallyhq/tally/engine/storage"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
	"github.com/tallyhq/tally/hubchain"
	"github.com/tallyhq/tally/userchain"
)

// Options tune the relay.
type Options struct {
	// EpochInterval is how often each user chain is asked to settle; 0 never.
	EpochInterval time.Duration
	// RetryMin and RetryMax bound the backoff after a failed submission.
	RetryMin, RetryMax time.Duration
	// Fault, if set, is called at every step of the submit path with a
	// name; a non-nil error stops the relay there, as a crash would (tests).
	Fault func(point string) error
	// Log receives structured logs.
	Log *slog.Logger
}

// DefaultOptions settle every second and retry from 50 ms up to 2 s.
func DefaultOptions() Options {
	return Options{EpochInterval: time.Second, RetryMin: 50 * time.Millisecond, RetryMax: 2 * time.Second, Log: slog.Default()}
}

// Relay carries proofs between the hub and the user chains.
type Relay struct {
	hub   *Endpoint
	users map[string]*Endpoint
	db    storage.DB
	opts  Options
	stats Stats
	mu    sync.Mutex
}

// Stats counts what the relay did since it started.
type Stats struct {
	Booked, DuplicateBooks, Sweeps, Allocations, Settles, Retries, ClientUpdates int
}

// New makes a relay; db holds its cursors.
func New(hub *Endpoint, users []*Endpoint, db storage.DB, opts Options) *Relay {
	r := &Relay{hub: hub, users: make(map[string]*Endpoint), db: db, opts: opts}
	for _, u := range users {
		r.users[u.ChainID] = u
	}
	if r.opts.Log == nil {
		r.opts.Log = slog.Default()
	}
	return r
}

// Stats returns a snapshot of the counters.
func (r *Relay) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

func (r *Relay) count(f func(*Stats)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.stats)
}

// ErrFault is returned when an injected fault stopped the relay.
var ErrFault = errors.New("relay: injected fault")

func (r *Relay) fault(point string) error {
	if r.opts.Fault == nil {
		return nil
	}
	if err := r.opts.Fault(point); err != nil {
		return fmt.Errorf("%w at %s: %v", ErrFault, point, err)
	}
	return nil
}

// Run relays until ctx ends or a follower fails for good (an injected
// fault, or a closed database); it returns the first such error.
func (r *Relay) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(r.users)+2)
	var wg sync.WaitGroup
	run := func(f func(context.Context) error) {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- f(ctx) }()
	}
	for _, u := range r.users {
		run(func(ctx context.Context) error { return r.followUser(ctx, u) })
	}
	run(r.followHub)
	if r.opts.EpochInterval > 0 {
		run(r.settleLoop)
	}
	err := <-errs
	cancel()
	wg.Wait()
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// cursor reads the last fully relayed height of a chain.
func (r *Relay) cursor(chain string) (uint64, error) {
	v, err := r.db.Get(storage.CursorKey("relay/" + chain))
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	}
	if err != nil || len(v) != 8 {
		return 0, fmt.Errorf("relay cursor of %s: %v", chain, err)
	}
	return binary.BigEndian.Uint64(v), nil
}

func (r *Relay) setCursor(chain string, h uint64) error {
	b := r.db.NewBatch()
	if err := b.Put(storage.CursorKey("relay/"+chain), binary.BigEndian.AppendUint64(nil, h)); err != nil {
		return err
	}
	return b.Commit()
}

// follow runs handle on every block of ep after the cursor, in order,
// advancing the cursor only after a block is fully handled. A broken stream
// is resumed from the cursor after a backoff.
func (r *Relay) follow(ctx context.Context, ep *Endpoint, handle func(context.Context, *Block) error) error {
	backoff := r.opts.RetryMin
	for ctx.Err() == nil {
		from, err := r.cursor(ep.ChainID)
		if err != nil {
			return err
		}
		err = ep.Follow(ctx, from+1, func(b *Block) error {
			if err := handle(ctx, b); err != nil {
				return err
			}
			if err := r.fault("cursor:" + ep.ChainID); err != nil {
				return err
			}
			backoff = r.opts.RetryMin
			return r.setCursor(ep.ChainID, b.Header.Height)
		})
		if errors.Is(err, ErrFault) || errors.Is(err, storage.ErrClosed) {
			return err
		}
		if ctx.Err() == nil {
			r.opts.Log.Warn("relay: retrying", "chain", ep.ChainID, "after", backoff, "err", err)
			r.count(func(s *Stats) { s.Retries++ })
			if !sleep(ctx, backoff) {
				break
			}
			backoff = min(backoff*2, r.opts.RetryMax)
		}
	}
	return ctx.Err()
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (r *Relay) followUser(ctx context.Context, u *Endpoint) error {
	return r.follow(ctx, u, func(ctx context.Context, b *Block) error {
		if err := r.userLogs(ctx, u, b); err != nil {
			return err
		}
		// After this block's own summaries (certified by the old set) are in.
		return r.carrySetChange(ctx, b, func(set []byte) error {
			return r.update(ctx, r.hub, hubchain.Address, hubContract, "updateClient", u.ChainID, b.Header.Encode(), b.Cert, set)
		})
	})
}

func (r *Relay) userLogs(ctx context.Context, u *Endpoint, b *Block) error {
	return eachLog(b, settlement.ShadowAddress, func(tx common.Hash, i int, l *types.Log) error {
		switch l.Topics[0] {
		case settlement.EvPacketSent.ID:
			return r.submit(ctx, u, r.hub, tx, i, "recvSweep", func(s uint8) { r.count(func(st *Stats) { st.Sweeps++ }) })
		case settlement.EvEpochSettled.ID:
			return r.submit(ctx, u, r.hub, tx, i, "book", func(s uint8) {
				r.count(func(st *Stats) {
					if s == hubchain.StatusDuplicate {
						st.DuplicateBooks++
					} else {
						st.Booked++
					}
				})
			})
		}
		return nil
	})
}

func (r *Relay) followHub(ctx context.Context) error {
	return r.follow(ctx, r.hub, func(ctx context.Context, b *Block) error {
		if err := r.hubLogs(ctx, b); err != nil {
			return err
		}
		return r.carrySetChange(ctx, b, func(set []byte) error {
			for _, u := range r.users {
				if err := r.update(ctx, u, userchain.Address, shadowContract, "updateHub", b.Header.Encode(), b.Cert, set); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

func (r *Relay) hubLogs(ctx context.Context, b *Block) error {
	return eachLog(b, settlement.HubAddress, func(tx common.Hash, i int, l *types.Log) error {
		if l.Topics[0] != settlement.EvPacketSent.ID {
			return nil
		}
		p, err := packetOf(l)
		if err != nil {
			return err
		}
		dst, ok := r.users[p.Dst]
		if !ok {
			return nil // another relay serves that chain
		}
		return r.submit(ctx, r.hub, dst, tx, i, "recvAllocation", func(uint8) { r.count(func(s *Stats) { s.Allocations++ }) })
	})
}

// carrySetChange finds the block's new validator set, when its header
// commits to one, from the last ValidatorsChanged event, checks it against
// the header and hands it to submit.
func (r *Relay) carrySetChange(ctx context.Context, b *Block, submit func(set []byte) error) error {
	h := b.Header
	if h.NextValidatorsHash == h.ValidatorsHash {
		return nil
	}
	var set []byte
	eachLog(b, system.ConsensusAdminAddress, func(_ common.Hash, _ int, l *types.Log) error {
		if l.Topics[0] == system.EvValidatorsChanged.ID {
			if v, err := system.EvValidatorsChanged.Inputs.Unpack(l.Data); err == nil {
				set = v[0].([]byte)
			}
		}
		return nil
	})
	if set == nil {
		return fmt.Errorf("block %d of %s changes its validator set but carries no ValidatorsChanged event", h.Height, h.ChainID)
	}
	if err := r.fault("update:" + h.ChainID); err != nil {
		return err
	}
	return submit(set)
}

// update submits a light-client update; a duplicate is success.
func (r *Relay) update(ctx context.Context, dst *Endpoint, addr common.Address, c interface {
	Pack(string, ...any) ([]byte, error)
}, method string, args ...any) error {
	data, err := c.Pack(method, args...)
	if err != nil {
		return err
	}
	if _, err := dst.Transact(ctx, addr, data); err != nil {
		return fmt.Errorf("%s on %s: %w", method, dst.ChainID, err)
	}
	r.count(func(s *Stats) { s.ClientUpdates++ })
	return nil
}

func packetOf(l *types.Log) (*settlement.Packet, error) {
	enc, err := settlement.EventBytes(l.Data)
	if err != nil {
		return nil, err
	}
	return settlement.DecodePacket(enc)
}

// eachLog calls fn for every log of a successful transaction emitted by from.
func eachLog(b *Block, from common.Address, fn func(tx common.Hash, index int, l *types.Log) error) error {
	for _, rc := range b.Receipts {
		if rc.Status != types.StatusOK {
			continue
		}
		for i, l := range rc.Logs {
			if l.Address == from && len(l.Topics) > 0 {
				if err := fn(rc.TxHash, i, l); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// submit proves log i of tx on src and calls method(bundle) on dst. A
// duplicate is success; any failure is returned, so the block is retried.
func (r *Relay) submit(ctx context.Context, src, dst *Endpoint, tx common.Hash, i int, method string, done func(status uint8)) error {
	if err := r.fault("prove:" + method); err != nil {
		return err
	}
	bundle, err := src.Bundle(ctx, tx, i)
	if err != nil {
		return fmt.Errorf("prove %s log %d on %s: %w", tx.Hex(), i, src.ChainID, err)
	}
	c, addr := contractFor(method)
	data, err := c.Pack(method, bundle)
	if err != nil {
		return err
	}
	if err := r.fault("submit:" + method); err != nil {
		return err
	}
	rc, err := dst.Transact(ctx, addr, data)
	if err != nil {
		return fmt.Errorf("%s on %s: %w", method, dst.ChainID, err)
	}
	if err := r.fault("submitted:" + method); err != nil {
		return err
	}
	out, err := c.Unpack(method, rc.Output)
	if err != nil || len(out) != 1 {
		return fmt.Errorf("%s on %s: unexpected output %x", method, dst.ChainID, rc.Output)
	}
	done(out[0].(uint8))
	return nil
}

var (
	hubContract    = hubchain.New()
	shadowContract = userchain.New()
)

func contractFor(method string) (contract interface {
	Pack(string, ...any) ([]byte, error)
	Unpack(string, []byte) ([]any, error)
}, addr common.Address) {
	if method == "recvAllocation" {
		return shadowContract, userchain.Address
	}
	return hubContract, hubchain.Address
}

// settleLoop asks every user chain to settle each epoch interval.
func (r *Relay) settleLoop(ctx context.Context) error {
	t := time.NewTicker(r.opts.EpochInterval)
	defer t.Stop()
	data, _ := shadowContract.Pack("settle")
	open, _ := shadowContract.Pack("openOperations")
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		for _, u := range r.users {
			if err := r.fault("settle:" + u.ChainID); err != nil {
				return err
			}
			// An epoch with nothing in it is not settled: an idle chain stays idle.
			if res, err := u.Client.Call(ctx, common.Address{}, &userchain.Address, open); err == nil && res.Status == 0 &&
				new(big.Int).SetBytes(res.Output).Sign() == 0 {
				continue
			}
			if _, err := u.Transact(ctx, userchain.Address, data); err != nil {
				r.opts.Log.Warn("relay: settle failed", "chain", u.ChainID, "err", err)
				continue
			}
			r.count(func(s *Stats) { s.Settles++ })
		}
	}
}
