package simulation

import (
	"context"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/api/pb"
	"github.com/tallyhq/tally/engine/client"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/hubchain"
	"github.com/tallyhq/tally/userchain"
)

var (
	hubContract       = hubchain.New()
	shadowContract    = userchain.New()
	ledgerContract    = ledger.New()
	directoryContract = hubchain.NewDirectory()
	consensusAdmin    = system.NewConsensusAdmin()
)

// call sends a transaction to a precompile and requires success.
func call(ctx context.Context, a *client.Account, c *exec.Contract, method string, args ...any) error {
	_, err := transact(ctx, a, c, method, args...)
	return err
}

func transact(ctx context.Context, a *client.Account, c *exec.Contract, method string, args ...any) (*pb.Receipt, error) {
	data, err := c.Pack(method, args...)
	if err != nil {
		return nil, err
	}
	r, err := a.Transact(ctx, &c.Addr, data, 2_000_000)
	if err != nil {
		return r, fmt.Errorf("%s.%s on %s: %w", c.Name, method, a.ChainID, err)
	}
	return r, nil
}

// view runs a read-only call and unpacks its outputs.
func view(ctx context.Context, cl *client.Client, c *exec.Contract, method string, args ...any) ([]any, error) {
	data, err := c.Pack(method, args...)
	if err != nil {
		return nil, err
	}
	r, err := cl.Call(ctx, common.Address{}, &c.Addr, data)
	if err != nil {
		return nil, err
	}
	if r.Status != 0 {
		return nil, fmt.Errorf("%s.%s: %s %s", c.Name, method, r.StatusText, r.RevertReason)
	}
	return c.Unpack(method, r.Output)
}
