package txpool

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
)

// Errors callers test for.
var (
	ErrFull       = errors.New("transaction pool is full; retry later")
	ErrKnown      = errors.New("transaction already in the pool")
	ErrNonceInUse = errors.New("another pending transaction uses this nonce")
)

// Chain is what the pool needs of the chain.
type Chain interface {
	ID() string
	Suite() crypto.Suite
	Head() *types.Header
	Config() system.Config
	CheckTx(tx *types.Tx, head uint64, cfg system.Config) error
}

// Config bounds the pool.
type Config struct {
	// MaxTxs is the most transactions held at once.
	MaxTxs int `toml:"max_txs"`
	// MaxBytes is the most canonical bytes held at once.
	MaxBytes int `toml:"max_bytes"`
	// RegossipMs is how long a transaction a client submitted to this node
	// may wait in its pool before the node gossips it to the other
	// validators again (and again after each such period, until it is
	// committed or expires): a gossip sent while this node was cut off,
	// or lost on the way, would otherwise leave the transaction here, where
	// a follower never proposes it. 0 takes the default, -1 turns it off.
	RegossipMs int `toml:"regossip_ms"`
}

// DefaultRegossip is the re-gossip period when RegossipMs is 0.
const DefaultRegossip = 2 * time.Second

// RegossipBatch is the most transactions one re-gossip sends.
const RegossipBatch = 2048

// DefaultConfig holds about ten seconds of load at 20k tx/s.
func DefaultConfig() Config { return Config{MaxTxs: 200_000, MaxBytes: 256 << 20} }

// Validate checks the bounds.
func (c Config) Validate() error {
	if c.MaxTxs <= 0 || c.MaxBytes <= 0 {
		return fmt.Errorf("txpool: max_txs and max_bytes must be positive, got %d and %d", c.MaxTxs, c.MaxBytes)
	}
	if c.RegossipMs < -1 || c.RegossipMs > 600_000 {
		return fmt.Errorf("txpool: regossip_ms %d out of range [-1 (off), 600000]", c.RegossipMs)
	}
	return nil
}

// Regossip is the re-gossip period, 0 when it is off.
func (c Config) Regossip() time.Duration {
	switch {
	case c.RegossipMs < 0:
		return 0
	case c.RegossipMs == 0:
		return DefaultRegossip
	}
	return time.Duration(c.RegossipMs) * time.Millisecond
}

// Pool is the transaction pool. It is safe for concurrent use.
type Pool struct {
	chain Chain
	cfg   Config

	mu      sync.Mutex
	queue   []*types.Tx // FIFO; nil slots are removed entries
	head    int         // first live slot
	holes   int
	byHash  map[common.Hash]int // index into queue
	byNonce map[common.Hash]common.Hash
	bytes   int
	wake    chan struct{} // closed and replaced when transactions arrive
	gossip  func([]*types.Tx)
	// local holds the pending transactions clients submitted here (while
	// gossip is set), with when they were last gossiped; localQ lists the
	// same in the order of those times (with stale entries, skipped), so a
	// re-gossip round looks only at what is due, however full the pool.
	local  map[common.Hash]time.Time
	localQ []gossiped
	localH int // localQ's first live entry
}

// gossiped is a local transaction's gossip at a time.
type gossiped struct {
	hash common.Hash
	at   time.Time
}

// SetGossip installs fn, called with the transactions AddRaw admitted from
// clients, so that they reach the other validators (who admit them with
// AddRemote, which does not gossip again).
func (p *Pool) SetGossip(fn func([]*types.Tx)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gossip = fn
}

// AddRemote admits encoded transactions relayed by a peer.
func (p *Pool) AddRemote(raws [][]byte) []Result {
	txs := make([]*types.Tx, len(raws))
	res := make([]Result, len(raws))
	for i, raw := range raws {
		txs[i], res[i].Err = types.DecodeTx(raw)
	}
	p.add(txs, res)
	return res
}

// New makes a pool for chain.
func New(c Chain, cfg Config) *Pool {
	return &Pool{chain: c, cfg: cfg, byHash: make(map[common.Hash]int),
		byNonce: make(map[common.Hash]common.Hash), wake: make(chan struct{}),
		local: make(map[common.Hash]time.Time)}
}

// Result is the outcome of adding one transaction.
type Result struct {
	Hash common.Hash
	Err  error
}

// AddRaw decodes, validates, verifies and admits a batch of encoded
// transactions from clients. Signatures of the batch are verified in
// parallel; what is admitted is gossiped to the other validators.
func (p *Pool) AddRaw(raws [][]byte) []Result {
	txs := make([]*types.Tx, len(raws))
	res := make([]Result, len(raws))
	for i, raw := range raws {
		txs[i], res[i].Err = types.DecodeTx(raw)
	}
	p.add(txs, res)
	now := time.Now()
	var ok []*types.Tx
	p.mu.Lock()
	gossip := p.gossip
	if gossip != nil {
		for i, r := range res {
			if r.Err == nil {
				ok = append(ok, txs[i])
				if _, pending := p.byHash[r.Hash]; pending { // not taken by a block already
					p.markGossiped(r.Hash, now)
				}
			}
		}
	}
	p.mu.Unlock()
	if len(ok) > 0 {
		gossip(ok)
	}
	return res
}

// Regossip gossips again, in one batch of at most RegossipBatch, the
// pending transactions clients submitted here that were last gossiped at
// least the configured period before now, and reports how many it sent.
// The node calls it a few times a period. The validators that have a
// transaction already drop it cheaply (it is known by its hash); the
// others admit it as they would any gossip.
func (p *Pool) Regossip(now time.Time) int {
	every := p.cfg.Regossip()
	p.mu.Lock()
	gossip := p.gossip
	if gossip == nil || every == 0 {
		p.mu.Unlock()
		return 0
	}
	var due []*types.Tx
	for p.localH < len(p.localQ) && len(due) < RegossipBatch {
		e := p.localQ[p.localH]
		if last, ok := p.local[e.hash]; !ok || !last.Equal(e.at) {
			p.localH++ // gone from the pool, or gossiped again since
			continue
		}
		if now.Sub(e.at) < every {
			break // the rest were gossiped later still
		}
		p.localH++
		p.markGossiped(e.hash, now)
		due = append(due, p.queue[p.byHash[e.hash]])
	}
	if p.localH > len(p.localQ)/2 { // drop the consumed half
		p.localQ = append(p.localQ[:0], p.localQ[p.localH:]...)
		p.localH = 0
	}
	p.mu.Unlock()
	if len(due) > 0 {
		gossip(due)
	}
	return len(due)
}

// markGossiped records that the local transaction hash was gossiped at
// now. The caller holds p.mu.
func (p *Pool) markGossiped(hash common.Hash, now time.Time) {
	p.local[hash] = now
	p.localQ = append(p.localQ, gossiped{hash, now})
}

// Add admits already decoded transactions (their cached senders are trusted
// only if they were computed by Sender, which verifies).
func (p *Pool) Add(txs []*types.Tx) []Result {
	res := make([]Result, len(txs))
	p.add(txs, res)
	return res
}

func (p *Pool) add(txs []*types.Tx, res []Result) {
	head, cfg, s := p.chain.Head().Height, p.chain.Config(), p.chain.Suite()
	var todo []*types.Tx
	var idx []int
	for i, tx := range txs {
		if res[i].Err != nil {
			continue
		}
		res[i].Hash = tx.Hash(s)
		if res[i].Err = p.precheck(tx, res[i].Hash, head, cfg); res[i].Err == nil {
			todo, idx = append(todo, tx), append(idx, i)
		}
	}
	_, errs := chain.Senders(s, todo)
	admitted := 0
	for k, tx := range todo {
		i := idx[k]
		if res[i].Err = errs[k]; res[i].Err == nil {
			if res[i].Err = p.admit(tx, res[i].Hash); res[i].Err == nil {
				admitted++
			}
		}
	}
	if admitted > 0 {
		p.signal()
	}
}

// precheck runs the cheap checks before the signature.
func (p *Pool) precheck(tx *types.Tx, hash common.Hash, head uint64, cfg system.Config) error {
	if err := p.chain.CheckTx(tx, head, cfg); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conflict(tx, hash)
}

func (p *Pool) conflict(tx *types.Tx, hash common.Hash) error {
	if _, ok := p.byHash[hash]; ok {
		return ErrKnown
	}
	if _, ok := p.byNonce[tx.Nonce]; ok {
		return ErrNonceInUse
	}
	if len(p.byHash) >= p.cfg.MaxTxs || p.bytes+tx.Size() > p.cfg.MaxBytes {
		return ErrFull
	}
	return nil
}

func (p *Pool) admit(tx *types.Tx, hash common.Hash) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.conflict(tx, hash); err != nil { // re-check: others may have raced us
		return err
	}
	p.byHash[hash] = len(p.queue)
	p.byNonce[tx.Nonce] = hash
	p.queue = append(p.queue, tx)
	p.bytes += tx.Size()
	return nil
}

func (p *Pool) signal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	close(p.wake)
	p.wake = make(chan struct{})
}

// Wait returns a channel closed when transactions next arrive.
func (p *Pool) Wait() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.wake
}

// Len is the number of pending transactions.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.byHash)
}

// Lookup returns the pending transaction with hash, or nil. Its sender is
// already verified and cached.
func (p *Pool) Lookup(hash common.Hash) *types.Tx {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i, ok := p.byHash[hash]; ok {
		return p.queue[i]
	}
	return nil
}

// Has reports whether hash is pending.
func (p *Pool) Has(hash common.Hash) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.byHash[hash]
	return ok
}

// Pending returns up to max transactions in arrival order, without removing them.
func (p *Pool) Pending(limit int) []*types.Tx {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*types.Tx, 0, min(max(limit, 0), len(p.byHash)))
	for i := p.head; i < len(p.queue) && len(out) < limit; i++ {
		if p.queue[i] != nil {
			out = append(out, p.queue[i])
		}
	}
	return out
}

// Remove drops transactions (committed, or rejected by the block builder).
func (p *Pool) Remove(txs []*types.Tx) {
	s := p.chain.Suite()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, tx := range txs {
		p.removeLocked(tx.Hash(s))
	}
	p.compact()
}

func (p *Pool) removeLocked(hash common.Hash) {
	i, ok := p.byHash[hash]
	if !ok {
		return
	}
	tx := p.queue[i]
	delete(p.byHash, hash)
	delete(p.local, hash)
	delete(p.byNonce, tx.Nonce)
	p.bytes -= tx.Size()
	p.queue[i] = nil
	p.holes++
}

// Evict drops transactions whose block limit has passed head.
func (p *Pool) Evict(head uint64) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for h, i := range p.byHash {
		if p.queue[i].BlockLimit <= head {
			p.removeLocked(h)
			n++
		}
	}
	p.compact()
	return n
}

// compact drops leading holes, and rebuilds the queue when holes dominate.
func (p *Pool) compact() {
	for p.head < len(p.queue) && p.queue[p.head] == nil {
		p.head++
		p.holes--
	}
	if p.holes < 1024 || p.holes*2 < len(p.queue)-p.head {
		if p.head == len(p.queue) {
			p.queue, p.head, p.holes = p.queue[:0], 0, 0
		}
		return
	}
	live := make([]*types.Tx, 0, len(p.byHash))
	for i := p.head; i < len(p.queue); i++ {
		if tx := p.queue[i]; tx != nil {
			p.byHash[tx.Hash(p.chain.Suite())] = len(live)
			live = append(live, tx)
		}
	}
	p.queue, p.head, p.holes = live, 0, 0
}
