package chain

import (
	"fmt"

	"github.com/tallyhq/tally/engine/storage"
	"github.com/tallyhq/tally/engine/types"
)

// Commit writes an executed block with its certificate in one atomic,
// durable batch and advances the head. If the write fails the chain halts.
func (c *Chain) Commit(e *Executed, cert *types.Certificate) error {
	if err := c.Halted(); err != nil {
		return err
	}
	h := e.Block.Header
	head := c.Head()
	if h.Height != head.Height+1 || h.ParentHash != head.Hash(c.suite) {
		return fmt.Errorf("%w: commit of %d/%x does not extend head %d", ErrBadBlock, h.Height, h.Hash(c.suite).Bytes()[:6], head.Height)
	}
	if cert != nil && (cert.Height != h.Height || cert.BlockHash != h.Hash(c.suite)) {
		return fmt.Errorf("%w: certificate is for another block", ErrBadBlock)
	}
	b, err := c.blockBatch(e, cert)
	if err == nil {
		err = b.Commit()
	}
	if err != nil {
		if c.cache != nil {
			c.cache.Invalidate() // the database's state is in doubt
		}
		return c.halt(fmt.Errorf("commit block %d: %w", h.Height, err))
	}
	if c.cache != nil {
		c.cache.Apply(h.Height, e.Changes) // before the head moves: the next block reads through it
	}
	c.advance(e)
	return nil
}

func (c *Chain) blockBatch(e *Executed, cert *types.Certificate) (storage.Batch, error) {
	h := e.Block.Header
	hash := h.Hash(c.suite)
	b := c.db.NewBatch()
	puts := [][2][]byte{
		{storage.HeaderKey(h.Height), h.Encode()},
		{storage.BodyKey(h.Height), types.EncodeTxs(e.Block.Txs)},
		{storage.ReceiptsKey(h.Height), types.EncodeReceipts(e.Receipts)},
		{storage.HashKey(hash), storage.EncodeHeight(h.Height)},
		{storage.KeyHead, storage.EncodeHead(h.Height, hash)},
	}
	if cert != nil {
		puts = append(puts, [2][]byte{storage.CertKey(h.Height), cert.Encode()})
	}
	for i, tx := range e.Block.Txs {
		th := tx.Hash(c.suite)
		puts = append(puts, [2][]byte{storage.TxKey(th), storage.EncodeTxLoc(h.Height, uint32(i))},
			[2][]byte{storage.NonceKey(tx.BlockLimit, tx.Nonce), {1}})
	}
	for _, p := range puts {
		if err := b.Put(p[0], p[1]); err != nil {
			b.Discard()
			return nil, err
		}
	}
	if err := putChanges(b, e.Changes); err != nil {
		b.Discard()
		return nil, err
	}
	return b, nil
}

func (c *Chain) halt(err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.halted = fmt.Errorf("%w: %v", ErrHalted, err)
	c.log.Error("durable write failed; chain halted", "err", err)
	return c.halted
}

func (c *Chain) advance(e *Executed) {
	h := e.Block.Header
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, tx := range e.Block.Txs {
		c.nonces.add(tx.Nonce, tx.BlockLimit)
	}
	c.nonces.prune(h.Height)
	c.head = h
	close(c.headSig)
	c.headSig = make(chan struct{})
}

// SetCertificate stores a certificate for an already committed block (Raft
// collects signatures after commit). It must certify the stored header.
func (c *Chain) SetCertificate(cert *types.Certificate) error {
	h, err := c.HeaderByHeight(cert.Height)
	if err != nil {
		return err
	}
	if cert.BlockHash != h.Hash(c.suite) {
		return fmt.Errorf("%w: certificate is for another block", ErrBadBlock)
	}
	b := c.db.NewBatch()
	if err := b.Put(storage.CertKey(cert.Height), cert.Encode()); err != nil {
		return err
	}
	if err := b.Commit(); err != nil {
		return c.halt(err)
	}
	return nil
}
