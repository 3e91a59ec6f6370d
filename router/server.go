package router

import (
	"context"
	"fmt"
	"math/big"
	"net/http"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tallyhq/tally/engine/api"
	nodepb "github.com/tallyhq/tally/engine/api/pb"
	"github.com/tallyhq/tally/engine/types"
	"github.com/tallyhq/tally/router/pb"
)

// Server implements pb.RouterServer over a Router.
type Server struct {
	pb.UnimplementedRouterServer
	r *Router
}

// NewServer serves r.
func NewServer(r *Router) *Server { return &Server{r: r} }

func addr(what, s string) (common.Address, error) {
	if !common.IsHexAddress(s) {
		return common.Address{}, status.Errorf(codes.InvalidArgument, "%s %q is not a 0x address", what, s)
	}
	return common.HexToAddress(s), nil
}

func upstream(err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Error(codes.Unavailable, err.Error())
}

// Route says which chain serves a user.
func (s *Server) Route(ctx context.Context, req *pb.RouteRequest) (*pb.RouteResponse, error) {
	u, err := addr("user", req.User)
	if err != nil {
		return nil, err
	}
	id, assigned, err := s.r.Lookup(ctx, u)
	if err != nil {
		return nil, upstream(err)
	}
	return s.routeResponse(ctx, u, id, assigned)
}

func (s *Server) routeResponse(ctx context.Context, u common.Address, id string, assigned bool) (*pb.RouteResponse, error) {
	out := &pb.RouteResponse{User: u.Hex(), ChainId: id, Assigned: assigned}
	c, err := s.r.chain(id)
	if err != nil {
		return out, nil // known to the directory, not reachable from this router
	}
	st, err := c.Status(ctx)
	if err == nil && len(st.Chains) == 1 {
		out.Head, out.Suite = st.Chains[0].Height, st.Chains[0].Suite
	}
	return out, nil
}

// OpenAccounts assigns new users.
func (s *Server) OpenAccounts(ctx context.Context, req *pb.OpenAccountsRequest) (*pb.OpenAccountsResponse, error) {
	if len(req.Users) == 0 || len(req.Users) > 10_000 {
		return nil, status.Errorf(codes.InvalidArgument, "open 1..10000 accounts per call, got %d", len(req.Users))
	}
	users := make([]common.Address, len(req.Users))
	for i, x := range req.Users {
		u, err := addr("user", x)
		if err != nil {
			return nil, err
		}
		users[i] = u
	}
	chains, err := s.r.Open(ctx, users)
	if err != nil {
		return nil, upstream(err)
	}
	out := &pb.OpenAccountsResponse{}
	for i, u := range users {
		r, _ := s.routeResponse(ctx, u, chains[i], true)
		out.Accounts = append(out.Accounts, r)
	}
	return out, nil
}

// Submit forwards transactions to the chains they are signed for.
func (s *Server) Submit(ctx context.Context, req *pb.SubmitRequest) (*pb.SubmitResponse, error) {
	if len(req.Txs) > api.MaxBatchTxs {
		return nil, status.Errorf(codes.ResourceExhausted, "%d transactions, at most %d", len(req.Txs), api.MaxBatchTxs)
	}
	out := &pb.SubmitResponse{Results: make([]*pb.TxResult, len(req.Txs))}
	byChain := map[string][]int{}
	for i, raw := range req.Txs {
		tx, err := types.DecodeTx(raw)
		if err != nil {
			out.Results[i] = &pb.TxResult{Code: nodepb.ErrorCode_MALFORMED.String(), Message: err.Error()}
			continue
		}
		byChain[tx.ChainID] = append(byChain[tx.ChainID], i)
	}
	// Each chain's share goes to its node at once: a batch spread over N
	// chains waits for the slowest node, not for all of them in turn. The
	// forwards write disjoint results.
	var wg sync.WaitGroup
	for id, idx := range byChain {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.forward(ctx, id, idx, req.Txs, out)
		}()
	}
	wg.Wait()
	return out, nil
}

func (s *Server) forward(ctx context.Context, id string, idx []int, raws [][]byte, out *pb.SubmitResponse) {
	fail := func(code, msg string) {
		for _, i := range idx {
			out.Results[i] = &pb.TxResult{ChainId: id, Code: code, Message: msg}
		}
	}
	c, err := s.r.chain(id)
	if err != nil {
		fail(nodepb.ErrorCode_UNKNOWN_CHAIN.String(), err.Error())
		return
	}
	batch := make([][]byte, len(idx))
	for k, i := range idx {
		batch[k] = raws[i]
	}
	res, err := c.SendRaw(ctx, batch)
	if err != nil {
		fail("UNAVAILABLE", err.Error())
		return
	}
	if len(res) != len(batch) {
		// A node must answer each transaction; one that does not (a bug, or
		// another version) says nothing reliable about any of them.
		fail("UNAVAILABLE", fmt.Sprintf("chain %s's node answered %d results for %d transactions", id, len(res), len(batch)))
		return
	}
	for k, i := range idx {
		out.Results[i] = &pb.TxResult{ChainId: id, Hash: res[k].Hash, Code: res[k].Code.String(), Message: res[k].Message}
	}
}

// WaitReceipt returns a receipt from its chain.
func (s *Server) WaitReceipt(ctx context.Context, req *pb.WaitReceiptRequest) (*pb.ReceiptResponse, error) {
	c, err := s.r.chain(req.ChainId)
	if err != nil {
		return nil, status.Error(codes.NotFound, err.Error())
	}
	wait := min(time.Duration(req.WaitMs)*time.Millisecond, api.MaxWait)
	rc, err := c.RPC().GetReceipt(ctx, &nodepb.GetByHashRequest{ChainId: req.ChainId, Hash: req.Hash, WaitMs: uint64(wait.Milliseconds())})
	if err != nil {
		return nil, err
	}
	return &pb.ReceiptResponse{ChainId: req.ChainId, TxHash: rc.TxHash, Height: rc.Height, Status: rc.Status,
		StatusText: rc.StatusText, RevertReason: rc.RevertReason, Output: rc.Output}, nil
}

// Balance reads a user's balance.
func (s *Server) Balance(ctx context.Context, req *pb.BalanceRequest) (*pb.BalanceResponse, error) {
	u, err := addr("user", req.User)
	if err != nil {
		return nil, err
	}
	id, bal, err := s.r.BalanceOf(ctx, u, req.Asset)
	if err != nil {
		return nil, upstream(err)
	}
	return &pb.BalanceResponse{User: u.Hex(), ChainId: id, Asset: req.Asset, Balance: bal.String()}, nil
}

// Merchant reads a hot account's general ledger from the hub.
func (s *Server) Merchant(ctx context.Context, req *pb.MerchantRequest) (*pb.MerchantResponse, error) {
	m, err := addr("merchant", req.Merchant)
	if err != nil {
		return nil, err
	}
	tot, err := s.r.view(ctx, s.r.hub, hubABI, "merchant", m, req.Asset)
	if err != nil {
		return nil, upstream(err)
	}
	out := &pb.MerchantResponse{Merchant: m.Hex(), Asset: req.Asset, Income: str(tot[0]), Payouts: str(tot[1]),
		Reserve: str(tot[2]), Balance: str(tot[3])}
	ids, err := s.r.view(ctx, s.r.hub, hubABI, "chains")
	if err != nil {
		return nil, upstream(err)
	}
	for _, id := range ids[0].([]string) {
		sub, err := s.r.view(ctx, s.r.hub, hubABI, "subLedger", m, id, req.Asset)
		if err != nil {
			return nil, upstream(err)
		}
		out.Chains = append(out.Chains, &pb.SubLedger{ChainId: id, Income: str(sub[0]), Payouts: str(sub[1]),
			AllocIn: str(sub[2]), SweepOut: str(sub[3]), Closing: str(sub[4]), Epochs: sub[7].(uint64)})
	}
	return out, nil
}

func str(v any) string { return v.(*big.Int).String() }

// Chains lists the directory's chains and their reachability.
func (s *Server) Chains(ctx context.Context, _ *pb.ChainsRequest) (*pb.ChainsResponse, error) {
	s.r.mu.RLock()
	open, ver := make(map[string]bool, len(s.r.open)), s.r.rulesVer
	for k, v := range s.r.open {
		open[k] = v
	}
	s.r.mu.RUnlock()
	out := &pb.ChainsResponse{Hub: s.r.hubID, RulesVersion: ver}
	for _, id := range sortedIDs(open) {
		info := &pb.ChainInfo{ChainId: id, Open: open[id]}
		if c, err := s.r.chain(id); err == nil {
			if h, err := c.Head(ctx); err == nil {
				info.Reachable, info.Head = true, h
			}
		}
		out.Chains = append(out.Chains, info)
	}
	return out, nil
}

// HTTPHandler serves the API as HTTP/JSON under /v1/, and the router's
// Prometheus metrics at /metrics.
func HTTPHandler(s *Server) http.Handler {
	mux := http.NewServeMux()
	handle := func(method string, h http.Handler) { mux.Handle("/v1/"+method, s.r.counted(method, h)) }
	handle("Route", api.UnaryJSON(func() *pb.RouteRequest { return new(pb.RouteRequest) }, s.Route))
	handle("OpenAccounts", api.UnaryJSON(func() *pb.OpenAccountsRequest { return new(pb.OpenAccountsRequest) }, s.OpenAccounts))
	handle("Submit", api.UnaryJSON(func() *pb.SubmitRequest { return new(pb.SubmitRequest) }, s.Submit))
	handle("WaitReceipt", api.UnaryJSON(func() *pb.WaitReceiptRequest { return new(pb.WaitReceiptRequest) }, s.WaitReceipt))
	handle("Balance", api.UnaryJSON(func() *pb.BalanceRequest { return new(pb.BalanceRequest) }, s.Balance))
	handle("Merchant", api.UnaryJSON(func() *pb.MerchantRequest { return new(pb.MerchantRequest) }, s.Merchant))
	handle("Chains", api.UnaryJSON(func() *pb.ChainsRequest { return new(pb.ChainsRequest) }, s.Chains))
	mux.Handle("/metrics", s.r.metricsHandler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		api.WriteError(w, status.Error(codes.NotFound, fmt.Sprintf("no router method at %s; methods are POST /v1/<Method>", r.URL.Path)))
	})
	return mux
}
