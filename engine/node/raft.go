package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	hraft "github.com/hashicorp/raft"

	"github.com/tallyhq/tally/engine/chain"
	craft "github.com/tallyhq/tally/engine/consensus/raft"
	"github.com/tallyhq/tally/engine/raftnet"
	"github.com/tallyhq/tally/engine/storage/raftstore"
	"github.com/tallyhq/tally/engine/types"
)

// Payload kinds of a Raft chain's messages (beside kindTxs). Raft's own
// RPCs travel as calls, not messages.
const (
	kindRaftVote byte = 3 // a finality signature over a committed header
	kindRaftWant byte = 4 // a request for signatures of uncertified heights
	kindRaftCert byte = 5 // a finished certificate, answering a want
)

// raftDriver runs one chain on hashicorp/raft. The leader builds a block
// from its pool and appends it to the log; every node applies committed
// entries through the same verify-and-commit path as PBFT chains (the
// leader reuses its own execution). After committing, each validator signs
// the header and the signatures are gathered into a majority certificate
// stored beside the block. The log lives in the chain's database; a
// snapshot names the head block, and a node that restores one fetches the
// blocks it lacks from peers.
type raftDriver struct {
	g   *Group
	cfg craft.Config
	tr  Transport
	rt  *raftnet.Transport
	// rtReady closes once rt is set: the endpoint is attached (and peers
	// may call it) before the transport that serves the calls exists.
	rtReady chan struct{}
	r       *hraft.Raft
	snap    *hraft.FileSnapshotStore

	commitMu sync.Mutex // chain commits: log entries, restores and block sync
	builtMu  sync.Mutex
	built    map[common.Hash]*chain.Executed // the leader's own proposals, by header hash

	raw       chan inbound
	committed chan committedBlock
	votes     chan *craft.VoteMsg
	wants     chan wantFrom
	certs     chan *types.Certificate
	members   chan struct{} // the validator set changed: the leader reconciles Raft's configuration
	failed    chan error
	syncing   sync.Mutex
	col       *craft.Collector // owned by run
	lastWant  time.Time
	wantLim   craft.WantLimiter // owned by run
	failOnce  sync.Once
	stopped   chan struct{}
	runCtx    context.Context
	runCancel context.CancelFunc
}

type committedBlock struct {
	header *types.Header
	vs     *types.ValidatorSet
	vote   *craft.VoteMsg
}

type wantFrom struct {
	from common.Address
	want *craft.WantMsg
}

// raftDir is where a chain's Raft snapshots live.
func raftDir(dataDir, chainID string) string { return filepath.Join(dataDir, "raft", chainID) }

func newRaftDriver(g *Group, net Network) (*raftDriver, error) {
	cfg := g.cfg.Raft.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &raftDriver{g: g, cfg: cfg, built: map[common.Hash]*chain.Executed{},
		raw: make(chan inbound, InboxLen), committed: make(chan committedBlock, 1024),
		votes: make(chan *craft.VoteMsg, InboxLen), wants: make(chan wantFrom, 64), certs: make(chan *types.Certificate, 256),
		members: make(chan struct{}, 1), rtReady: make(chan struct{}), failed: make(chan error, 1), stopped: make(chan struct{}),
		col: craft.NewCollector(g.chain.Suite(), g.chain.ID()), runCtx: ctx, runCancel: cancel}
	if err := d.start(net); err != nil {
		cancel()
		if d.tr != nil {
			d.tr.Close()
		}
		return nil, err
	}
	return d, nil
}

func (d *raftDriver) start(net Network) error {
	g := d.g
	self := g.key.Address()
	tr, err := net.Attach(g.chain.ID(), self, d)
	if err != nil {
		return err
	}
	d.tr = tr
	d.rt = raftnet.NewTransport(self, tr, d.cfg.RPCTimeout())
	close(d.rtReady)
	store, err := raftstore.New(g.db)
	if err != nil {
		return fmt.Errorf("raft log store: %w", err)
	}
	dir := raftDir(g.node.cfg.DataDir, g.chain.ID())
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	rc := d.cfg.Raft(self, g.log)
	snaps, err := hraft.NewFileSnapshotStoreWithLogger(dir, 2, rc.Logger)
	if err != nil {
		return fmt.Errorf("raft snapshots: %w", err)
	}
	d.snap = snaps
	has, err := hraft.HasExistingState(store, store, snaps)
	if err != nil {
		return err
	}
	if !has {
		if err := d.bootstrap(rc, store, snaps); err != nil {
			return err
		}
	}
	r, err := hraft.NewRaft(rc, (*raftFSM)(d), store, store, snaps, d.rt)
	if err != nil {
		return fmt.Errorf("raft: %w", err)
	}
	d.r = r
	// Every validator holds the pending transactions: whoever leads next
	// builds from its own pool.
	g.pool.SetGossip(func(txs []*types.Tx) {
		d.tr.Send(common.Address{}, append([]byte{kindTxs}, types.EncodeTxs(txs)...))
	})
	return nil
}

// bootstrap starts a fresh node of the genesis set with the genesis
// validators as Raft voters. Every genesis validator does the same, which
// hashicorp/raft allows when the configurations are identical. A node
// outside the genesis set waits until a leader adds it.
func (d *raftDriver) bootstrap(rc *hraft.Config, store *raftstore.Store, snaps hraft.SnapshotStore) error {
	gen := d.g.chain.Genesis()
	vs, err := gen.ValidatorSet(d.g.chain.Suite())
	if err != nil {
		return err
	}
	if !vs.Contains(d.g.key.Address()) {
		d.g.log.Info("raft: not a genesis validator; waiting to be added by the leader")
		return nil
	}
	var conf hraft.Configuration
	for _, v := range vs.Validators {
		id := craft.ServerID(v.Address)
		conf.Servers = append(conf.Servers, hraft.Server{Suffrage: hraft.Voter, ID: id, Address: hraft.ServerAddress(id)})
	}
	return hraft.BootstrapCluster(rc, store, store, snaps, d.rt, conf)
}

// Deliver implements Endpoint.
func (d *raftDriver) Deliver(from common.Address, payload []byte) {
	select {
	case d.raw <- inbound{from, payload}:
	default:
	}
}

// Serve implements Endpoint: Raft's RPCs.
func (d *raftDriver) Serve(ctx context.Context, from common.Address, payload []byte) ([]byte, error) {
	select {
	case <-d.rtReady:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return d.rt.Handle(ctx, from, payload)
}

// ServeBlocks implements Endpoint. A block whose certificate is still
// being gathered goes without one; the receiver decides what to trust.
func (d *raftDriver) ServeBlocks(from, to uint64) ([]SyncedBlock, error) {
	return serveBlocks(d.g.chain, from, to, false)
}

func (d *raftDriver) decode(in inbound) {
	if len(in.payload) == 0 {
		return
	}
	body := in.payload[1:]
	switch in.payload[0] {
	case kindTxs:
		if txs, err := types.DecodeTxs(body); err == nil {
			d.g.pool.Add(txs)
		}
	case kindRaftVote:
		if v, err := craft.DecodeVote(body); err == nil && v.Signer == in.from {
			offerTo(d.votes, v)
		}
	case kindRaftWant:
		if w, err := craft.DecodeWant(body); err == nil && w.ChainID == d.g.chain.ID() {
			offerTo(d.wants, wantFrom{in.from, w})
		}
	case kindRaftCert:
		if c, err := types.DecodeCertificate(body); err == nil && c.ChainID == d.g.chain.ID() {
			offerTo(d.certs, c)
		}
	}
}

func offerTo[T any](ch chan T, v T) {
	select {
	case ch <- v:
	default: // full: the want/retry cycle recovers what is dropped
	}
}

// fail stops the chain: a durable write failed or this node diverges.
func (d *raftDriver) fail(err error) {
	d.failOnce.Do(func() { d.failed <- err })
}

// run drives the finality signatures, the leader's proposals and block
// sync until ctx ends; Raft itself runs on its own goroutines.
func (d *raftDriver) run(ctx context.Context) {
	defer close(d.stopped)
	defer d.tr.Close()
	defer d.rt.Close()
	defer d.runCancel()
	defer func() {
		if err := d.r.Shutdown().Error(); err != nil {
			d.g.log.Warn("raft shutdown", "err", err)
		}
	}()
	stop := context.AfterFunc(ctx, d.runCancel) // the node stops the chain
	defer stop()
	ctx = d.runCtx
	inboundWorkers(ctx, d.raw, d.decode)
	d.reopenUncertified()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); d.lead(ctx) }()
	defer wg.Wait()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	lastSync := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case err := <-d.failed:
			d.g.stop(err)
			return
		case cb := <-d.committed:
			d.opened(cb)
		case v := <-d.votes:
			d.vote(v)
		case w := <-d.wants:
			d.answer(w)
		case c := <-d.certs:
			d.adopt(c)
		case <-tick.C:
			d.askMissing()
			if time.Since(lastSync) > time.Duration(d.cfg.HeartbeatMs)*time.Millisecond && d.detached() {
				lastSync = time.Now()
				go d.catchUp(ctx)
			}
		}
	}
}

// opened starts gathering signatures for a block this node committed.
func (d *raftDriver) opened(cb committedBlock) {
	if cert := d.col.Open(cb.header, cb.vs); cert != nil {
		d.store(cert)
	}
	if cb.vote != nil {
		d.vote(cb.vote)
	}
}

func (d *raftDriver) vote(v *craft.VoteMsg) {
	cert, err := d.col.Add(v)
	if err != nil {
		d.g.log.Debug("raft: finality signature refused", "from", v.Signer, "height", v.Height, "err", err)
		return
	}
	if cert != nil {
		d.store(cert)
	}
}

func (d *raftDriver) store(cert *types.Certificate) {
	if err := d.g.chain.SetCertificate(cert); err != nil {
		if errors.Is(err, chain.ErrHalted) {
			d.fail(err)
		}
		d.g.log.Warn("raft: storing a certificate", "height", cert.Height, "err", err)
		return
	}
	d.col.Close(cert.Height)
	d.g.node.metrics.certified(d.g.chain.ID(), cert.Height)
}

// askMissing asks every peer for the signatures of committed heights
// still without a certificate, once they are overdue.
func (d *raftDriver) askMissing() {
	missing := d.col.Missing(craft.MaxWantSpan)
	if len(missing) == 0 || time.Since(d.lastWant) < craft.AskInterval {
		return
	}
	d.lastWant = time.Now()
	w := &craft.WantMsg{ChainID: d.g.chain.ID(), From: missing[0], To: missing[len(missing)-1]}
	if w.To-w.From >= craft.MaxWantSpan {
		w.To = w.From + craft.MaxWantSpan - 1
	}
	d.tr.Send(common.Address{}, append([]byte{kindRaftWant}, w.Encode()...))
}

// answer sends a peer what this node holds for the heights it wants: the
// certificate if stored, else this validator's own signature.
// A peer is answered at most once per craft.WantInterval.
func (d *raftDriver) answer(w wantFrom) {
	if !d.wantLim.Allow(w.from, time.Now()) {
		return
	}
	c := d.g.chain
	head := c.Head().Height
	for h := w.want.From; h <= w.want.To && h <= head; h++ {
		if cert, err := c.Certificate(h); err == nil {
			d.tr.Send(w.from, append([]byte{kindRaftCert}, cert.Encode()...))
			continue
		}
		hdr, err := c.HeaderByHeight(h)
		if err != nil {
			return
		}
		if v, err := craft.Sign(d.g.key, hdr); err == nil {
			d.tr.Send(w.from, append([]byte{kindRaftVote}, v.Encode()...))
		}
	}
}

// adopt stores a peer's certificate for a height this node lacks one for.
func (d *raftDriver) adopt(cert *types.Certificate) {
	vs := d.col.SetOf(cert.Height)
	if vs == nil {
		return // not waiting for this height
	}
	hdr, err := d.g.chain.HeaderByHeight(cert.Height)
	if err != nil {
		return
	}
	if err := types.VerifyCertificate(d.g.chain.Suite(), vs, types.QuorumMajority, hdr, cert); err != nil {
		d.g.log.Warn("raft: a peer sent an invalid certificate", "height", cert.Height, "err", err)
		return
	}
	d.store(cert)
}

// reopenUncertified resumes gathering for recent blocks committed before a
// restart whose certificates were not complete.
func (d *raftDriver) reopenUncertified() {
	c := d.g.chain
	vs, err := c.Validators()
	if err != nil {
		return
	}
	head := c.Head().Height
	for h := head; h > 0 && h+MaxReopen > head; h-- {
		if _, err := c.Certificate(h); err == nil {
			continue
		}
		hdr, err := c.HeaderByHeight(h)
		if err != nil {
			return
		}
		v, _ := craft.Sign(d.g.key, hdr)
		if vs.Contains(d.g.key.Address()) && v != nil {
			d.tr.Send(common.Address{}, append([]byte{kindRaftVote}, v.Encode()...))
		} else {
			v = nil
		}
		d.opened(committedBlock{header: hdr, vs: vs, vote: v})
	}
}

// MaxReopen bounds how far back a restarted Raft node looks for blocks
// whose certificates it must still gather.
const MaxReopen = 256

// detached reports whether this node cannot count on Raft to bring it
// blocks: it is not in the Raft configuration (a follower outside the
// validator set) or no leader is known.
func (d *raftDriver) detached() bool {
	if leader, _ := d.r.LeaderWithID(); leader == "" {
		return true
	}
	f := d.r.GetConfiguration()
	if f.Error() != nil {
		return true
	}
	self := craft.ServerID(d.g.key.Address())
	for _, s := range f.Configuration().Servers {
		if s.ID == self {
			return false
		}
	}
	return true
}

// catchUp fetches certified blocks past the head from the validators.
func (d *raftDriver) catchUp(ctx context.Context) {
	if !d.syncing.TryLock() {
		return
	}
	defer d.syncing.Unlock()
	d.commitMu.Lock()
	defer d.commitMu.Unlock()
	if err := d.syncBlocks(ctx, nil); err != nil && !errors.Is(err, errNoProgress) {
		d.g.log.Debug("raft: block sync", "err", err)
	}
}

var errNoProgress = errors.New("no peer had blocks past the head")

// syncBlocks fetches blocks after the head from peers and commits them.
// Blocks with a valid majority certificate are trusted on it. With a
// target (a snapshot being restored), uncertified blocks are held until
// a certified successor or the target's own hash anchors them; without
// one, sync stops at the first uncertified block. The caller holds commitMu.
func (d *raftDriver) syncBlocks(ctx context.Context, target *craft.Marker) error {
	c, s := d.g.chain, d.g.chain.Suite()
	var held []*types.Block
	next := func() uint64 { return c.Head().Height + uint64(len(held)) + 1 }
	tip := func() common.Hash {
		if len(held) > 0 {
			return held[len(held)-1].Hash(s)
		}
		return c.Head().Hash(s)
	}
	for round := 0; ; round++ {
		if target != nil && next() > target.Height {
			break
		}
		vs, err := c.Validators()
		if err != nil {
			return err
		}
		to := next() + MaxSyncBlocks - 1
		if target != nil {
			to = min(to, target.Height)
		}
		blocks, err := d.fetch(ctx, vs, next(), to, round)
		if err != nil {
			if target == nil {
				return err
			}
			if ctx.Err() != nil || round > 50 {
				return fmt.Errorf("restore to height %d: %w", target.Height, err)
			}
			time.Sleep(200 * time.Millisecond)
			continue
		}
		progressed := false
		for _, sb := range blocks {
			b, err := types.DecodeBlock(sb.Block)
			if err != nil || b.Header.Height != next() || b.Header.ParentHash != tip() {
				break
			}
			cert, _ := types.DecodeCertificate(sb.Cert)
			if cert != nil && len(held) == 0 {
				if types.VerifyCertificate(s, vs, types.QuorumMajority, b.Header, cert) != nil {
					cert = nil
				}
			} else {
				cert = nil // a held block's successor is checked once they are committed
			}
			if cert == nil {
				if target == nil {
					return nil // follow only what is certified
				}
				if len(held) >= MaxReopen {
					// Never report a restore done short of its target: the
					// entries after the snapshot would not extend the head.
					return fmt.Errorf("restore to height %d: more than %d uncertified blocks after height %d", target.Height, MaxReopen, c.Head().Height)
				}
				held = append(held, b)
				progressed = true
				continue
			}
			if err := d.commitSynced(b, cert); err != nil {
				return err
			}
			progressed = true
		}
		if !progressed {
			if target == nil {
				return errNoProgress
			}
			if round > 50 {
				return fmt.Errorf("restore to height %d: peers do not serve the blocks", target.Height)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if len(held) > 0 {
		if held[len(held)-1].Hash(s) != target.Hash {
			return fmt.Errorf("restore: the blocks peers served end at %x, the snapshot names %x", held[len(held)-1].Hash(s).Bytes()[:6], target.Hash[:6])
		}
		for _, b := range held {
			if err := d.commitSynced(b, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// fetch asks the validators in turn for blocks [from, to].
func (d *raftDriver) fetch(ctx context.Context, vs *types.ValidatorSet, from, to uint64, round int) ([]SyncedBlock, error) {
	self := d.g.key.Address()
	var last error = errNoProgress
	for i := 0; i < vs.Len(); i++ {
		peer := vs.Validators[(i+round)%vs.Len()].Address
		if peer == self {
			continue
		}
		fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		blocks, err := d.tr.FetchBlocks(fctx, peer, from, to)
		cancel()
		if err == nil && len(blocks) > 0 {
			return blocks, nil
		}
		if err != nil {
			last = err
		}
	}
	return nil, last
}

// commitSynced executes and commits a fetched block; one without a
// certificate gets this node's signature gathered like a Raft commit.
func (d *raftDriver) commitSynced(b *types.Block, cert *types.Certificate) error {
	c := d.g.chain
	vs, err := c.Validators()
	if err != nil {
		return err
	}
	d.g.reusePooled(b)
	e, err := c.Verify(b)
	if err != nil {
		return fmt.Errorf("a block the chain agreed on does not execute here (%v): this node diverges", err)
	}
	if err := c.Commit(e, cert); err != nil {
		return err
	}
	d.afterCommit(e, vs, cert == nil, time.Now())
	return nil
}

// afterCommit updates the pool and metrics, and, for a block without a
// certificate, signs it and starts gathering the others' signatures.
func (d *raftDriver) afterCommit(e *chain.Executed, vs *types.ValidatorSet, sign bool, start time.Time) {
	h := e.Block.Header
	d.g.pool.Remove(e.Block.Txs)
	if h.Height%16 == 0 {
		d.g.pool.Evict(h.Height)
	}
	d.g.node.metrics.committed(d.g.chain.ID(), len(e.Block.Txs), time.Since(start), d.g.pool.Len(), h.Height)
	if h.NextValidatorsHash != h.ValidatorsHash {
		d.g.log.Info("raft: validator set changed; the leader updates the Raft configuration", "height", h.Height)
		select {
		case d.members <- struct{}{}:
		default:
		}
	}
	if !sign {
		return
	}
	cb := committedBlock{header: h, vs: vs}
	if vs.Contains(d.g.key.Address()) {
		v, err := craft.Sign(d.g.key, h)
		if err != nil {
			d.fail(err)
			return
		}
		cb.vote = v
		d.tr.Send(common.Address{}, append([]byte{kindRaftVote}, v.Encode()...))
	}
	select {
	case d.committed <- cb:
	case <-d.runCtx.Done():
	}
}

// errStale marks a log entry that does not extend the head: a proposal
// overtaken by a leadership change, or one replayed after a restart.
var errStale = errors.New("raft: entry does not extend the head")

// applyEntry commits one block from the log.
func (d *raftDriver) applyEntry(b *types.Block) error {
	d.commitMu.Lock()
	defer d.commitMu.Unlock()
	c, s := d.g.chain, d.g.chain.Suite()
	if c.Halted() != nil {
		return c.Halted()
	}
	start := time.Now()
	head := c.Head()
	h := b.Header
	hash := h.Hash(s)
	if h.Height <= head.Height {
		if own, err := c.HeaderByHeight(h.Height); err == nil && own.Hash(s) != hash {
			d.g.log.Warn("raft: a log entry differs from the block committed at its height", "height", h.Height)
		}
		return errStale
	}
	if h.Height != head.Height+1 || h.ParentHash != head.Hash(s) {
		return fmt.Errorf("%w: block %d on %x, head %d", errStale, h.Height, h.ParentHash[:4], head.Height)
	}
	vs, err := c.Validators()
	if err != nil {
		return err
	}
	if !vs.Contains(h.Proposer) {
		return fmt.Errorf("%w: proposer %s is not a validator", chain.ErrBadBlock, h.Proposer)
	}
	e := d.takeBuilt(hash)
	if e == nil || e.Block.Header.ParentHash != head.Hash(s) {
		d.g.reusePooled(b)
		if e, err = c.Verify(b); err != nil {
			err = fmt.Errorf("a committed Raft entry does not execute here (%v): this node diverges", err)
			d.fail(err)
			return err
		}
	}
	if err := c.Commit(e, nil); err != nil {
		d.fail(err)
		return err
	}
	d.afterCommit(e, vs, true, start)
	return nil
}

func (d *raftDriver) putBuilt(hash common.Hash, e *chain.Executed) {
	d.builtMu.Lock()
	defer d.builtMu.Unlock()
	d.built[hash] = e
}

func (d *raftDriver) takeBuilt(hash common.Hash) *chain.Executed {
	d.builtMu.Lock()
	defer d.builtMu.Unlock()
	e := d.built[hash]
	clear(d.built) // one proposal is in flight at a time
	return e
}

// lead proposes blocks while this node is the leader: one at a time, each
// built on the head after the previous one is applied.
func (d *raftDriver) lead(ctx context.Context) {
	tick := time.NewTicker(d.g.cfg.Tick())
	defer tick.Stop()
	ready := false     // a barrier has applied every earlier entry in this term
	var last time.Time // when the previous block was proposed
	batch := time.Duration(d.cfg.BatchMs) * time.Millisecond
	for {
		arrived := d.g.pool.Wait()
		reconcile := false
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-arrived:
		case <-d.members:
			reconcile = true
		}
		if d.r.State() != hraft.Leader {
			ready = false
			continue
		}
		if !ready {
			if err := d.r.Barrier(d.cfg.RPCTimeout()).Error(); err != nil {
				continue
			}
			ready, reconcile = true, true
		}
		if reconcile {
			d.reconcile()
		}
		n := d.g.pool.Len()
		if n == 0 || (n < int(d.g.chain.Config().BlockTxLimit) && time.Since(last) < batch) {
			continue // let a block's worth gather, for at most batch_ms
		}
		last = time.Now()
		if err := d.proposeOne(); err != nil {
			ready = false
			if !errors.Is(err, hraft.ErrNotLeader) && !errors.Is(err, hraft.ErrLeadershipLost) {
				d.g.log.Warn("raft: proposal failed", "err", err)
			}
		}
	}
}

func (d *raftDriver) proposeOne() error {
	c := d.g.chain
	d.commitMu.Lock()
	cands := d.g.pool.Pending(int(c.Config().BlockTxLimit))
	e, rejected, err := c.Build(cands, chain.Proposal{Proposer: d.g.key.Address(), Round: d.r.CurrentTerm(), TimestampMs: uint64(time.Now().UnixMilli())})
	d.commitMu.Unlock()
	d.g.dropRejected(rejected)
	if err != nil {
		d.fail(err)
		return err
	}
	if len(e.Block.Txs) == 0 {
		return nil
	}
	d.putBuilt(e.Block.Hash(c.Suite()), e)
	f := d.r.Apply(craft.EncodeBlockEntry(e.Block), d.cfg.RPCTimeout())
	if err := f.Error(); err != nil {
		return err
	}
	if rerr, ok := f.Response().(error); ok && rerr != nil && !errors.Is(rerr, errStale) {
		return rerr
	}
	return nil
}

// reconcile makes Raft's voters the chain's validator set (the leader
// does it after a ConsensusAdmin change is committed, and on election).
// Removing itself comes last: the leader then steps down.
func (d *raftDriver) reconcile() {
	vs, err := d.g.chain.Validators()
	if err != nil {
		return
	}
	f := d.r.GetConfiguration()
	if f.Error() != nil {
		return
	}
	have := map[hraft.ServerID]bool{}
	for _, s := range f.Configuration().Servers {
		have[s.ID] = true
	}
	want := map[hraft.ServerID]bool{}
	timeout := d.cfg.RPCTimeout()
	for _, v := range vs.Validators {
		id := craft.ServerID(v.Address)
		want[id] = true
		if !have[id] {
			if err := d.r.AddVoter(id, hraft.ServerAddress(id), 0, timeout).Error(); err != nil {
				d.g.log.Warn("raft: adding a voter", "validator", v.Address, "err", err)
				return
			}
			d.g.log.Info("raft: voter added", "validator", v.Address)
		}
	}
	self := craft.ServerID(d.g.key.Address())
	for id := range have {
		if !want[id] && id != self {
			if err := d.r.RemoveServer(id, 0, timeout).Error(); err != nil {
				d.g.log.Warn("raft: removing a voter", "server", id, "err", err)
				return
			}
			d.g.log.Info("raft: voter removed", "server", id)
		}
	}
	if have[self] && !want[self] {
		d.g.log.Info("raft: this leader left the validator set; stepping down")
		if err := d.r.RemoveServer(self, 0, timeout).Error(); err != nil {
			d.g.log.Warn("raft: removing self", "err", err)
		}
	}
}

// raftFSM is the driver seen as hashicorp's state machine.
type raftFSM raftDriver

// Apply implements hraft.FSM: a committed entry.
func (f *raftFSM) Apply(l *hraft.Log) any {
	if l.Type != hraft.LogCommand {
		return nil
	}
	d := (*raftDriver)(f)
	b, err := craft.DecodeBlockEntry(l.Data)
	if err != nil {
		d.g.log.Warn("raft: skipped a log entry that is not a block", "index", l.Index, "err", err)
		return err
	}
	return d.applyEntry(b)
}

// Snapshot implements hraft.FSM: the head, read on the apply goroutine so
// that it matches the log index being snapshotted.
func (f *raftFSM) Snapshot() (hraft.FSMSnapshot, error) {
	c := (*raftDriver)(f).g.chain
	head := c.Head()
	return craft.Snapshot{Marker: craft.Marker{ChainID: c.ID(), Height: head.Height, Hash: head.Hash(c.Suite())}}, nil
}

// Restore implements hraft.FSM: catch up to the snapshot's block from
// peers (a node that has it already checks it is the same block).
func (f *raftFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	d := (*raftDriver)(f)
	m, err := craft.ReadMarker(rc)
	if err != nil {
		return err
	}
	c, s := d.g.chain, d.g.chain.Suite()
	if m.ChainID != c.ID() {
		return fmt.Errorf("%w: for chain %q", craft.ErrBadSnapshot, m.ChainID)
	}
	d.commitMu.Lock()
	defer d.commitMu.Unlock()
	if head := c.Head(); head.Height >= m.Height {
		if m.Height == 0 {
			return nil
		}
		own, err := c.HeaderByHeight(m.Height)
		if err != nil {
			return err
		}
		if own.Hash(s) != m.Hash {
			err := fmt.Errorf("raft snapshot names block %x at height %d, this node has %x: it diverges", m.Hash[:6], m.Height, own.Hash(s).Bytes()[:6])
			d.fail(err)
			return err
		}
		return nil
	}
	d.g.log.Info("raft: restoring a snapshot from peers", "from", c.Head().Height, "to", m.Height)
	return d.syncBlocks(d.runCtx, &m)
}
