package node

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/consensus/pbft"
	"github.com/tallyhq/tally/engine/storage"
	"github.com/tallyhq/tally/engine/types"
)

// walKey is where the PBFT hard state lives: written (fsynced) before any
// vote it records is sent.
var walKey = storage.CursorKey("pbft/hardstate")

// InboxLen bounds verified messages waiting for the consensus loop.
const InboxLen = 4096

// Payload kinds on a chain's transport: the first byte of every payload.
const (
	kindConsensus byte = 1
	kindTxs       byte = 2 // a gossiped batch of client transactions
)

// pbftDriver runs a pbft.Machine for one chain: it feeds it the clock, the
// pool and verified peer messages, and acts on its Ready in the documented
// order — persist, apply, send, then hand work to the application.
type pbftDriver struct {
	g       *Group
	m       *pbft.Machine
	vs      atomic.Pointer[types.ValidatorSet] // read by the verify workers
	reset   bool                               // the validator set changed: restart the machine
	tr      Transport
	raw     chan inbound
	inbox   chan *pbft.Message
	results chan func() error
	built   map[common.Hash]*chain.Executed // executed proposals, by header hash
	ticks   uint64
	syncing atomic.Bool
}

// ViewTimeout is how long a view may run with work pending before a
// validator asks for a view change: long enough to carry and execute a
// full block on a loaded machine, short enough to replace a dead leader.
const ViewTimeout = 3 * time.Second

// CatchUpTicks is how often a validator asks a peer for blocks past its
// head, so that one restarted on an idle chain catches up without waiting
// for new traffic.
const CatchUpTicks = 100

type inbound struct {
	from    common.Address
	payload []byte
}

func newPBFTDriver(g *Group, net Network) (*pbftDriver, error) {
	d := &pbftDriver{g: g, raw: make(chan inbound, InboxLen), inbox: make(chan *pbft.Message, InboxLen),
		results: make(chan func() error, 64), built: map[common.Hash]*chain.Executed{}}
	if err := d.newMachine(); err != nil {
		return nil, err
	}
	tr, err := net.Attach(g.chain.ID(), g.key.Address(), d)
	if err != nil {
		return nil, err
	}
	d.tr = tr
	// Every validator needs the transactions: whoever leads a height
	// proposes from its own pool.
	g.pool.SetGossip(func(txs []*types.Tx) {
		d.tr.Send(common.Address{}, append([]byte{kindTxs}, types.EncodeTxs(txs)...))
	})
	return d, nil
}

// newMachine (re)starts the machine at the chain's head, with the chain's
// current validator set and the WAL.
func (d *pbftDriver) newMachine() error {
	c := d.g.chain
	vs, err := c.Validators()
	if err != nil {
		return err
	}
	head := c.Head()
	st := pbft.Start{Height: head.Height, Hash: head.Hash(c.Suite())}
	if cert, err := c.Certificate(head.Height); err == nil {
		st.Cert = cert
	}
	if b, err := d.g.db.Get(walKey); err == nil {
		if st.State, err = pbft.DecodeHardState(b); err != nil {
			return fmt.Errorf("pbft WAL: %w", err)
		}
	}
	d.vs.Store(vs)
	if !vs.Contains(d.g.key.Address()) {
		// Not (or no longer) a validator: follow the chain by block sync
		// until a set that includes this key is committed.
		if d.m != nil {
			d.g.log.Info("not in the validator set: following the chain", "height", head.Height)
		}
		d.m = nil
		return nil
	}
	cfg := pbft.DefaultConfig()
	cfg.ChainID, cfg.Suite, cfg.Validators, cfg.Self, cfg.Signer, cfg.Logger = c.ID(), c.Suite(), vs, d.g.key.Address(), d.g.key, d.g.log
	// The machine counts ticks; timeouts are meant in time: a view may run
	// ViewTimeout before anyone asks to change it, up to a minute when doubled.
	tickMs := max(1, d.g.cfg.TickMs)
	cfg.BaseTimeoutTicks = max(cfg.BaseTimeoutTicks, int(ViewTimeout.Milliseconds())/tickMs)
	cfg.MaxTimeoutTicks = max(cfg.MaxTimeoutTicks, 60_000/tickMs)
	m, err := pbft.New(cfg, st)
	if err != nil {
		return err
	}
	if d.m == nil && head.Height > 0 {
		d.g.log.Info("joined the validator set", "height", head.Height)
	}
	d.m = m
	return nil
}

// Deliver implements Endpoint: verification happens on the workers.
func (d *pbftDriver) Deliver(from common.Address, payload []byte) {
	select {
	case d.raw <- inbound{from, payload}:
	default: // a full queue drops: consensus retransmits what matters
	}
}

// inboundWorkers handle peers' messages from raw on all cores until ctx ends.
func inboundWorkers(ctx context.Context, raw <-chan inbound, handle func(inbound)) {
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case in := <-raw:
					handle(in)
				}
			}
		}()
	}
}

func (d *pbftDriver) verify(in inbound) {
	if len(in.payload) == 0 {
		return
	}
	switch in.payload[0] {
	case kindTxs:
		if txs, err := types.DecodeTxs(in.payload[1:]); err == nil {
			d.g.pool.Add(txs)
		}
		return
	case kindConsensus:
	default:
		return
	}
	msg, err := pbft.DecodeMessage(in.payload[1:])
	if err != nil || msg.From != in.from {
		return
	}
	if err := pbft.VerifyMessage(d.g.chain.Suite(), d.vs.Load(), msg); err != nil {
		d.g.log.Debug("dropped an invalid consensus message", "from", in.from, "err", err)
		return
	}
	select {
	case d.inbox <- msg:
	default:
	}
}

// ServeBlocks implements Endpoint: every PBFT block has its certificate.
func (d *pbftDriver) ServeBlocks(from, to uint64) ([]SyncedBlock, error) {
	return serveBlocks(d.g.chain, from, to, true)
}

// serveBlocks reads committed blocks [from, to] (at most MaxSyncBlocks)
// with their certificates; a block without one ends the answer if
// needCert, else goes without.
func serveBlocks(c *chain.Chain, from, to uint64, needCert bool) ([]SyncedBlock, error) {
	to = min(to, c.Head().Height, from+MaxSyncBlocks-1)
	var out []SyncedBlock
	for h := from; h <= to && h > 0; h++ {
		b, err := c.BlockByHeight(h)
		if err != nil {
			return out, err
		}
		sb := SyncedBlock{Block: b.Encode()}
		cert, err := c.Certificate(h)
		switch {
		case err == nil:
			sb.Cert = cert.Encode()
		case needCert:
			return out, err
		}
		out = append(out, sb)
	}
	return out, nil
}

// Serve implements Endpoint: PBFT works by messages, not calls.
func (d *pbftDriver) Serve(context.Context, common.Address, []byte) ([]byte, error) {
	return nil, errors.New("a PBFT chain takes no calls")
}

// run is the consensus loop; every call into the machine happens here.
func (d *pbftDriver) run(ctx context.Context) {
	defer d.tr.Close()
	inboundWorkers(ctx, d.raw, d.verify) // decode and check signatures on all cores
	tick := time.NewTicker(d.g.cfg.Tick())
	defer tick.Stop()
	for {
		arrived := d.g.pool.Wait()
		var err error
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if d.m != nil {
				d.m.HasPending(d.g.pool.Len() > 0)
				d.m.Tick()
			}
			d.catchUp(ctx)
		case <-arrived:
			if d.m != nil {
				d.m.HasPending(d.g.pool.Len() > 0)
			}
		case msg := <-d.inbox:
			if d.m == nil {
				continue // a follower does not vote
			}
			if serr := d.m.Step(msg); serr != nil {
				d.g.log.Debug("peer message refused", "from", msg.From, "err", serr)
			}
		case f := <-d.results:
			err = f()
		}
		if err == nil {
			err = d.drain(ctx)
		}
		if err != nil {
			d.g.stop(err)
			return
		}
	}
}

// drain acts on every Ready the machine has.
func (d *pbftDriver) drain(ctx context.Context) error {
	if d.m == nil {
		return d.applyReset()
	}
	for d.m.HasReady() {
		rd := d.m.Ready()
		if err := d.handle(ctx, rd); err != nil {
			return err
		}
		d.m.Advance()
		if err := d.applyReset(); err != nil || d.m == nil {
			return err
		}
	}
	return d.applyReset() // a set change applied by block sync
}

// applyReset restarts consensus after a committed validator-set change: at
// the new head, with the new set, as a validator or a follower.
func (d *pbftDriver) applyReset() error {
	if !d.reset {
		return nil
	}
	d.reset = false
	return d.newMachine()
}

func (d *pbftDriver) handle(ctx context.Context, rd pbft.Ready) error {
	if rd.Err != nil {
		return fmt.Errorf("pbft: %w", rd.Err)
	}
	if rd.HardState != nil {
		if err := d.persist(rd.HardState); err != nil {
			return err
		}
	}
	for _, c := range rd.Committed {
		if err := d.commit(c); err != nil {
			return err
		}
	}
	for _, env := range rd.Messages {
		d.tr.Send(env.To, append([]byte{kindConsensus}, env.Msg.Encode()...))
	}
	for _, p := range rd.Validate {
		go d.validate(p)
	}
	if rd.Propose != nil {
		go d.propose(*rd.Propose)
	}
	if rd.Sync != nil {
		go d.sync(ctx, *rd.Sync)
	}
	return nil
}

func (d *pbftDriver) persist(hs *pbft.HardState) error {
	b := d.g.db.NewBatch()
	if err := b.Put(walKey, hs.Encode()); err != nil {
		return err
	}
	if err := b.Commit(); err != nil {
		return fmt.Errorf("pbft WAL write: %w", err)
	}
	return nil
}

// validate executes a proposal off the loop (execution overlaps voting).
func (d *pbftDriver) validate(p pbft.Proposal) {
	e, err := d.check(p.Block, p.Hash, p.Height, p.View)
	d.results <- func() error {
		if err == nil {
			d.built[p.Hash] = e
		} else {
			d.g.log.Warn("proposal refused", "height", p.Height, "view", p.View, "err", err)
		}
		if d.m != nil {
			d.m.Validated(p.Height, p.View, p.Hash, err == nil)
		}
		return nil
	}
}

func (d *pbftDriver) check(raw []byte, hash common.Hash, height, view uint64) (*chain.Executed, error) {
	b, err := types.DecodeBlock(raw)
	if err != nil {
		return nil, err
	}
	h := b.Header
	if h.Hash(d.g.chain.Suite()) != hash || h.Height != height || h.Round > view {
		return nil, fmt.Errorf("%w: header does not match the proposal", chain.ErrBadBlock)
	}
	if !d.vs.Load().Contains(h.Proposer) {
		return nil, fmt.Errorf("%w: proposer %s is not a validator", chain.ErrBadBlock, h.Proposer)
	}
	d.g.reusePooled(b)
	return d.g.chain.Verify(b)
}

// reusePooled swaps in the pool's copy of every transaction it holds: same
// hash, same bytes, and a signature this node already verified — so a
// validator checks each signature once, at admission, not again in blocks.
func (g *Group) reusePooled(b *types.Block) {
	s := g.chain.Suite()
	for i, tx := range b.Txs {
		if pooled := g.pool.Lookup(tx.Hash(s)); pooled != nil {
			b.Txs[i] = pooled
		}
	}
}

// propose builds this validator's block from the pool.
func (d *pbftDriver) propose(req pbft.ProposeRequest) {
	cands := d.g.pool.Pending(int(d.g.chain.Config().BlockTxLimit))
	e, rejected, err := d.g.chain.Build(cands, chain.Proposal{Proposer: d.g.key.Address(), Round: req.View, TimestampMs: uint64(time.Now().UnixMilli())})
	d.results <- func() error {
		d.g.dropRejected(rejected)
		if err != nil {
			return err
		}
		if d.m == nil {
			return nil // this node left the validator set while building
		}
		if len(e.Block.Txs) == 0 || e.Block.Header.ParentHash != req.Parent {
			// Nothing valid to propose, or the chain moved on. The machine
			// asks once per view; clearing "pending" lets the next tick or
			// arrival ask again. (Reporting the pool's length here kept it
			// from asking when transactions arrived during the build, and the
			// view waited for its timeout.)
			d.m.HasPending(false)
			return nil
		}
		hash := e.Block.Hash(d.g.chain.Suite())
		d.built[hash] = e
		if perr := d.m.Propose(req.Height, req.View, hash, e.Block.Encode()); perr != nil && !errors.Is(perr, pbft.ErrNotNow) {
			return perr
		}
		return nil
	}
}

// commit applies a decided block, executing it first if this validator
// has not (a block decided without it).
func (d *pbftDriver) commit(c pbft.Committed) error {
	start := time.Now()
	e := d.built[c.Hash]
	if e == nil || e.Block.Header.ParentHash != d.g.chain.Head().Hash(d.g.chain.Suite()) {
		var err error
		if e, err = d.check(c.Block, c.Hash, c.Height, c.Cert.Round); err != nil {
			return fmt.Errorf("a certified block does not execute here (%v): this node diverges", err)
		}
	}
	if err := d.g.chain.Commit(e, c.Cert); err != nil {
		return err
	}
	d.afterCommit(e, start)
	return nil
}

func (d *pbftDriver) afterCommit(e *chain.Executed, start time.Time) {
	h := e.Block.Header
	for hash, b := range d.built {
		if b.Block.Header.Height <= h.Height {
			delete(d.built, hash)
		}
	}
	d.g.pool.Remove(e.Block.Txs)
	if h.Height%16 == 0 {
		d.g.pool.Evict(h.Height)
	}
	d.g.node.metrics.committed(d.g.chain.ID(), len(e.Block.Txs), time.Since(start), d.g.pool.Len(), h.Height)
	if h.NextValidatorsHash != h.ValidatorsHash {
		d.g.log.Info("validator set changed; consensus restarts on the new set", "height", h.Height)
		d.reset = true
	}
}

// catchUp asks the next peer in turn for blocks past the head.
func (d *pbftDriver) catchUp(ctx context.Context) {
	d.ticks++
	vs := d.vs.Load()
	every := uint64(CatchUpTicks)
	if d.m == nil {
		every = CatchUpTicks / 10 // a follower has nothing else to do
	}
	if d.ticks%every != 0 || vs.Len() < 1 {
		return
	}
	peer := vs.Validators[int(d.ticks/every)%vs.Len()].Address
	if peer == d.g.key.Address() {
		return
	}
	head := d.g.chain.Head().Height
	go d.sync(ctx, pbft.SyncRequest{Height: head + MaxSyncBlocks, Peers: []common.Address{peer}})
}

// sync fetches missing blocks from the peers named, verifies each against
// the certificate and applies them on the loop. One runs at a time.
func (d *pbftDriver) sync(ctx context.Context, req pbft.SyncRequest) {
	if !d.syncing.CompareAndSwap(false, true) {
		return
	}
	defer d.syncing.Store(false)
	from := d.g.chain.Head().Height + 1
	for _, peer := range req.Peers {
		fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		blocks, err := d.tr.FetchBlocks(fctx, peer, from, req.Height)
		cancel()
		if err != nil || len(blocks) == 0 {
			continue
		}
		d.results <- func() error { return d.applySynced(blocks) }
		return
	}
}

func (d *pbftDriver) applySynced(blocks []SyncedBlock) error {
	s, c := d.g.chain.Suite(), d.g.chain
	var last *types.Header
	var lastCert *types.Certificate
	for _, sb := range blocks {
		b, err1 := types.DecodeBlock(sb.Block)
		cert, err2 := types.DecodeCertificate(sb.Cert)
		if err1 != nil || err2 != nil || b.Header.Height != c.Head().Height+1 {
			break
		}
		if err := types.VerifyCertificate(s, d.vs.Load(), types.QuorumBFT, b.Header, cert); err != nil {
			d.g.log.Warn("sync: a peer sent a block without a valid certificate", "height", b.Header.Height, "err", err)
			break
		}
		e, err := c.Verify(b)
		if err != nil {
			return fmt.Errorf("a certified block does not execute here (%v): this node diverges", err)
		}
		if err := c.Commit(e, cert); err != nil {
			return err
		}
		d.afterCommit(e, time.Now())
		last, lastCert = b.Header, cert
	}
	if last == nil || d.m == nil || d.reset {
		return nil // a follower has nothing to tell; a set change restarts the machine at the new head
	}
	return d.m.SyncedTo(last.Height, last.Hash(s), lastCert)
}
