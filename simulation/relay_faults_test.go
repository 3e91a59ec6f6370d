package simulation

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/api/pb"
	"github.com/tallyhq/tally/engine/storage"
	"github.com/tallyhq/tally/engine/types"
	"github.com/tallyhq/tally/hubchain"
	"github.com/tallyhq/tally/relay"
)

// bookedSeqs reads, from the hub's own blocks, the seq of every
// SummaryBooked event per chain, in booking order.
func bookedSeqs(ctx context.Context, t *testing.T, cl *Cluster) map[string][]uint64 {
	ev := hubContract.Events["SummaryBooked"]
	out := make(map[string][]uint64)
	head, err := cl.Hub.Client.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for h := uint64(1); h <= head; h++ {
		b, err := cl.Hub.Client.RPC().GetBlock(ctx, &pb.GetBlockRequest{ChainId: cl.Hub.ID, By: &pb.GetBlockRequest_Height{Height: h}, WithReceipts: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range b.Receipts {
			r, _ := types.DecodeReceipt(raw)
			for _, l := range r.Logs {
				if l.Address != hubchain.Address || l.Topics[0] != ev.ID {
					continue
				}
				vals, _ := ev.Inputs.NonIndexed().Unpack(l.Data)
				out[vals[0].(string)] = append(out[vals[0].(string)], new(big.Int).SetBytes(l.Topics[1][:]).Uint64())
			}
		}
	}
	return out
}

// requireExactlyOnce checks seqs are 1..n with no gap, duplicate or reordering.
func requireExactlyOnce(t *testing.T, seqs map[string][]uint64, cl *Cluster) {
	t.Helper()
	for _, u := range cl.Users {
		s := seqs[u.ID]
		for i, seq := range s {
			if seq != uint64(i+1) {
				t.Fatalf("%s: booked seqs %v: position %d holds %d", u.ID, s, i, seq)
			}
		}
		if len(s) == 0 {
			t.Fatalf("%s: nothing booked", u.ID)
		}
	}
}

// load pays the merchant from every chain until ctx ends.
func load(ctx context.Context, cl *Cluster, seed uint64) *sync.WaitGroup {
	var wg sync.WaitGroup
	for i, u := range cl.Users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			for ctx.Err() == nil {
				if err := pay(ctx, cl, u, rng, 4); err != nil && ctx.Err() == nil {
					panic(err)
				}
			}
		}()
	}
	return &wg
}

func settleAll(ctx context.Context, t *testing.T, cl *Cluster) {
	for _, u := range cl.Users {
		if err := call(ctx, u.Account(cl.Admin), shadowContract, "settle"); err != nil {
			t.Fatal(err)
		}
	}
}

func finish(ctx context.Context, t *testing.T, cl *Cluster) {
	t.Helper()
	waitFor(t, "quiescence", 2*time.Minute, func() (bool, error) { return cl.Quiet(ctx) })
	accounts := KeyAddresses(cl.Admin, cl.Relayer, cl.Operator)
	for _, u := range cl.Users {
		accounts = append(accounts, KeyAddresses(u.Users...)...)
	}
	rep, err := cl.CheckInvariants(ctx, accounts)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("invariants:\n%s", rep)
	}
	requireExactlyOnce(t, bookedSeqs(ctx, t, cl), cl)
}

// TestRelayCrashAtSeededPoints kills the relay at 100 seeded points of its
// submit path (before proving, before submitting, after the hub committed,
// before the cursor moved) and restarts it from its badger cursors, while
// payments flow. The hub must book every epoch exactly once, in order.
func TestRelayCrashAtSeededPoints(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three nodes and restarts a relay 100 times")
	}
	cl := startTestCluster(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	loadCtx, stopLoad := context.WithCancel(ctx)
	wg := load(loadCtx, cl, 11)
	dir := filepath.Join(t.TempDir(), "relay")
	rng := rand.New(rand.NewPCG(2026, 11))
	crashes := 0
	for crashes < 100 {
		db, err := storage.OpenBadger(dir, storage.DefaultBadgerOptions())
		if err != nil {
			t.Fatal(err)
		}
		countdown := rng.IntN(12) + 1
		opts := relay.DefaultOptions()
		opts.EpochInterval, opts.RetryMin = 40*time.Millisecond, 10*time.Millisecond
		opts.Fault = func(point string) error {
			if countdown--; countdown == 0 {
				return errors.New("crash at " + point)
			}
			return nil
		}
		_, done := startRelay(t, ctx, cl, db, opts)
		err = <-done
		db.Close()
		if !errors.Is(err, relay.ErrFault) {
			t.Fatalf("relay stopped without a fault: %v", err)
		}
		crashes++
	}
	stopLoad()
	wg.Wait()
	db, err := storage.OpenBadger(dir, storage.DefaultBadgerOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	opts := relay.DefaultOptions()
	opts.EpochInterval = 40 * time.Millisecond
	startRelay(t, ctx, cl, db, opts)
	finish(ctx, t, cl)
}

// TestTwoRelaysReplayAndDelay runs two relays side by side, replays old
// bundles at the hub and the user chains, and holds all delivery back for
// several epochs; nothing is booked twice and the hub catches up.
func TestTwoRelaysReplayAndDelay(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three nodes")
	}
	cl := startTestCluster(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	// Delay: no relay for several epochs, settled by the admin.
	rng := rand.New(rand.NewPCG(5, 5))
	for epoch := 0; epoch < 4; epoch++ {
		for _, u := range cl.Users {
			if err := pay(ctx, cl, u, rng, 5); err != nil {
				t.Fatal(err)
			}
		}
		settleAll(ctx, t, cl)
	}
	opts := relay.DefaultOptions()
	opts.EpochInterval = 60 * time.Millisecond
	r1, _ := startRelay(t, ctx, cl, storage.NewMemory(), opts)
	r2, _ := startRelay(t, ctx, cl, storage.NewMemory(), opts)
	loadCtx, stopLoad := context.WithCancel(ctx)
	wg := load(loadCtx, cl, 3)
	time.Sleep(time.Second)
	stopLoad()
	wg.Wait()
	waitFor(t, "quiescence", 2*time.Minute, func() (bool, error) { return cl.Quiet(ctx) })
	replayOldBundles(ctx, t, cl)
	finish(ctx, t, cl)
	s1, s2 := r1.Stats(), r2.Stats()
	if s1.DuplicateBooks+s2.DuplicateBooks == 0 {
		t.Fatalf("two relays never raced (stats %+v / %+v): the test did not exercise duplicates", s1, s2)
	}
}

// replayOldBundles resubmits the first summary of every chain to the hub:
// it must answer duplicate and change nothing.
func replayOldBundles(ctx context.Context, t *testing.T, cl *Cluster) {
	for _, u := range cl.Users {
		ep := relay.NewEndpoint(u.Client, u.ID, cl.Relayer)
		tx, idx := firstSettle(ctx, t, u)
		bundle, err := ep.Bundle(ctx, tx, idx)
		if err != nil {
			t.Fatal(err)
		}
		before, _ := view(ctx, cl.Hub.Client, hubContract, "subLedger", cl.Merchant, u.ID, cl.Cfg.Asset)
		r, err := transact(ctx, cl.Hub.Account(cl.Relayer), hubContract, "book", bundle)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := hubContract.Unpack("book", r.Output)
		if out[0].(uint8) != hubchain.StatusDuplicate {
			t.Fatalf("replayed summary booked again: status %v", out[0])
		}
		after, _ := view(ctx, cl.Hub.Client, hubContract, "subLedger", cl.Merchant, u.ID, cl.Cfg.Asset)
		if fmt.Sprint(before) != fmt.Sprint(after) {
			t.Fatalf("replay changed the sub-ledger: %v -> %v", before, after)
		}
	}
}

func firstSettle(ctx context.Context, t *testing.T, u *Chain) (common.Hash, int) {
	head, _ := u.Client.Head(ctx)
	for h := uint64(1); h <= head; h++ {
		b, err := u.Client.RPC().GetBlock(ctx, &pb.GetBlockRequest{ChainId: u.ID, By: &pb.GetBlockRequest_Height{Height: h}, WithReceipts: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range b.Receipts {
			r, _ := types.DecodeReceipt(raw)
			for i, l := range r.Logs {
				if l.Topics[0] == shadowContract.Events["EpochSettled"].ID {
					return r.TxHash, i
				}
			}
		}
	}
	t.Fatalf("%s has no settle", u.ID)
	return common.Hash{}, 0
}
