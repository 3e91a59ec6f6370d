package simulation

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/storage"
	"github.com/tallyhq/tally/hubchain"
	"github.com/tallyhq/tally/relay"
)

func startTestCluster(t *testing.T, chains int) *Cluster { return startValidatorCluster(t, chains, 1) }

// startValidatorCluster starts a hub and user chains with v validators each
// (PBFT over an in-process network when v > 1).
func startValidatorCluster(t *testing.T, chains, v int) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tick := 5
	if v > 1 {
		tick = 20
	}
	cl, err := StartCluster(ctx, ClusterConfig{Dir: t.TempDir(), UserChains: chains, Suite: crypto.SuiteSecp256k1,
		UsersPerChain: 8, FundingPerUser: 1_000_000, Asset: "CNY", TickMs: tick, Validators: v, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Stop)
	return cl
}

func startRelay(t *testing.T, ctx context.Context, cl *Cluster, db storage.DB, opts relay.Options) (*relay.Relay, <-chan error) {
	hub := relay.NewEndpoint(cl.Hub.Client, cl.Hub.ID, cl.Relayer)
	var users []*relay.Endpoint
	for _, u := range cl.Users {
		users = append(users, relay.NewEndpoint(u.Client, u.ID, cl.Relayer))
	}
	if opts.Log == nil || opts.Log == slog.Default() {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	r := relay.New(hub, users, db, opts)
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	return r, done
}

// pay sends n random payments from the chain's users to the merchant.
func pay(ctx context.Context, cl *Cluster, u *Chain, rng *rand.Rand, n int) error {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		user := u.Users[rng.IntN(len(u.Users))]
		amt := big.NewInt(int64(rng.IntN(500) + 1))
		ref := [32]byte{byte(i)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- call(ctx, u.Account(user), shadowContract, "pay", cl.Merchant, cl.Cfg.Asset, amt, ref)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func available(ctx context.Context, cl *Cluster, u *Chain) (*big.Int, error) {
	s, err := view(ctx, u.Client, shadowContract, "shadowOf", cl.Merchant, cl.Cfg.Asset)
	if err != nil {
		return nil, err
	}
	return s[0].(*big.Int), nil
}

// TestSettlementEndToEnd: users on three chains pay one hot merchant; the
// merchant pays out and sweeps; the hub allocates back; after quiescence the
// hub's books equal what the chains' own blocks say, every epoch is booked
// in order, and money is conserved.
func TestSettlementEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four nodes")
	}
	settlementEndToEnd(t, startTestCluster(t, 3))
}

// TestSettlementEndToEndPBFT is the same with a hub and three user chains
// of four PBFT validators each: sixteen nodes in one process.
func TestSettlementEndToEndPBFT(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sixteen nodes")
	}
	settlementEndToEnd(t, startValidatorCluster(t, 3, 4))
}

// TestSettlementEndToEndRaftUsers is the consortium of issue 7: a hub of
// four PBFT validators and three user chains of three Raft validators
// each; the hub's light clients check the Raft chains' majority certificates.
func TestSettlementEndToEndRaftUsers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts thirteen nodes")
	}
	cl := startRaftUserCluster(t, 3)
	for _, u := range cl.Users {
		if u.Genesis.Consensus != chain.ConsensusRaft || len(u.Nodes) != 3 {
			t.Fatalf("%s runs %s on %d nodes", u.ID, u.Genesis.Consensus, len(u.Nodes))
		}
	}
	settlementEndToEnd(t, cl)
}

// startRaftUserCluster starts a hub of four PBFT validators and user
// chains of three Raft validators each.
func startRaftUserCluster(t *testing.T, chains int) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl, err := StartCluster(ctx, ClusterConfig{Dir: t.TempDir(), UserChains: chains, Suite: crypto.SuiteSecp256k1,
		UsersPerChain: 8, FundingPerUser: 1_000_000, Asset: "CNY", TickMs: 20, Validators: 4, Seed: 3,
		UserConsensus: chain.ConsensusRaft, UserValidators: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Stop)
	return cl
}

func settlementEndToEnd(t *testing.T, cl *Cluster) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	opts := relay.DefaultOptions()
	opts.EpochInterval = 150 * time.Millisecond
	r, done := startRelay(t, ctx, cl, storage.NewMemory(), opts)
	rng := rand.New(rand.NewPCG(7, 7))
	for _, u := range cl.Users {
		if err := pay(ctx, cl, u, rng, 40); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range cl.Users {
		waitFor(t, "income available on "+u.ID, time.Minute, func() (bool, error) {
			a, err := available(ctx, cl, u)
			return err == nil && a.Sign() > 0, err
		})
	}
	op := cl.Operator
	for i, u := range cl.Users {
		a, _ := available(ctx, cl, u)
		third := new(big.Int).Div(a, big.NewInt(3))
		if err := call(ctx, u.Account(op), shadowContract, "payout", cl.Merchant, u.Users[0].Address(), cl.Cfg.Asset, third, [32]byte{1}); err != nil {
			t.Fatal(err)
		}
		if err := call(ctx, u.Account(op), shadowContract, "sweep", cl.Merchant, cl.Cfg.Asset, third); err != nil {
			t.Fatal(err)
		}
		// Overdraw must fail cleanly and change nothing.
		if err := call(ctx, u.Account(op), shadowContract, "payout", cl.Merchant, u.Users[1].Address(), cl.Cfg.Asset, a, [32]byte{2}); err == nil {
			t.Fatalf("chain %d: payout beyond available succeeded", i)
		}
	}
	waitFor(t, "sweeps in the hub reserve", time.Minute, func() (bool, error) {
		m, err := view(ctx, cl.Hub.Client, hubContract, "merchant", cl.Merchant, cl.Cfg.Asset)
		return err == nil && m[2].(*big.Int).Sign() > 0, err
	})
	m, _ := view(ctx, cl.Hub.Client, hubContract, "merchant", cl.Merchant, cl.Cfg.Asset)
	share := new(big.Int).Div(m[2].(*big.Int), big.NewInt(int64(len(cl.Users)+1)))
	for _, u := range cl.Users {
		if err := call(ctx, cl.Hub.Account(op), hubContract, "allocate", cl.Merchant, u.ID, cl.Cfg.Asset, share); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range cl.Users {
		if err := pay(ctx, cl, u, rng, 10); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "quiescence", 2*time.Minute, func() (bool, error) { return cl.Quiet(ctx) })
	accounts := KeyAddresses(cl.Admin, cl.Relayer, cl.Operator)
	for _, u := range cl.Users {
		accounts = append(accounts, KeyAddresses(u.Users...)...)
	}
	rep, err := cl.CheckInvariants(ctx, accounts)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.String())
	if !rep.OK {
		t.Fatal("invariants failed")
	}
	checkStatements(ctx, t, cl)
	st := r.Stats()
	if st.Booked == 0 || st.Sweeps != len(cl.Users) || st.Allocations != len(cl.Users) {
		t.Fatalf("relay stats %+v", st)
	}
	checkRelayMetrics(t, r, cl, st)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("relay: %v", err)
	}
	fmt.Printf("relay stats: %+v\n", st)
}

// checkStatements reads the hub's statement for the merchant, checks every
// line against its user chain, and checks the totals against the sub-ledgers.
func checkStatements(ctx context.Context, t *testing.T, cl *Cluster) {
	lines, err := hubchain.ReadStatement(ctx, cl.Hub.Client, hubchain.StatementQuery{Merchant: cl.Merchant})
	if err != nil {
		t.Fatal(err)
	}
	income := new(big.Int)
	for _, l := range lines {
		if err := hubchain.VerifyLine(ctx, cl.Chain(l.Chain).Client, cl.Suite, cl.Merchant, l); err != nil {
			t.Fatalf("statement line does not verify: %v", err)
		}
		income.Add(income, l.Income)
	}
	m, _ := view(ctx, cl.Hub.Client, hubContract, "merchant", cl.Merchant, cl.Cfg.Asset)
	if total := hubchain.SumLines(lines); total.Income.Cmp(m[0].(*big.Int)) != 0 || income.Cmp(m[0].(*big.Int)) != 0 {
		t.Fatalf("statement income %s, hub total %s", total.Income, m[0])
	}
	// A tampered line must not verify.
	bad := lines[len(lines)-1]
	bad.Income = new(big.Int).Add(bad.Income, big.NewInt(1))
	if err := hubchain.VerifyLine(ctx, cl.Chain(bad.Chain).Client, cl.Suite, cl.Merchant, bad); err == nil {
		t.Fatal("a tampered statement line verified")
	}
}

// checkRelayMetrics scrapes the relay's /metrics: its counters are its
// stats, and its cursor on every chain has moved past the blocks it relayed.
func checkRelayMetrics(t *testing.T, r *relay.Relay, cl *Cluster, st relay.Stats) {
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{fmt.Sprintf("tally_relay_booked_total %d\n", st.Booked),
		fmt.Sprintf("tally_relay_sweeps_total %d\n", st.Sweeps), fmt.Sprintf("tally_relay_allocations_total %d\n", st.Allocations)} {
		if !strings.Contains(string(body), want) {
			t.Errorf("relay /metrics lacks %q", want)
		}
	}
	for _, c := range append([]*Chain{cl.Hub}, cl.Users...) {
		m := regexp.MustCompile(`tally_relay_cursor_height\{chain="` + c.ID + `"\} ([0-9]+)`).FindStringSubmatch(string(body))
		if m == nil || m[1] == "0" {
			t.Errorf("relay cursor of %s in /metrics: %v", c.ID, m)
		}
	}
}
