package chain

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/merkle"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
)

// Executed is a block with the results of executing it, ready to commit.
type Executed struct {
	Block    *types.Block
	Receipts []*types.Receipt
	Changes  []state.Change
	Senders  []common.Address
}

// Rejected is a candidate transaction Build left out, with the reason.
type Rejected struct {
	Tx  *types.Tx
	Err error
}

// Proposal says who proposes the next block, in which round, at what time.
type Proposal struct {
	Proposer    common.Address
	Round       uint64
	TimestampMs uint64
}

// Build assembles and executes the block after the head from candidates in
// order, leaving out (and returning) those that are not valid for inclusion.
// Candidates must have their senders cached (the pool verified them).
func (c *Chain) Build(cands []*types.Tx, p Proposal) (*Executed, []Rejected, error) {
	if err := c.Halted(); err != nil {
		return nil, nil, err
	}
	parent := c.Head()
	cfg := c.Config()
	var txs []*types.Tx
	var senders []common.Address
	var rejected []Rejected
	var gas uint64
	seen := make(map[common.Hash]bool, len(cands))
	for _, tx := range cands {
		if uint64(len(txs)) >= cfg.BlockTxLimit || gas+tx.Gas > cfg.BlockGasLimit {
			break
		}
		sender, err := c.admissible(tx, parent.Height, cfg, seen)
		if err != nil {
			rejected = append(rejected, Rejected{tx, err})
			continue
		}
		seen[tx.Nonce] = true
		txs, senders, gas = append(txs, tx), append(senders, sender), gas+tx.Gas
	}
	ts := max(p.TimestampMs, parent.Timestamp)
	e, err := c.execute(parent, txs, senders, p.Proposer, p.Round, ts)
	return e, rejected, err
}

// admissible checks one candidate; cfg is read once per block, not per
// transaction (each read is six state lookups).
func (c *Chain) admissible(tx *types.Tx, head uint64, cfg system.Config, seen map[common.Hash]bool) (common.Address, error) {
	if err := c.CheckTx(tx, head, cfg); err != nil {
		return common.Address{}, err
	}
	if seen[tx.Nonce] {
		return common.Address{}, fmt.Errorf("%w: twice in one block", ErrNonceUsed)
	}
	return tx.Sender(c.suite)
}

// execute runs txs over the head state and assembles the header.
func (c *Chain) execute(parent *types.Header, txs []*types.Tx, senders []common.Address,
	proposer common.Address, round, ts uint64) (*Executed, error) {
	height := parent.Height + 1
	bc := &exec.BlockContext{ChainID: c.genesis.ChainID, Height: height, Timestamp: ts, Proposer: proposer, Suite: c.suite}
	// The block reads its state through one snapshot: a read on the
	// database sets up a view of its own, which costs more than the read,
	// and parallel workers would queue for it.
	snap, err := c.db.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("execute block %d: %w", height, err)
	}
	defer snap.Release()
	blk := state.NewBlock(c.stateAt(parent.Height, snap))
	curVals := blk.Get([]byte(KeyValidators))
	receipts, err := c.runTxs(bc, blk, txs, senders)
	if err != nil {
		return nil, fmt.Errorf("execute block %d: %w", height, err)
	}
	changes := blk.Changes()
	h := &types.Header{
		ChainID: c.genesis.ChainID, Height: height, ParentHash: parent.Hash(c.suite), Timestamp: ts,
		TxCount: uint64(len(txs)), TxRoot: c.txRoot(txs), ReceiptRoot: c.receiptRoot(receipts),
		StateRoot: state.NextRoot(c.suite.Hash, parent.StateRoot, changes), GasUsed: gasUsed(receipts),
		Proposer: proposer, Round: round,
		ValidatorsHash: c.suite.Hash(curVals), NextValidatorsHash: c.suite.Hash(blk.Get([]byte(KeyValidators))),
	}
	return &Executed{Block: &types.Block{Header: h, Txs: txs}, Receipts: receipts, Changes: changes, Senders: senders}, nil
}

func (c *Chain) txRoot(txs []*types.Tx) common.Hash {
	leaves := make([][]byte, len(txs))
	for i, tx := range txs {
		leaves[i] = tx.Encode()
	}
	return merkle.Root(c.suite.Hash, leaves)
}

func (c *Chain) receiptRoot(rs []*types.Receipt) common.Hash {
	leaves := make([][]byte, len(rs))
	for i, r := range rs {
		leaves[i] = r.Encode()
	}
	return merkle.Root(c.suite.Hash, leaves)
}

func gasUsed(rs []*types.Receipt) uint64 {
	var g uint64
	for _, r := range rs {
		g += r.GasUsed
	}
	return g
}

// Verify checks a block proposed by someone else: its place after the
// head, every transaction's validity and signature (on all cores), and every
// header field against a re-execution. It returns the execution to commit.
func (c *Chain) Verify(b *types.Block) (*Executed, error) {
	if err := c.Halted(); err != nil {
		return nil, err
	}
	parent := c.Head()
	if err := c.checkPlacement(parent, b); err != nil {
		return nil, err
	}
	senders, err := c.checkTxs(parent.Height, b.Txs)
	if err != nil {
		return nil, err
	}
	h := b.Header
	e, err := c.execute(parent, b.Txs, senders, h.Proposer, h.Round, h.Timestamp)
	if err != nil {
		return nil, err
	}
	if got := e.Block.Header.Hash(c.suite); got != h.Hash(c.suite) {
		return nil, fmt.Errorf("%w: re-execution gives header %x (state root %x), proposal says %x (state root %x)",
			ErrBadBlock, got[:6], e.Block.Header.StateRoot[:6], h.Hash(c.suite).Bytes()[:6], h.StateRoot[:6])
	}
	e.Block = b
	return e, nil
}

func (c *Chain) checkPlacement(parent *types.Header, b *types.Block) error {
	h := b.Header
	switch {
	case h.ChainID != c.genesis.ChainID:
		return fmt.Errorf("%w: chain %q", ErrBadBlock, h.ChainID)
	case h.Height != parent.Height+1:
		return fmt.Errorf("%w: height %d after head %d", ErrBadBlock, h.Height, parent.Height)
	case h.ParentHash != parent.Hash(c.suite):
		return fmt.Errorf("%w: parent %x is not the head", ErrBadBlock, h.ParentHash[:6])
	case h.Timestamp < parent.Timestamp:
		return fmt.Errorf("%w: timestamp %d before parent's %d", ErrBadBlock, h.Timestamp, parent.Timestamp)
	}
	return nil
}

func (c *Chain) checkTxs(head uint64, txs []*types.Tx) ([]common.Address, error) {
	cfg := c.Config()
	if uint64(len(txs)) > cfg.BlockTxLimit {
		return nil, fmt.Errorf("%w: %d transactions, limit %d", ErrBadBlock, len(txs), cfg.BlockTxLimit)
	}
	seen := make(map[common.Hash]bool, len(txs))
	var gas uint64
	for i, tx := range txs {
		if err := c.CheckTx(tx, head, cfg); err != nil {
			return nil, fmt.Errorf("%w: tx %d: %v", ErrBadBlock, i, err)
		}
		if seen[tx.Nonce] {
			return nil, fmt.Errorf("%w: tx %d repeats a nonce", ErrBadBlock, i)
		}
		seen[tx.Nonce], gas = true, gas+tx.Gas
	}
	if gas > cfg.BlockGasLimit {
		return nil, fmt.Errorf("%w: declared gas %d over limit %d", ErrBadBlock, gas, cfg.BlockGasLimit)
	}
	senders, errs := Senders(c.suite, txs)
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("%w: tx %d: %v", ErrBadBlock, i, err)
		}
	}
	return senders, nil
}

// ParallelMinTxs is the block size from which execution uses the DAG
// scheduler; below it the goroutine hand-off costs more than it saves.
const ParallelMinTxs = 64

func (c *Chain) runTxs(bc *exec.BlockContext, blk *state.Block, txs []*types.Tx, senders []common.Address) ([]*types.Receipt, error) {
	if len(txs) < ParallelMinTxs {
		return c.exec.ExecuteSerial(bc, blk, txs, senders)
	}
	return c.exec.ExecuteParallel(bc, blk, txs, senders, 0)
}
