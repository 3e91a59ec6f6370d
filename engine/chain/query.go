package chain

import (
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/merkle"
	"github.com/tallyhq/tally/engine/proof"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/storage"
	"github.com/tallyhq/tally/engine/types"
)

func (c *Chain) get(key []byte, what string) ([]byte, error) {
	v, err := c.db.Get(key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, what)
	}
	return v, err
}

func (c *Chain) readHeader(h uint64) (*types.Header, error) {
	v, err := c.get(storage.HeaderKey(h), fmt.Sprintf("block %d", h))
	if err != nil {
		return nil, err
	}
	return types.DecodeHeader(v)
}

func (c *Chain) readBody(h uint64) ([]*types.Tx, error) {
	v, err := c.get(storage.BodyKey(h), fmt.Sprintf("block %d", h))
	if err != nil {
		return nil, err
	}
	return types.DecodeTxs(v)
}

// HeaderByHeight returns the committed header at h.
func (c *Chain) HeaderByHeight(h uint64) (*types.Header, error) {
	if h > c.Head().Height {
		return nil, fmt.Errorf("%w: block %d is above the head %d", ErrNotFound, h, c.Head().Height)
	}
	return c.readHeader(h)
}

// BlockByHeight returns the committed block at h.
func (c *Chain) BlockByHeight(h uint64) (*types.Block, error) {
	hdr, err := c.HeaderByHeight(h)
	if err != nil {
		return nil, err
	}
	txs, err := c.readBody(h)
	if err != nil {
		return nil, err
	}
	return &types.Block{Header: hdr, Txs: txs}, nil
}

// HeightOf returns the height of the block with the given hash.
func (c *Chain) HeightOf(hash common.Hash) (uint64, error) {
	v, err := c.get(storage.HashKey(hash), fmt.Sprintf("block %x", hash))
	if err != nil {
		return 0, err
	}
	return storage.DecodeHeight(v)
}

// Receipts returns the receipts of block h.
func (c *Chain) Receipts(h uint64) ([]*types.Receipt, error) {
	v, err := c.get(storage.ReceiptsKey(h), fmt.Sprintf("receipts of block %d", h))
	if err != nil {
		return nil, err
	}
	return types.DecodeReceipts(v)
}

// Certificate returns block h's finality certificate.
func (c *Chain) Certificate(h uint64) (*types.Certificate, error) {
	v, err := c.get(storage.CertKey(h), fmt.Sprintf("certificate of block %d", h))
	if err != nil {
		return nil, err
	}
	return types.DecodeCertificate(v)
}

// TxLocation returns where a transaction was committed.
func (c *Chain) TxLocation(hash common.Hash) (height uint64, index uint32, err error) {
	v, err := c.get(storage.TxKey(hash), fmt.Sprintf("transaction %x", hash))
	if err != nil {
		return 0, 0, err
	}
	return storage.DecodeTxLoc(v)
}

// Transaction returns a committed transaction and its location.
func (c *Chain) Transaction(hash common.Hash) (*types.Tx, uint64, uint32, error) {
	h, i, err := c.TxLocation(hash)
	if err != nil {
		return nil, 0, 0, err
	}
	txs, err := c.readBody(h)
	if err != nil || int(i) >= len(txs) {
		return nil, 0, 0, fmt.Errorf("corrupt index for transaction %x: %v", hash, err)
	}
	return txs[i], h, i, nil
}

// Receipt returns a committed transaction's receipt and its location.
func (c *Chain) Receipt(hash common.Hash) (*types.Receipt, uint64, uint32, error) {
	h, i, err := c.TxLocation(hash)
	if err != nil {
		return nil, 0, 0, err
	}
	rs, err := c.Receipts(h)
	if err != nil || int(i) >= len(rs) {
		return nil, 0, 0, fmt.Errorf("corrupt index for receipt %x: %v", hash, err)
	}
	return rs[i], h, i, nil
}

// ReceiptProof returns a receipt with its Merkle branch, header and
// certificate: everything proof.VerifyReceipt needs.
func (c *Chain) ReceiptProof(hash common.Hash) (*proof.Receipt, error) {
	h, i, err := c.TxLocation(hash)
	if err != nil {
		return nil, err
	}
	rs, err := c.Receipts(h)
	if err != nil {
		return nil, err
	}
	leaves := make([][]byte, len(rs))
	for k, r := range rs {
		leaves[k] = r.Encode()
	}
	branch, err := merkle.Prove(c.suite.Hash, leaves, int(i))
	if err != nil {
		return nil, err
	}
	hdr, err := c.readHeader(h)
	if err != nil {
		return nil, err
	}
	p := &proof.Receipt{Receipt: leaves[i], Branch: branch, Header: hdr.Encode()}
	if cert, err := c.Certificate(h); err == nil {
		p.Certificate = cert.Encode()
	}
	return p, nil
}

// CallResult is the outcome of a read-only call.
type CallResult struct {
	Status  types.Status
	Output  []byte
	GasUsed uint64
	Logs    []*types.Log
}

// Call runs a transaction-like call against the head state and discards
// its writes. from is taken as the caller without a signature.
func (c *Chain) Call(from common.Address, to *common.Address, data []byte, gas uint64) (*CallResult, error) {
	if gas == 0 {
		gas = c.Config().TxGasLimit
	}
	head := c.Head()
	bc := &exec.BlockContext{ChainID: c.genesis.ChainID, Height: head.Height + 1, Timestamp: head.Timestamp, Suite: c.suite}
	tx := &types.Tx{ChainID: c.genesis.ChainID, To: to, Gas: gas, Data: data}
	r, err := c.exec.ApplyTx(bc, state.NewBlock(c.StateReader()), tx, from)
	if err != nil {
		return nil, err
	}
	return &CallResult{Status: r.Status, Output: r.Output, GasUsed: r.GasUsed, Logs: r.Logs}, nil
}
