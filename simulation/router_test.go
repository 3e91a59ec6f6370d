package simulation

import (
	"context"
	"math/big"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/router"
	rclient "github.com/tallyhq/tally/router/client"
	"github.com/tallyhq/tally/router/pb"
)

// startRouter runs a router over the cluster on a loopback port.
func startRouter(t *testing.T, ctx context.Context, cl *Cluster) (*router.Router, *rclient.Client) {
	cfg := router.DefaultConfig()
	cfg.Hub = router.Endpoint{ChainID: cl.Hub.ID, Node: cl.Hub.Node.GRPCAddr()}
	for _, u := range cl.Users {
		cfg.Chains = append(cfg.Chains, router.Endpoint{ChainID: u.ID, Node: u.Node.GRPCAddr()})
	}
	key, _ := cl.Suite.GenerateKey()
	r, err := router.New(&cfg, key, cl.logger())
	if err != nil {
		t.Fatal(err)
	}
	go r.Run(ctx)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	pb.RegisterRouterServer(gs, router.NewServer(r))
	go gs.Serve(lis)
	c, err := rclient.Dial(lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); gs.Stop(); r.Close() })
	return r, c
}

// TestRouterOpensRoutesAndForwards: new users are assigned by the hub's
// directory, funded on their chain and pay a merchant through the router;
// two routers answer alike; a chain added at runtime takes new users while
// existing users stay where they are.
func TestRouterOpensRoutesAndForwards(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a consortium")
	}
	cl := startTestCluster(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, rc1 := startRouter(t, ctx, cl)
	_, rc2 := startRouter(t, ctx, cl)
	var keys []crypto.PrivateKey
	homes := map[string]string{}
	for i := 0; i < 12; i++ {
		k, _ := cl.Suite.GenerateKey()
		keys = append(keys, k)
		r, err := rc1.Route(ctx, k.Address())
		if err != nil || !r.Assigned {
			t.Fatalf("open account: %v %v", r, err)
		}
		homes[k.Address().Hex()] = r.ChainId
		fund(ctx, t, cl, r.ChainId, k, 10_000)
	}
	for _, k := range keys {
		other, err := rc2.RPC.Route(ctx, &pb.RouteRequest{User: k.Address().Hex()})
		if err != nil || other.ChainId != homes[k.Address().Hex()] || !other.Assigned {
			t.Fatalf("routers disagree on %s: %s vs %v (%v)", k.Address().Hex(), homes[k.Address().Hex()], other, err)
		}
		rc, err := rc2.Pay(ctx, k, cl.Merchant, "CNY", big.NewInt(150), [32]byte{1})
		if err != nil || rc.ChainId != homes[k.Address().Hex()] {
			t.Fatalf("pay through the router: %v %v", rc, err)
		}
		bal, err := rc1.RPC.Balance(ctx, &pb.BalanceRequest{User: k.Address().Hex(), Asset: "CNY"})
		if err != nil || bal.Balance != "9850" {
			t.Fatalf("balance after paying: %v %v", bal, err)
		}
	}
	spread := map[string]int{}
	for _, c := range homes {
		spread[c]++
	}
	if len(spread) != 2 {
		t.Fatalf("12 users all landed on one chain: %v", spread)
	}
	// A chain is added at runtime; the old ones close to new users.
	u3, err := cl.AddUserChain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range cl.Users[:2] {
		if err := call(ctx, cl.Hub.Account(cl.Admin), directoryContract, "setChainOpen", u.ID, false); err != nil {
			t.Fatal(err)
		}
	}
	newcomer, _ := cl.Suite.GenerateKey()
	r, err := rc1.Route(ctx, newcomer.Address())
	if err != nil || r.ChainId != u3.ID {
		t.Fatalf("a new user landed on %v, not the new chain %s (%v)", r, u3.ID, err)
	}
	for _, k := range keys {
		r, err := rc2.RPC.Route(ctx, &pb.RouteRequest{User: k.Address().Hex()})
		if err != nil || r.ChainId != homes[k.Address().Hex()] {
			t.Fatalf("an existing user moved: %v %v", r, err)
		}
	}
	m, err := rc1.RPC.Merchant(ctx, &pb.MerchantRequest{Merchant: cl.Merchant.Hex(), Asset: "CNY"})
	if err != nil || len(m.Chains) != 3 {
		t.Fatalf("merchant view: %v %v", m, err)
	}
}

// fund issues amount to key's account on chain id.
func fund(ctx context.Context, t *testing.T, cl *Cluster, id string, k crypto.PrivateKey, amount int64) {
	t.Helper()
	if err := call(ctx, cl.Chain(id).Account(cl.Admin), ledgerContract, "issue", "CNY", k.Address(), big.NewInt(amount)); err != nil {
		t.Fatal(err)
	}
}
