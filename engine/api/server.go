package api

import (
	"context"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/api/pb"
	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/txpool"
)

// Limits on one request.
const (
	// MaxBatchTxs bounds the transactions in one SendTransactions call.
	MaxBatchTxs = 10_000
	// MaxCallData bounds Call's data.
	MaxCallData = 1 << 20
	// MaxWait bounds GetReceipt's wait.
	MaxWait = time.Minute
)

// Backend is what the API serves: the node's chains.
type Backend interface {
	// Lookup returns the chain and pool for id ("" = the only chain).
	Lookup(id string) (*chain.Chain, *txpool.Pool, error)
	// ChainIDs lists the hosted chains.
	ChainIDs() []string
	// NodeID names the node.
	NodeID() string
}

// ConsensusReporter is a Backend that can tell this node's part in a
// chain's consensus (status reports it when the backend has it).
type ConsensusReporter interface {
	// ConsensusRole returns the role ("leader", "follower", "candidate",
	// "validator", "observer") and the known leader's address, if any.
	ConsensusRole(chainID string) (role, leader string)
}

// Server implements pb.NodeServer.
type Server struct {
	pb.UnimplementedNodeServer
	b       Backend
	version string
}

// NewServer serves backend.
func NewServer(b Backend, version string) *Server { return &Server{b: b, version: version} }

func (s *Server) lookup(id string) (*chain.Chain, *txpool.Pool, error) {
	c, p, err := s.b.Lookup(id)
	if err != nil {
		return nil, nil, Status(err)
	}
	return c, p, nil
}

// SendTransactions admits a batch of signed transactions.
func (s *Server) SendTransactions(_ context.Context, req *pb.SendTransactionsRequest) (*pb.SendTransactionsResponse, error) {
	_, pool, err := s.lookup(req.ChainId)
	if err != nil {
		return nil, err
	}
	if len(req.Txs) > MaxBatchTxs {
		return nil, Status(fmt.Errorf("%w: %d transactions, at most %d", errTooMany, len(req.Txs), MaxBatchTxs))
	}
	res := pool.AddRaw(req.Txs)
	out := &pb.SendTransactionsResponse{Results: make([]*pb.TxResult, len(res))}
	for i, r := range res {
		out.Results[i] = &pb.TxResult{Code: Code(r.Err)}
		if r.Hash != (common.Hash{}) {
			out.Results[i].Hash = r.Hash.Hex()
		}
		if r.Err != nil {
			out.Results[i].Message = r.Err.Error()
		}
	}
	return out, nil
}

// Call runs a read-only call.
func (s *Server) Call(_ context.Context, req *pb.CallRequest) (*pb.CallResponse, error) {
	c, _, err := s.lookup(req.ChainId)
	if err != nil {
		return nil, err
	}
	var from common.Address
	if req.From != "" {
		if from, err = parseAddress("from", req.From); err != nil {
			return nil, Status(err)
		}
	}
	var to *common.Address
	if req.To != "" {
		a, err := parseAddress("to", req.To)
		if err != nil {
			return nil, Status(err)
		}
		to = &a
	}
	if len(req.Data) > MaxCallData {
		return nil, Status(invalid("call data of %d bytes exceeds %d", len(req.Data), MaxCallData))
	}
	if cfg := c.Config(); req.Gas > cfg.TxGasLimit {
		return nil, Status(invalid("gas %d above the transaction gas limit %d", req.Gas, cfg.TxGasLimit))
	}
	r, err := c.Call(from, to, req.Data, req.Gas)
	if err != nil {
		return nil, Status(err)
	}
	out := &pb.CallResponse{Status: uint64(r.Status), StatusText: r.Status.String(), Output: r.Output, GasUsed: r.GasUsed, Logs: pbLogs(r.Logs)}
	if r.Status != 0 {
		out.RevertReason, _ = exec.RevertReason(r.Output)
	}
	return out, nil
}

// GetBlock returns a block by height, hash or the latest.
func (s *Server) GetBlock(_ context.Context, req *pb.GetBlockRequest) (*pb.Block, error) {
	c, _, err := s.lookup(req.ChainId)
	if err != nil {
		return nil, err
	}
	height := c.Head().Height
	switch by := req.By.(type) {
	case *pb.GetBlockRequest_Height:
		if !req.Latest {
			height = by.Height
		}
	case *pb.GetBlockRequest_Hash:
		if !req.Latest {
			h, err := parseHash("hash", by.Hash)
			if err == nil {
				height, err = c.HeightOf(h)
			}
			if err != nil {
				return nil, Status(err)
			}
		}
	}
	b, err := c.BlockByHeight(height)
	if err != nil {
		return nil, Status(err)
	}
	out, err := pbBlock(c, b, req.WithReceipts)
	return out, Status(err)
}

// GetTransaction returns a committed transaction.
func (s *Server) GetTransaction(_ context.Context, req *pb.GetByHashRequest) (*pb.Transaction, error) {
	c, _, err := s.lookup(req.ChainId)
	if err != nil {
		return nil, err
	}
	h, err := parseHash("hash", req.Hash)
	if err != nil {
		return nil, Status(err)
	}
	tx, height, index, err := c.Transaction(h)
	if err != nil {
		return nil, Status(err)
	}
	return pbTx(c.Suite(), tx, height, index), nil
}

// GetReceipt returns a receipt, waiting up to wait_ms for it.
func (s *Server) GetReceipt(ctx context.Context, req *pb.GetByHashRequest) (*pb.Receipt, error) {
	c, _, err := s.lookup(req.ChainId)
	if err != nil {
		return nil, err
	}
	h, err := parseHash("hash", req.Hash)
	if err != nil {
		return nil, Status(err)
	}
	if err := waitCommitted(ctx, c, h, req.WaitMs); err != nil {
		return nil, Status(err)
	}
	r, height, index, err := c.Receipt(h)
	if err != nil {
		return nil, Status(err)
	}
	return pbReceipt(r, height, index), nil
}

// waitCommitted waits until h is committed or the wait runs out.
func waitCommitted(ctx context.Context, c *chain.Chain, h common.Hash, waitMs uint64) error {
	wait := min(time.Duration(waitMs)*time.Millisecond, MaxWait)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		changed := c.HeadChanged()
		if _, _, err := c.TxLocation(h); err == nil || wait == 0 {
			return err
		}
		select {
		case <-changed:
		case <-timer.C:
			_, _, err := c.TxLocation(h)
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// GetReceiptProof returns a receipt with everything that proves it.
func (s *Server) GetReceiptProof(ctx context.Context, req *pb.GetByHashRequest) (*pb.ReceiptProof, error) {
	r, err := s.GetReceipt(ctx, req)
	if err != nil {
		return nil, err
	}
	c, _, _ := s.lookup(req.ChainId)
	p, err := c.ReceiptProof(common.HexToHash(r.TxHash))
	if err != nil {
		return nil, Status(err)
	}
	return &pb.ReceiptProof{Receipt: r, Proof: p.Encode()}, nil
}

// BlockNumber returns the head.
func (s *Server) BlockNumber(_ context.Context, req *pb.ChainRequest) (*pb.BlockNumberResponse, error) {
	c, _, err := s.lookup(req.ChainId)
	if err != nil {
		return nil, err
	}
	h := c.Head()
	return &pb.BlockNumberResponse{Height: h.Height, Hash: h.Hash(c.Suite()).Hex()}, nil
}

// SubscribeBlocks streams committed blocks from from_height, then live. It
// reads blocks from storage, so a slow subscriber never makes the node
// buffer: it just falls behind and catches up.
func (s *Server) SubscribeBlocks(req *pb.SubscribeBlocksRequest, stream pb.Node_SubscribeBlocksServer) error {
	c, _, err := s.lookup(req.ChainId)
	if err != nil {
		return err
	}
	return Follow(stream.Context(), c, req.FromHeight, req.WithReceipts, func(b *pb.Block) error { return stream.Send(b) })
}

// Follow calls send for every committed block from height from on, until ctx ends or send fails.
func Follow(ctx context.Context, c *chain.Chain, from uint64, withReceipts bool, send func(*pb.Block) error) error {
	next := from
	for {
		changed := c.HeadChanged()
		for ; next <= c.Head().Height; next++ {
			b, err := c.BlockByHeight(next)
			if err != nil {
				return Status(err)
			}
			out, err := pbBlock(c, b, withReceipts)
			if err != nil {
				return Status(err)
			}
			if err := send(out); err != nil {
				return err
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil
		}
	}
}

// Status describes the node and its chains.
func (s *Server) Status(_ context.Context, req *pb.ChainRequest) (*pb.StatusResponse, error) {
	out := &pb.StatusResponse{NodeId: s.b.NodeID(), Version: s.version}
	ids := s.b.ChainIDs()
	if req.ChainId != "" {
		ids = []string{req.ChainId}
	}
	for _, id := range ids {
		c, p, err := s.lookup(id)
		if err != nil {
			return nil, err
		}
		st := chainStatus(c, p)
		if r, ok := s.b.(ConsensusReporter); ok {
			st.ConsensusRole, st.Leader = r.ConsensusRole(c.ID())
		}
		out.Chains = append(out.Chains, st)
	}
	return out, nil
}

func chainStatus(c *chain.Chain, p *txpool.Pool) *pb.ChainStatus {
	h := c.Head()
	st := &pb.ChainStatus{
		ChainId: c.ID(), Suite: c.Suite().Name(), Consensus: c.Genesis().Consensus, Height: h.Height,
		HeadHash: h.Hash(c.Suite()).Hex(), HeadTimestampMs: h.Timestamp, PendingTxs: uint32(p.Len()),
		GenesisHash: c.GenesisHeader().Hash(c.Suite()).Hex(),
	}
	if vs, err := c.Validators(); err == nil {
		st.Validators = uint32(vs.Len())
	}
	if err := c.Halted(); err != nil {
		st.Halted, st.HaltReason = true, err.Error()
	}
	return st
}
