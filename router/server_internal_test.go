package router

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tallyhq/tally/engine/api"
	nodepb "github.com/tallyhq/tally/engine/api/pb"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/types"
	"github.com/tallyhq/tally/router/pb"
)

// answeringNode is a node's gRPC front that admits what it is sent (every
// transaction OK, its hash its position in the batch and the chain), or,
// when short, leaves the last transaction of each batch unanswered, as a
// broken node might. It stands in for the node's side of the wire only:
// what is tested is the router's handling of the answers.
type answeringNode struct {
	nodepb.UnimplementedNodeServer
	chain string
	short bool
	mu    sync.Mutex
	got   [][]byte
}

func (n *answeringNode) SendTransactions(_ context.Context, req *nodepb.SendTransactionsRequest) (*nodepb.SendTransactionsResponse, error) {
	if req.ChainId != n.chain {
		return nil, status.Errorf(codes.NotFound, "chain %q not served here", req.ChainId)
	}
	n.mu.Lock()
	n.got = append(n.got, req.Txs...)
	n.mu.Unlock()
	out := &nodepb.SendTransactionsResponse{}
	for i := range req.Txs {
		out.Results = append(out.Results, &nodepb.TxResult{Hash: fmt.Sprintf("%s/%d", n.chain, i), Code: nodepb.ErrorCode_OK})
	}
	if n.short {
		out.Results = out.Results[:len(out.Results)-1]
	}
	return out, nil
}

// serveNode starts n on a loopback port and returns its address.
func serveNode(t *testing.T, n *answeringNode) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	nodepb.RegisterNodeServer(gs, n)
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	return lis.Addr().String()
}

// testRouter is a router over the given user chains, with a hub nobody
// listens on: what is tested here never reaches the hub.
func testRouter(t *testing.T, chains ...Endpoint) *Router {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Hub = Endpoint{ChainID: "hub", Node: "127.0.0.1:1"}
	cfg.Chains = chains
	key, err := crypto.Secp256k1().GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(&cfg, key, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// signedTx is an encoded, signed transaction for chain id.
func signedTx(t *testing.T, id string, nonce byte) []byte {
	t.Helper()
	key, err := crypto.Secp256k1().GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	to := common.HexToAddress("0x5001")
	tx := &types.Tx{ChainID: id, Nonce: common.Hash{nonce}, BlockLimit: 100, To: &to, Gas: 100_000, Data: []byte{1, 2, 3, 4}}
	if err := tx.Sign(key); err != nil {
		t.Fatal(err)
	}
	return tx.Encode()
}

// TestSubmitSplitsByChain: a batch mixing two chains, malformed bytes, a
// chain the router does not serve and a chain whose node is down gets one
// result per transaction, at its own index: each chain's share reaches its
// own node, in the batch's order, and every failure says what it is.
func TestSubmitSplitsByChain(t *testing.T) {
	a, b := &answeringNode{chain: "user-a"}, &answeringNode{chain: "user-b"}
	r := testRouter(t,
		Endpoint{ChainID: "user-a", Node: serveNode(t, a)},
		Endpoint{ChainID: "user-b", Node: serveNode(t, b)},
		Endpoint{ChainID: "user-down", Node: "127.0.0.1:1"})
	txs := [][]byte{
		signedTx(t, "user-a", 1),
		signedTx(t, "user-b", 1),
		{0xc0, 0xff, 0xee}, // not a transaction
		signedTx(t, "user-a", 2),
		signedTx(t, "user-elsewhere", 1),
		signedTx(t, "user-down", 1),
		signedTx(t, "user-b", 2),
	}
	out, err := NewServer(r).Submit(context.Background(), &pb.SubmitRequest{Txs: txs})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Results) != len(txs) {
		t.Fatalf("%d results for %d transactions", len(out.Results), len(txs))
	}
	want := []struct{ chain, code, hash string }{
		{"user-a", "OK", "user-a/0"},
		{"user-b", "OK", "user-b/0"},
		{"", nodepb.ErrorCode_MALFORMED.String(), ""},
		{"user-a", "OK", "user-a/1"},
		{"user-elsewhere", nodepb.ErrorCode_UNKNOWN_CHAIN.String(), ""},
		{"user-down", "UNAVAILABLE", ""},
		{"user-b", "OK", "user-b/1"},
	}
	for i, w := range want {
		got := out.Results[i]
		if got.ChainId != w.chain || got.Code != w.code || got.Hash != w.hash {
			t.Errorf("tx %d: got chain %q code %s hash %q, want %q %s %q (%s)", i, got.ChainId, got.Code, got.Hash, w.chain, w.code, w.hash, got.Message)
		}
		if w.code != "OK" && got.Message == "" {
			t.Errorf("tx %d: %s without a message", i, got.Code)
		}
	}
	for _, n := range []struct {
		node *answeringNode
		want [][]byte
	}{{a, [][]byte{txs[0], txs[3]}}, {b, [][]byte{txs[1], txs[6]}}} {
		if len(n.node.got) != len(n.want) || string(n.node.got[0]) != string(n.want[0]) || string(n.node.got[1]) != string(n.want[1]) {
			t.Errorf("node of %s got %d transactions, not its two in order", n.node.chain, len(n.node.got))
		}
	}
}

// TestSubmitShortAnswer: a node that answers fewer results than it was
// sent fails its chain's share cleanly, instead of the router reading past
// the answers.
func TestSubmitShortAnswer(t *testing.T) {
	n := &answeringNode{chain: "user-a", short: true}
	r := testRouter(t, Endpoint{ChainID: "user-a", Node: serveNode(t, n)})
	out, err := NewServer(r).Submit(context.Background(), &pb.SubmitRequest{Txs: [][]byte{signedTx(t, "user-a", 1), signedTx(t, "user-a", 2)}})
	if err != nil {
		t.Fatal(err)
	}
	for i, res := range out.Results {
		if res.Code != "UNAVAILABLE" || !strings.Contains(res.Message, "answered 1 results for 2") {
			t.Errorf("tx %d: %s %q", i, res.Code, res.Message)
		}
	}
}

// TestRouterBadRequests: requests the router can judge alone fail with the
// gRPC code that says why, before any chain is called.
func TestRouterBadRequests(t *testing.T) {
	r := testRouter(t)
	s := NewServer(r)
	ctx := context.Background()
	tooMany := make([][]byte, api.MaxBatchTxs+1)
	cases := []struct {
		name string
		call func() error
		want codes.Code
	}{
		{"oversized batch", func() error { _, err := s.Submit(ctx, &pb.SubmitRequest{Txs: tooMany}); return err }, codes.ResourceExhausted},
		{"receipt on an unknown chain", func() error {
			_, err := s.WaitReceipt(ctx, &pb.WaitReceiptRequest{ChainId: "user-x", Hash: common.Hash{1}.Hex()})
			return err
		}, codes.NotFound},
		{"balance of a bad address", func() error { _, err := s.Balance(ctx, &pb.BalanceRequest{User: "0x12", Asset: "CNY"}); return err }, codes.InvalidArgument},
		{"route a bad address", func() error { _, err := s.Route(ctx, &pb.RouteRequest{User: "alice"}); return err }, codes.InvalidArgument},
	}
	for _, c := range cases {
		err := c.call()
		if status.Code(err) != c.want {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
	}
}
