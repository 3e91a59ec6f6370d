// Package client is the Go client of a Tally router: it asks the router
// which chain serves the signer, opens the account if it is new, signs the
// transaction for that chain by itself, submits it through the router and
// waits for the receipt.
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

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/types"
	"github.com/tallyhq/tally/router/pb"
	"github.com/tallyhq/tally/userchain"
)

// Client talks to one router.
type Client struct {
	conn *grpc.ClientConn
	RPC  pb.RouterClient
}

// Dial connects to a router's gRPC address.
func Dial(addr string) (*Client, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	return &Client{conn: conn, RPC: pb.NewRouterClient(conn)}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// ErrFailed is returned when the transaction committed with a failure status.
var ErrFailed = errors.New("transaction failed")

// Route finds the signer's chain, opening the account on first use.
func (c *Client) Route(ctx context.Context, user common.Address) (*pb.RouteResponse, error) {
	r, err := c.RPC.Route(ctx, &pb.RouteRequest{User: user.Hex()})
	if err != nil || r.Assigned {
		return r, err
	}
	opened, err := c.RPC.OpenAccounts(ctx, &pb.OpenAccountsRequest{Users: []string{user.Hex()}})
	if err != nil {
		return nil, err
	}
	return opened.Accounts[0], nil
}

// Transact signs a call for the signer's chain, submits it and waits.
func (c *Client) Transact(ctx context.Context, key crypto.PrivateKey, contract *exec.Contract, method string, args ...any) (*pb.ReceiptResponse, error) {
	route, err := c.Route(ctx, key.Address())
	if err != nil {
		return nil, err
	}
	if route.Suite != "" && route.Suite != key.Suite().Name() {
		return nil, fmt.Errorf("chain %s uses %s keys, this key is %s", route.ChainId, route.Suite, key.Suite().Name())
	}
	data, err := contract.Pack(method, args...)
	if err != nil {
		return nil, err
	}
	tx := types.NewTx(route.ChainId, route.Head+500, &contract.Addr, 200_000, data)
	if err := tx.Sign(key); err != nil {
		return nil, err
	}
	res, err := c.RPC.Submit(ctx, &pb.SubmitRequest{Txs: [][]byte{tx.Encode()}})
	if err != nil {
		return nil, err
	}
	if r := res.Results[0]; r.Code != "OK" {
		return nil, fmt.Errorf("%s refused the transaction: %s: %s", r.ChainId, r.Code, r.Message)
	}
	rc, err := c.RPC.WaitReceipt(ctx, &pb.WaitReceiptRequest{ChainId: route.ChainId, Hash: res.Results[0].Hash, WaitMs: uint64((30 * time.Second).Milliseconds())})
	if err != nil {
		return nil, err
	}
	if rc.Status != 0 {
		return rc, fmt.Errorf("%w: %s: %s", ErrFailed, rc.StatusText, rc.RevertReason)
	}
	return rc, nil
}

var shadow = userchain.New()

// Pay pays amount (minor units) of asset from the key's account to merchant.
func (c *Client) Pay(ctx context.Context, key crypto.PrivateKey, merchant common.Address, asset string, amount *big.Int, ref [32]byte) (*pb.ReceiptResponse, error) {
	return c.Transact(ctx, key, shadow, "pay", merchant, asset, amount, ref)
}

// ParseAmount converts a decimal amount ("1.50") into minor units with the
// given number of decimals, refusing more precision than the asset has.
func ParseAmount(s string, decimals int) (*big.Int, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Sign() <= 0 {
		return nil, fmt.Errorf("amount %q is not a positive decimal", s)
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)))
	if !r.IsInt() {
		return nil, fmt.Errorf("amount %q has more than %d decimals", s, decimals)
	}
	return r.Num(), nil
}
