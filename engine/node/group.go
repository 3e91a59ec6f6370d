package node

import (
	"github.com/ethereum/go-ethereum/common"
	hraft "github.com/hashicorp/raft"
	craft "github.com/tallyhq/tally/engine/consensus/raft"
	"strings"

	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/consensus/solo"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/storage"
	"github.com/tallyhq/tally/engine/txpool"
	"github.com/tallyhq/tally/engine/types"
)

// Group is one hosted chain with its pool and consensus driver.
type Group struct {
	node  *Node
	cfg   ChainConfig
	chain *chain.Chain
	pool  *txpool.Pool
	key   crypto.PrivateKey
	db    storage.DB
	log   *slog.Logger
	solo  *solo.Solo
	pbft  *pbftDriver
	raft  *raftDriver
}

func newGroup(n *Node, cc ChainConfig, gen *chain.Genesis, key crypto.PrivateKey, db storage.DB) (*Group, error) {
	if key.Suite().Name() != gen.Suite {
		return nil, fmt.Errorf("chain %s uses suite %s but key %s is %s", gen.ChainID, gen.Suite, cc.KeyFile, key.Suite().Name())
	}
	c, err := chain.Open(db, gen, n.opts.Executor(gen), n.log, chain.WithStateCache(cc.StateCacheBytes()))
	if err != nil {
		return nil, fmt.Errorf("chain %s: %w", gen.ChainID, err)
	}
	g := &Group{node: n, cfg: cc, chain: c, pool: txpool.New(c, cc.Pool), key: key, db: db, log: n.log.With("chain", gen.ChainID)}
	switch gen.Consensus {
	case chain.ConsensusSolo:
		vs, _ := gen.ValidatorSet(c.Suite())
		if !vs.Contains(key.Address()) {
			return nil, fmt.Errorf("chain %s: %w (key %s)", gen.ChainID, errNotValidator, key.Address())
		}
		g.solo = solo.New(cc.Solo)
	case chain.ConsensusPBFT:
		if n.opts.Network == nil {
			return nil, fmt.Errorf("chain %s runs PBFT: the node needs a network (p2p peers, or an in-process LoopNet)", gen.ChainID)
		}
		// A key outside the current set follows the chain by block sync
		// and starts voting once a set that includes it is committed.
		var err error
		if g.pbft, err = newPBFTDriver(g, n.opts.Network); err != nil {
			return nil, fmt.Errorf("chain %s: %w", gen.ChainID, err)
		}
	case chain.ConsensusRaft:
		if n.opts.Network == nil {
			return nil, fmt.Errorf("chain %s runs Raft: the node needs a network (p2p peers, or an in-process LoopNet)", gen.ChainID)
		}
		var err error
		if g.raft, err = newRaftDriver(g, n.opts.Network); err != nil {
			return nil, fmt.Errorf("chain %s: %w", gen.ChainID, err)
		}
	default:
		return nil, fmt.Errorf("chain %s: consensus %q is not available in this build", gen.ChainID, gen.Consensus)
	}
	return g, nil
}

// Chain is the group's chain.
func (g *Group) Chain() *chain.Chain { return g.chain }

// Pool is the group's transaction pool.
func (g *Group) Pool() *txpool.Pool { return g.pool }

// run drives the chain's consensus until ctx ends.
func (g *Group) run(ctx context.Context) {
	if g.pbft == nil && g.raft == nil {
		g.runSolo(ctx)
		return
	}
	done := make(chan struct{})
	go func() { defer close(done); g.regossip(ctx) }()
	defer func() { <-done }()
	if g.pbft != nil {
		g.pbft.run(ctx)
	} else {
		g.raft.run(ctx)
	}
}

// regossip has the pool gossip again, until ctx ends, the transactions
// clients submitted here that wait longer than the pool's re-gossip period
// (see txpool.Config.RegossipMs).
func (g *Group) regossip(ctx context.Context) {
	every := g.cfg.Pool.Regossip()
	if every == 0 {
		return
	}
	tick := time.NewTicker(max(every/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			if n := g.pool.Regossip(now); n > 0 {
				g.node.metrics.regossiped.WithLabelValues(g.chain.ID()).Add(float64(n))
				g.log.Debug("gossiped waiting transactions again", "txs", n)
			}
		}
	}
}

// runSolo drives solo sealing: on every tick, and whenever arrivals fill a batch.
func (g *Group) runSolo(ctx context.Context) {
	tick := time.NewTicker(g.cfg.Tick())
	defer tick.Stop()
	for {
		arrived := g.pool.Wait()
		var due bool
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			due = g.solo.Tick(g.pool.Len())
		case <-arrived:
			due = g.solo.Arrived(g.pool.Len())
		}
		if due && !g.seal() {
			return
		}
	}
}

// seal builds, certifies and commits one block; false means the node must stop.
func (g *Group) seal() bool {
	start := time.Now()
	cands := g.pool.Pending(int(g.chain.Config().BlockTxLimit))
	e, rejected, err := g.chain.Build(cands, chain.Proposal{Proposer: g.key.Address(), TimestampMs: uint64(start.UnixMilli())})
	if err != nil {
		return g.stop(err)
	}
	g.dropRejected(rejected)
	if len(e.Block.Txs) == 0 {
		g.solo.Sealed()
		return true // every candidate was invalid: no empty block
	}
	cert, err := g.certify(e.Block.Header)
	if err == nil {
		err = g.chain.Commit(e, cert)
	}
	if err != nil {
		return g.stop(err)
	}
	g.pool.Remove(e.Block.Txs)
	g.solo.Sealed()
	h := e.Block.Header
	if h.Height%16 == 0 {
		g.pool.Evict(h.Height)
	}
	g.node.metrics.committed(g.chain.ID(), len(e.Block.Txs), time.Since(start), g.pool.Len(), h.Height)
	g.log.Debug("sealed", "height", h.Height, "txs", len(e.Block.Txs), "took", time.Since(start))
	return true
}

func (g *Group) dropRejected(rej []chain.Rejected) {
	if len(rej) == 0 {
		return
	}
	txs := make([]*types.Tx, len(rej))
	for i, r := range rej {
		txs[i] = r.Tx
	}
	g.pool.Remove(txs)
	g.log.Debug("dropped invalid transactions", "count", len(rej), "first", rej[0].Err)
}

// certify signs the header: solo's one-signature finality certificate.
func (g *Group) certify(h *types.Header) (*types.Certificate, error) {
	hash := h.Hash(g.chain.Suite())
	sig, err := g.key.Sign(types.CommitDigest(g.chain.Suite(), h.ChainID, h.Height, h.Round, hash))
	if err != nil {
		return nil, err
	}
	return &types.Certificate{ChainID: h.ChainID, Height: h.Height, Round: h.Round, BlockHash: hash,
		Votes: []types.Vote{{Signer: g.key.Address(), Sig: sig}}}, nil
}

func (g *Group) stop(err error) bool {
	g.log.Error("chain stopped", "err", err)
	g.node.fail(fmt.Errorf("chain %s: %w", g.chain.ID(), err))
	return false
}

// IsLeader reports whether this node leads the chain's Raft group (false
// on other chains).
func (g *Group) IsLeader() bool { return g.raft != nil && g.raft.r.State() == hraft.Leader }

// RaftVoters lists the voters of the chain's Raft configuration (nil on
// other chains, or while the configuration cannot be read).
func (g *Group) RaftVoters() []common.Address {
	if g.raft == nil {
		return nil
	}
	f := g.raft.r.GetConfiguration()
	if f.Error() != nil {
		return nil
	}
	var out []common.Address
	for _, s := range f.Configuration().Servers {
		if a, err := craft.AddressOf(string(s.ID)); err == nil && s.Suffrage == hraft.Voter {
			out = append(out, a)
		}
	}
	return out
}

// ConsensusRole implements api.ConsensusReporter.
func (n *Node) ConsensusRole(chainID string) (role, leader string) {
	g := n.groups[chainID]
	if g == nil {
		return "", ""
	}
	switch {
	case g.raft != nil:
		_, id := g.raft.r.LeaderWithID()
		if a, err := craft.AddressOf(string(id)); err == nil {
			leader = a.Hex()
		}
		return strings.ToLower(g.raft.r.State().String()), leader
	case g.pbft != nil:
		if g.pbft.vs.Load().Contains(g.key.Address()) {
			return "validator", ""
		}
		return "observer", ""
	default:
		return "validator", ""
	}
}
