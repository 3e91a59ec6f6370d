// Package client is the Go client of a Tally node's API: it sends signed
// transactions, waits for receipts, calls, and fetches blocks and proofs.
// Account signs transactions for a chain by itself, choosing a fresh nonce
// and a block limit inside the chain's window.
package client

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/tallyhq/tally/engine/api"
	"github.com/tallyhq/tally/engine/api/pb"
	"github.com/tallyhq/tally/engine/proof"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
)

// MaxMsgBytes bounds one gRPC message.
const MaxMsgBytes = 64 << 20

// Client talks to one node about one chain.
type Client struct {
	conn    *grpc.ClientConn
	rpc     pb.NodeClient
	chainID string
}

// Dial connects to a node's gRPC address; chainID selects the chain ("" = the node's only chain).
func Dial(addr, chainID string, opts ...grpc.DialOption) (*Client, error) {
	if len(opts) == 0 {
		opts = []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	}
	opts = append(opts, grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMsgBytes), grpc.MaxCallSendMsgSize(MaxMsgBytes)))
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return &Client{conn: conn, rpc: pb.NewNodeClient(conn), chainID: chainID}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// RPC exposes the raw gRPC client.
func (c *Client) RPC() pb.NodeClient { return c.rpc }

// ChainID is the chain this client addresses.
func (c *Client) ChainID() string { return c.chainID }

// TxError is a transaction the node refused.
type TxError struct {
	Code    pb.ErrorCode
	Message string
}

func (e *TxError) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// SendRaw submits encoded transactions; results come back in order.
func (c *Client) SendRaw(ctx context.Context, raws [][]byte) ([]*pb.TxResult, error) {
	resp, err := c.rpc.SendTransactions(ctx, &pb.SendTransactionsRequest{ChainId: c.chainID, Txs: raws})
	if err != nil {
		return nil, err
	}
	return resp.Results, nil
}

// Send submits one transaction and returns its hash, or a *TxError.
func (c *Client) Send(ctx context.Context, tx *types.Tx) (common.Hash, error) {
	res, err := c.SendRaw(ctx, [][]byte{tx.Encode()})
	if err != nil {
		return common.Hash{}, err
	}
	if res[0].Code != pb.ErrorCode_OK {
		return common.Hash{}, &TxError{res[0].Code, res[0].Message}
	}
	return common.HexToHash(res[0].Hash), nil
}

// WaitReceipt waits up to timeout for hash's receipt.
func (c *Client) WaitReceipt(ctx context.Context, hash common.Hash, timeout time.Duration) (*pb.Receipt, error) {
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return nil, fmt.Errorf("no receipt for %s within %s", hash.Hex(), timeout)
		}
		wait := min(left, api.MaxWait)
		r, err := c.rpc.GetReceipt(ctx, &pb.GetByHashRequest{ChainId: c.chainID, Hash: hash.Hex(), WaitMs: uint64(wait.Milliseconds())})
		if err == nil {
			return r, nil
		}
		if api.CodeFromStatus(err) != pb.ErrorCode_NOT_FOUND {
			return nil, err
		}
	}
}

// Head returns the head height.
func (c *Client) Head(ctx context.Context) (uint64, error) {
	r, err := c.rpc.BlockNumber(ctx, &pb.ChainRequest{ChainId: c.chainID})
	if err != nil {
		return 0, err
	}
	return r.Height, nil
}

// Call runs a read-only call from from to to.
func (c *Client) Call(ctx context.Context, from common.Address, to *common.Address, data []byte) (*pb.CallResponse, error) {
	req := &pb.CallRequest{ChainId: c.chainID, From: from.Hex(), Data: data}
	if to != nil {
		req.To = to.Hex()
	}
	return c.rpc.Call(ctx, req)
}

// Block returns the decoded block at height and its certificate (nil if none).
func (c *Client) Block(ctx context.Context, height uint64) (*types.Block, *types.Certificate, error) {
	r, err := c.rpc.GetBlock(ctx, &pb.GetBlockRequest{ChainId: c.chainID, By: &pb.GetBlockRequest_Height{Height: height}})
	if err != nil {
		return nil, nil, err
	}
	return decodeBlock(r)
}

func decodeBlock(r *pb.Block) (*types.Block, *types.Certificate, error) {
	b, err := types.DecodeBlock(r.Raw)
	if err != nil {
		return nil, nil, err
	}
	if len(r.Certificate) == 0 {
		return b, nil, nil
	}
	cert, err := types.DecodeCertificate(r.Certificate)
	return b, cert, err
}

// ReceiptProof fetches a receipt's proof bundle.
func (c *Client) ReceiptProof(ctx context.Context, hash common.Hash) (*proof.Receipt, error) {
	r, err := c.rpc.GetReceiptProof(ctx, &pb.GetByHashRequest{ChainId: c.chainID, Hash: hash.Hex()})
	if err != nil {
		return nil, err
	}
	return proof.DecodeReceipt(r.Proof)
}

// Status returns the node's status.
func (c *Client) Status(ctx context.Context) (*pb.StatusResponse, error) {
	return c.rpc.Status(ctx, &pb.ChainRequest{ChainId: c.chainID})
}

// ErrFailed is returned by Account.Transact when the receipt is not OK.
var ErrFailed = errors.New("transaction failed")

var sysConfig = system.NewSystemConfig()

// TxWindow reads the chain's block-limit window from SystemConfig.
func (c *Client) TxWindow(ctx context.Context) (uint64, error) {
	data, _ := sysConfig.Pack("getValue", system.CfgTxWindow)
	r, err := c.Call(ctx, common.Address{}, &system.SystemConfigAddress, data)
	if err != nil {
		return 0, err
	}
	out, err := sysConfig.Unpack("getValue", r.Output)
	if err != nil || r.Status != 0 {
		return 0, fmt.Errorf("read tx_window: %s %v", r.RevertReason, err)
	}
	return out[0].(*big.Int).Uint64(), nil
}
