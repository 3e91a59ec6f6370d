package chain

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/storage"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
)

// Inclusion errors, each with its own API error code.
var (
	ErrBlockLimitExpired = errors.New("block limit expired")
	ErrBlockLimitTooFar  = errors.New("block limit too far ahead")
	ErrNonceUsed         = errors.New("nonce already used within the window")
	ErrGasTooLow         = errors.New("gas below intrinsic cost")
	ErrGasTooHigh        = errors.New("gas above the transaction gas limit")
)

// CheckTx checks everything about tx that does not need its signature for
// inclusion in the block after head under cfg: chain id, size, gas bounds,
// the block-limit window and committed nonces.
func (c *Chain) CheckTx(tx *types.Tx, head uint64, cfg system.Config) error {
	if err := CheckTxStatic(c.genesis.ChainID, tx, cfg); err != nil {
		return err
	}
	if err := CheckBlockLimit(tx.BlockLimit, head, cfg.TxWindow); err != nil {
		return err
	}
	c.mu.RLock()
	used := c.nonces.has(tx.Nonce)
	c.mu.RUnlock()
	if used {
		return fmt.Errorf("%w: %x", ErrNonceUsed, tx.Nonce[:8])
	}
	return nil
}

// CheckTxStatic checks what does not depend on the chain's history.
func CheckTxStatic(chainID string, tx *types.Tx, cfg system.Config) error {
	if tx.ChainID != chainID {
		return fmt.Errorf("%w: transaction for %q sent to %q", types.ErrWrongChain, tx.ChainID, chainID)
	}
	if n := uint64(tx.Size()); n > cfg.MaxTxBytes {
		return fmt.Errorf("%w: %d bytes, limit %d", types.ErrTxTooLarge, n, cfg.MaxTxBytes)
	}
	if g := exec.IntrinsicGas(tx.Data); tx.Gas < g {
		return fmt.Errorf("%w: gas %d, intrinsic %d", ErrGasTooLow, tx.Gas, g)
	}
	if tx.Gas > cfg.TxGasLimit {
		return fmt.Errorf("%w: gas %d, limit %d", ErrGasTooHigh, tx.Gas, cfg.TxGasLimit)
	}
	return nil
}

// CheckBlockLimit enforces head < blockLimit <= head + window.
func CheckBlockLimit(blockLimit, head, window uint64) error {
	if blockLimit <= head {
		return fmt.Errorf("%w: block limit %d, head %d", ErrBlockLimitExpired, blockLimit, head)
	}
	if blockLimit > head+window {
		return fmt.Errorf("%w: block limit %d, head %d, window %d", ErrBlockLimitTooFar, blockLimit, head, window)
	}
	return nil
}

// Senders authenticates every transaction's signature on all cores and
// returns the senders; errs[i] is non-nil for a bad signature.
func Senders(s crypto.Suite, txs []*types.Tx) ([]common.Address, []error) {
	senders := make([]common.Address, len(txs))
	errs := make([]error, len(txs))
	workers := min(runtime.GOMAXPROCS(0), len(txs))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(txs); i += workers {
				senders[i], errs[i] = txs[i].Sender(s)
			}
		}(w)
	}
	wg.Wait()
	return senders, errs
}

// nonceSet holds committed nonces whose block limit is still ahead of the
// head: only those can be replayed. Buckets by block limit make pruning
// proportional to what expires.
type nonceSet struct {
	all     map[common.Hash]struct{}
	buckets map[uint64][]common.Hash
	pruned  uint64 // every bucket <= pruned is gone
}

func newNonceSet() *nonceSet {
	return &nonceSet{all: make(map[common.Hash]struct{}), buckets: make(map[uint64][]common.Hash)}
}

func (n *nonceSet) has(nonce common.Hash) bool { _, ok := n.all[nonce]; return ok }

func (n *nonceSet) add(nonce common.Hash, blockLimit uint64) {
	if blockLimit <= n.pruned {
		return
	}
	n.all[nonce] = struct{}{}
	n.buckets[blockLimit] = append(n.buckets[blockLimit], nonce)
}

// prune drops nonces whose block limit is <= head.
func (n *nonceSet) prune(head uint64) {
	for h := n.pruned + 1; h <= head; h++ {
		for _, x := range n.buckets[h] {
			delete(n.all, x)
		}
		delete(n.buckets, h)
	}
	if head > n.pruned {
		n.pruned = head
	}
}

// loadNonces rebuilds the set from the nonce records whose block limit is
// still ahead of the head.
func (c *Chain) loadNonces() error {
	head := c.head.Height
	c.nonces.pruned = head
	return c.db.Iterate(storage.PrefixNonce, storage.NonceKeyFrom(head+1), func(k, _ []byte) error {
		limit, nonce, err := storage.DecodeNonceKey(k)
		if err != nil {
			return err
		}
		c.nonces.add(nonce, limit)
		return nil
	})
}
