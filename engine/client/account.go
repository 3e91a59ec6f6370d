package client

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/api/pb"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/types"
)

// DefaultGas covers any precompile call.
const DefaultGas = 200_000

// BlockLimitAhead is how far past the head a new transaction's block limit
// is set: well inside the default window of 600, so the transaction stays
// valid for a while but never outside what the chain accepts.
const BlockLimitAhead = 500

// Account signs transactions for one chain with one key.
type Account struct {
	Key     crypto.PrivateKey
	Client  *Client
	ChainID string

	window atomic.Uint64 // the chain's tx_window, read once
}

// NewTx builds and signs a transaction against the current head.
func (a *Account) NewTx(ctx context.Context, to *common.Address, data []byte, gas uint64) (*types.Tx, error) {
	head, err := a.Client.Head(ctx)
	if err != nil {
		return nil, err
	}
	if gas == 0 {
		gas = DefaultGas
	}
	ahead, err := a.ahead(ctx)
	if err != nil {
		return nil, err
	}
	tx := types.NewTx(a.ChainID, head+ahead, to, gas, data)
	if err := tx.Sign(a.Key); err != nil {
		return nil, err
	}
	return tx, nil
}

// ahead is how far past the head to set a block limit: BlockLimitAhead,
// or less on a chain whose tx_window is smaller.
func (a *Account) ahead(ctx context.Context) (uint64, error) {
	if w := a.window.Load(); w != 0 {
		return min(BlockLimitAhead, w), nil
	}
	w, err := a.Client.TxWindow(ctx)
	if err != nil {
		return 0, err
	}
	a.window.Store(w)
	return min(BlockLimitAhead, w), nil
}

// Transact signs, sends and waits for the receipt; a failed receipt is an
// error wrapping ErrFailed with the revert reason.
func (a *Account) Transact(ctx context.Context, to *common.Address, data []byte, gas uint64) (*pb.Receipt, error) {
	tx, err := a.NewTx(ctx, to, data, gas)
	if err != nil {
		return nil, err
	}
	hash, err := a.Client.Send(ctx, tx)
	if err != nil {
		return nil, err
	}
	r, err := a.Client.WaitReceipt(ctx, hash, 30*time.Second)
	if err != nil {
		return nil, err
	}
	if r.Status != uint64(types.StatusOK) {
		return r, fmt.Errorf("%w: %s: %s", ErrFailed, r.StatusText, r.RevertReason)
	}
	return r, nil
}
