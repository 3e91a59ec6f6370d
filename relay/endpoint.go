package relay

import (
	"context"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/api/pb"
	"github.com/tallyhq/tally/engine/client"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/settlement"
	"github.com/tallyhq/tally/engine/types"
)

// Endpoint is the relay's connection to one chain, with the key it signs with.
type Endpoint struct {
	ChainID string
	Client  *client.Client
	Account *client.Account
}

// NewEndpoint wraps a client and key for chainID.
func NewEndpoint(c *client.Client, chainID string, key crypto.PrivateKey) *Endpoint {
	return &Endpoint{ChainID: chainID, Client: c, Account: &client.Account{Key: key, Client: c, ChainID: chainID}}
}

// Block is a committed block with its receipts.
type Block struct {
	Header   *types.Header
	Cert     []byte // canonical certificate
	Txs      []*types.Tx
	Receipts []*types.Receipt
}

func decodeBlock(b *pb.Block) (*Block, error) {
	blk, err := types.DecodeBlock(b.Raw)
	if err != nil {
		return nil, err
	}
	out := &Block{Header: blk.Header, Cert: b.Certificate, Txs: blk.Txs}
	for _, raw := range b.Receipts {
		r, err := types.DecodeReceipt(raw)
		if err != nil {
			return nil, err
		}
		out.Receipts = append(out.Receipts, r)
	}
	if len(out.Receipts) != len(out.Txs) {
		return nil, fmt.Errorf("block %d has %d transactions but %d receipts", blk.Header.Height, len(out.Txs), len(out.Receipts))
	}
	return out, nil
}

// Follow streams committed blocks with receipts from height from on.
func (e *Endpoint) Follow(ctx context.Context, from uint64, fn func(*Block) error) error {
	stream, err := e.Client.RPC().SubscribeBlocks(ctx, &pb.SubscribeBlocksRequest{ChainId: e.ChainID, FromHeight: from, WithReceipts: true})
	if err != nil {
		return err
	}
	for {
		raw, err := stream.Recv()
		if err != nil {
			return err
		}
		b, err := decodeBlock(raw)
		if err != nil {
			return err
		}
		if err := fn(b); err != nil {
			return err
		}
	}
}

// Bundle builds the proof bundle of log logIndex of transaction tx.
func (e *Endpoint) Bundle(ctx context.Context, tx common.Hash, logIndex int) ([]byte, error) {
	p, err := e.Client.ReceiptProof(ctx, tx)
	if err != nil {
		return nil, err
	}
	if len(p.Certificate) == 0 {
		return nil, fmt.Errorf("block of %s has no finality certificate yet", tx.Hex())
	}
	return (&settlement.Bundle{Proof: *p, LogIndex: uint64(logIndex)}).Encode(), nil
}

// Transact signs and submits a call and waits for its receipt.
func (e *Endpoint) Transact(ctx context.Context, to common.Address, data []byte) (*pb.Receipt, error) {
	return e.Account.Transact(ctx, &to, data, 2_000_000)
}
