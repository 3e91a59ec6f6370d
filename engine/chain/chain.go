package chain

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/merkle"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/storage"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
)

// State keys the chain itself owns.
const (
	KeyValidators = system.KeyValidators // canonical types.ValidatorSet certifying the next block
	KeyConsensus  = system.KeyConsensus
)

// Errors callers test for.
var (
	ErrHalted          = errors.New("chain halted after a failed durable write; restart the node")
	ErrGenesisMismatch = errors.New("database holds a different chain's genesis")
	ErrNotFound        = errors.New("not found")
	ErrBadBlock        = errors.New("invalid block")
)

// Chain is one chain's ledger. Its methods are safe for concurrent use;
// building, verifying and committing are serialized by the caller (the
// consensus driver), queries run concurrently with them.
type Chain struct {
	db      storage.DB
	suite   crypto.Suite
	genesis *Genesis
	exec    *exec.Executor
	log     *slog.Logger

	genesisHeader  *types.Header
	genesisChanges []state.Change

	// cache holds recently read and written state of the head for block
	// execution (nil: off); Commit keeps it at the head.
	cache *state.Cache

	mu      sync.RWMutex
	head    *types.Header
	nonces  *nonceSet
	halted  error
	headSig chan struct{} // closed and replaced on every commit
}

// DefaultStateCacheBytes bounds a chain's state cache unless
// WithStateCache says otherwise.
const DefaultStateCacheBytes = 64 << 20

// Option adjusts a chain at Open.
type Option func(*Chain)

// WithStateCache bounds the chain's state cache to about maxBytes; 0 or
// less turns it off (every state read of a block goes to the database).
func WithStateCache(maxBytes int64) Option {
	return func(c *Chain) {
		c.cache = nil
		if maxBytes > 0 {
			c.cache = state.NewCache(maxBytes)
		}
	}
}

// Open opens db for gen, writing the genesis block on first start.
func Open(db storage.DB, gen *Genesis, x *exec.Executor, log *slog.Logger, opts ...Option) (*Chain, error) {
	if err := gen.Validate(); err != nil {
		return nil, err
	}
	c := &Chain{db: db, suite: gen.SuiteOf(), genesis: gen, exec: x, nonces: newNonceSet(),
		log: log.With("chain", gen.ChainID), headSig: make(chan struct{}),
		cache: state.NewCache(DefaultStateCacheBytes)}
	for _, o := range opts {
		o(c)
	}
	changes, err := gen.changes(x)
	if err != nil {
		return nil, err // a setup call fails: say so before touching the database
	}
	c.genesisChanges, c.genesisHeader = changes, c.buildGenesisHeader(changes)
	if err := c.loadOrInit(); err != nil {
		return nil, err
	}
	if err := c.loadNonces(); err != nil {
		return nil, err
	}
	if c.cache != nil {
		c.cache.Reset(c.head.Height)
	}
	c.log.Info("chain open", "height", c.head.Height, "hash", c.head.Hash(c.suite))
	return c, nil
}

func (c *Chain) loadOrInit() error {
	height, hash, err := storage.ReadHead(c.db)
	if errors.Is(err, storage.ErrNotFound) {
		return c.writeGenesis()
	}
	if err != nil {
		return err
	}
	g, err := c.db.Get(storage.KeyGenesis)
	if err != nil {
		return fmt.Errorf("read genesis record: %w", err)
	}
	if want := c.GenesisHeader().Hash(c.suite); common.BytesToHash(g) != want {
		return fmt.Errorf("%w: stored %x, config %x", ErrGenesisMismatch, g, want)
	}
	h, err := c.readHeader(height)
	if err != nil {
		return fmt.Errorf("read head header %d: %w", height, err)
	}
	if h.Hash(c.suite) != hash {
		return fmt.Errorf("head record names %x but header %d hashes to %x", hash, height, h.Hash(c.suite))
	}
	c.head = h
	return nil
}

// GenesisHeader is the genesis block's header, computed from the document.
func (c *Chain) GenesisHeader() *types.Header { return c.genesisHeader }

func (c *Chain) buildGenesisHeader(changes []state.Change) *types.Header {
	vs, _ := c.genesis.ValidatorSet(c.suite)
	empty := merkle.EmptyRoot(c.suite.Hash)
	return &types.Header{
		ChainID: c.genesis.ChainID, Height: 0, ParentHash: c.genesis.Hash(), Timestamp: c.genesis.TimestampMs,
		TxRoot: empty, ReceiptRoot: empty, StateRoot: state.NextRoot(c.suite.Hash, common.Hash{}, changes),
		ValidatorsHash: vs.Hash(c.suite), NextValidatorsHash: vs.Hash(c.suite),
	}
}

func (c *Chain) writeGenesis() error {
	h, changes := c.genesisHeader, c.genesisChanges
	b := c.db.NewBatch()
	hash := h.Hash(c.suite)
	puts := [][2][]byte{
		{storage.KeyGenesis, hash[:]}, {storage.HeaderKey(0), h.Encode()},
		{storage.BodyKey(0), types.EncodeTxs(nil)}, {storage.ReceiptsKey(0), types.EncodeReceipts(nil)},
		{storage.HashKey(hash), storage.EncodeHeight(0)}, {storage.KeyHead, storage.EncodeHead(0, hash)},
	}
	for _, p := range puts {
		if err := b.Put(p[0], p[1]); err != nil {
			return err
		}
	}
	if err := putChanges(b, changes); err != nil {
		return err
	}
	if err := b.Commit(); err != nil {
		return fmt.Errorf("write genesis: %w", err)
	}
	c.head = h
	return nil
}

func putChanges(b storage.Batch, changes []state.Change) error {
	for _, ch := range changes {
		var err error
		if len(ch.Value) == 0 {
			err = b.Delete(storage.StateKey(ch.Key))
		} else {
			err = b.Put(storage.StateKey(ch.Key), ch.Value)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Suite is the chain's crypto suite.
func (c *Chain) Suite() crypto.Suite { return c.suite }

// ID is the chain id.
func (c *Chain) ID() string { return c.genesis.ChainID }

// Genesis is the founding document.
func (c *Chain) Genesis() *Genesis { return c.genesis }

// Executor is the chain's executor.
func (c *Chain) Executor() *exec.Executor { return c.exec }

// Head returns the committed head header.
func (c *Chain) Head() *types.Header {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.head
}

// HeadChanged returns a channel closed at the next commit.
func (c *Chain) HeadChanged() <-chan struct{} {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.headSig
}

// Halted returns the error that halted the chain, or nil.
func (c *Chain) Halted() error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.halted
}

// stateAt reads the state of height, which snap must hold, through the
// state cache when the chain has one.
func (c *Chain) stateAt(height uint64, snap storage.Reader) state.Reader {
	if c.cache == nil {
		return dbState{snap}
	}
	return c.cache.Reader(height, dbState{snap})
}

// StateCacheStats returns the state reads of block execution that went to
// the database, and the state cache's entries and approximate bytes (zeros
// when the chain has no cache).
func (c *Chain) StateCacheStats() (misses uint64, entries int, bytes int64) {
	if c.cache == nil {
		return 0, 0, 0
	}
	return c.cache.Stats()
}

// StateReader reads committed state at the head.
func (c *Chain) StateReader() state.Reader { return dbState{c.db} }

// Config reads the SystemConfig in force for the next block.
func (c *Chain) Config() system.Config { return system.ReadConfig(c.StateReader()) }

// Validators returns the set that certifies the next block.
func (c *Chain) Validators() (*types.ValidatorSet, error) {
	return types.DecodeValidatorSet(c.suite, c.StateReader().Get([]byte(KeyValidators)))
}

// dbState is the committed state as a state.Backend.
type dbState struct{ db storage.Reader }

// Get panics on a read error: execution cannot go on over a failing disk.
func (s dbState) Get(key []byte) []byte {
	v, err := s.db.Get(storage.StateKey(key))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		panic(fmt.Sprintf("chain: state read failed: %v", err))
	}
	return v
}
