package pbft_test

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/consensus/pbft"
	"github.com/tallyhq/tally/engine/consensus/pbft/pbftsim"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/types"
)

const testChain = "test-chain"

// hnode is one validator in the step-by-step harness: a machine, its
// application (a pbftsim.Chain), its WAL and its pending requests.
type hnode struct {
	idx      int
	key      crypto.PrivateKey
	m        *pbft.Machine
	chain    *pbftsim.Chain
	durable  uint64 // chain height that survives a crash
	wal      []byte // last HardState written
	crashed  bool
	pending  bool
	validate []pbft.Proposal
	propose  *pbft.ProposeRequest
	sync     *pbft.SyncRequest
}

type queued struct {
	from, to int
	raw      []byte
}

// cluster drives n validators by hand: nothing moves unless a command says so.
type cluster struct {
	s       crypto.Suite
	vs      *types.ValidatorSet
	base    pbft.Config
	nodes   []*hnode
	queue   []queued
	names   map[common.Hash]string
	salt    uint64
	out     *strings.Builder
	verbose bool // print hard states
	trusted bool // skip VerifyMessage (benchmarks: the machine's own cost)
}

func newCluster(n, timeout int) (*cluster, error) {
	s := crypto.Secp256k1()
	keys, vs, err := pbftsim.Keys(s, n)
	if err != nil {
		return nil, err
	}
	base := pbft.DefaultConfig()
	base.ChainID, base.Suite, base.Validators = testChain, s, vs
	base.BaseTimeoutTicks, base.MaxTimeoutTicks = timeout, timeout*16
	base.SyncRetryTicks, base.ReplyIntervalTicks = timeout, 1
	c := &cluster{s: s, vs: vs, base: base, names: map[common.Hash]string{}, out: &strings.Builder{}}
	for i, k := range keys {
		nd := &hnode{idx: i, key: k, chain: pbftsim.NewChain(s, testChain, vs)}
		c.nodes = append(c.nodes, nd)
		if err := c.start(nd); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *cluster) config(nd *hnode) pbft.Config {
	cfg := c.base
	cfg.Self, cfg.Signer = nd.key.Address(), nd.key
	return cfg
}

// start builds a machine from what survives on disk: the durable chain and the WAL.
func (c *cluster) start(nd *hnode) error {
	st := pbft.Start{}
	st.Height, st.Hash = nd.chain.Head()
	st.Cert = nd.chain.Certs[st.Height]
	if nd.wal != nil {
		hs, err := pbft.DecodeHardState(nd.wal)
		if err != nil {
			return err
		}
		st.State = hs
	}
	m, err := pbft.New(c.config(nd), st)
	if err != nil {
		return err
	}
	nd.m, nd.validate, nd.propose, nd.sync = m, nil, nil, nil
	m.HasPending(nd.pending)
	c.process(nd)
	return nil
}

func (c *cluster) name(i int) string { return fmt.Sprintf("v%d", i) }

func (c *cluster) hashName(h common.Hash) string {
	if h == (common.Hash{}) {
		return "-"
	}
	if n, ok := c.names[h]; ok {
		return n
	}
	return fmt.Sprintf("%x", h[:3])
}

func (c *cluster) printf(format string, args ...any) { fmt.Fprintf(c.out, format+"\n", args...) }

// process handles every Ready of nd in the documented order.
func (c *cluster) process(nd *hnode) {
	for !nd.crashed && nd.m.HasReady() {
		rd := nd.m.Ready()
		c.persist(nd, rd)
		for _, e := range rd.Messages {
			c.enqueue(nd, e)
		}
		c.collect(nd, rd)
		nd.m.Advance()
	}
}

func (c *cluster) persist(nd *hnode, rd pbft.Ready) {
	if rd.Err != nil {
		c.printf("%s: ERROR %v", c.name(nd.idx), rd.Err)
	}
	if rd.HardState != nil {
		nd.wal = rd.HardState.Encode()
		if c.verbose {
			c.printf("%s: persist %s", c.name(nd.idx), c.fmtHS(rd.HardState))
		}
	}
	for _, cm := range rd.Committed {
		if err := nd.chain.Apply(cm.Height, cm.Block, cm.Cert); err != nil {
			c.printf("%s: APPLY FAILED h=%d: %v", c.name(nd.idx), cm.Height, err)
			continue
		}
		nd.durable = cm.Height
		c.printf("%s: commit h=%d %s round=%d votes=%d", c.name(nd.idx), cm.Height, c.hashName(cm.Hash), cm.Cert.Round, len(cm.Cert.Votes))
	}
}

func (c *cluster) collect(nd *hnode, rd pbft.Ready) {
	for _, p := range rd.Validate {
		c.printf("%s: validate h=%d v=%d %s", c.name(nd.idx), p.Height, p.View, c.hashName(p.Hash))
		nd.validate = append(nd.validate, p)
	}
	if rd.Propose != nil {
		c.printf("%s: propose-request h=%d v=%d", c.name(nd.idx), rd.Propose.Height, rd.Propose.View)
		nd.propose = rd.Propose
	}
	if rd.Sync != nil {
		c.printf("%s: sync-request to h=%d from %s", c.name(nd.idx), rd.Sync.Height, c.addrNames(rd.Sync.Peers))
		nd.sync = rd.Sync
	}
}

func (c *cluster) addrNames(as []common.Address) string {
	var out []string
	for _, a := range as {
		out = append(out, c.name(c.vs.Index(a)))
	}
	return "[" + strings.Join(out, " ") + "]"
}

func (c *cluster) fmtHS(hs *pbft.HardState) string {
	p := "-"
	if hs.Prepared != nil {
		p = fmt.Sprintf("%s@%d", c.hashName(hs.Prepared.Hash), hs.Prepared.View)
	}
	return fmt.Sprintf("h=%d v=%d in=%v proposed=%s prepare=%s commit=%s prepared=%s", hs.Height, hs.View, hs.InView,
		c.hashName(hs.Proposed), c.hashName(hs.Prepare), c.hashName(hs.Commit), p)
}

// enqueue puts a message on the wire as bytes, one copy per destination.
func (c *cluster) enqueue(nd *hnode, e pbft.Envelope) {
	raw := e.Msg.Encode()
	if !e.Broadcast() {
		c.queue = append(c.queue, queued{nd.idx, c.vs.Index(e.To), raw})
		c.printf("%s: send %s -> %s", c.name(nd.idx), c.fmtMsg(e.Msg), c.name(c.vs.Index(e.To)))
		return
	}
	for i := range c.nodes {
		if i != nd.idx {
			c.queue = append(c.queue, queued{nd.idx, i, raw})
		}
	}
	c.printf("%s: send %s -> *", c.name(nd.idx), c.fmtMsg(e.Msg))
}

func (c *cluster) fmtMsg(m *pbft.Message) string {
	s := fmt.Sprintf("%s h=%d v=%d", m.Type, m.Height, m.View)
	if m.Hash != (common.Hash{}) {
		s += " " + c.hashName(m.Hash)
	}
	if m.Prepared != nil {
		s += fmt.Sprintf(" prepared=%s@%d", c.hashName(m.Prepared.Hash), m.Prepared.View)
	}
	if len(m.ViewChanges) > 0 {
		s += fmt.Sprintf(" vcs=%d", len(m.ViewChanges))
	}
	return s
}

// deliver decodes, verifies and steps one queued message, as a node would.
func (c *cluster) deliver(q queued) {
	nd := c.nodes[q.to]
	if nd.crashed {
		return
	}
	msg, err := pbft.DecodeMessage(q.raw)
	if err == nil && !c.trusted {
		err = pbft.VerifyMessage(c.s, c.vs, msg)
	}
	if err == nil {
		err = nd.m.Step(msg)
	}
	if err != nil {
		c.printf("%s: rejected from %s: %v", c.name(q.to), c.name(q.from), err)
	}
	c.process(nd)
}

// answer validates nd's pending proposals with its application, or forces
// the verdict when force is "ok" or "bad".
func (c *cluster) answer(nd *hnode, force string) {
	reqs := nd.validate
	nd.validate = nil
	for _, p := range reqs {
		ok := nd.chain.Check(p) == nil
		if force != "" {
			ok = force == "ok"
		}
		c.printf("%s: validated h=%d v=%d %s ok=%v", c.name(nd.idx), p.Height, p.View, c.hashName(p.Hash), ok)
		nd.m.Validated(p.Height, p.View, p.Hash, ok)
		c.process(nd)
	}
}

// build makes a named block on nd's chain.
func (c *cluster) build(nd *hnode, view uint64, name string, bad bool) (common.Hash, []byte) {
	c.salt++
	hash, raw := nd.chain.Build(view, nd.key.Address(), c.salt, bad)
	if name == "" {
		name = fmt.Sprintf("b%d", len(c.names)+1)
	}
	c.names[hash] = name
	return hash, raw
}

// doPropose answers nd's propose request with a fresh block.
func (c *cluster) doPropose(nd *hnode, name string, bad bool) {
	req := nd.propose
	if req == nil {
		c.printf("%s: no propose request", c.name(nd.idx))
		return
	}
	nd.propose = nil
	hash, raw := c.build(nd, req.View, name, bad)
	if err := nd.m.Propose(req.Height, req.View, hash, raw); err != nil {
		c.printf("%s: propose failed: %v", c.name(nd.idx), err)
	}
	c.process(nd)
}

// doSync serves nd's sync request from the first live listed peer's chain.
func (c *cluster) doSync(nd *hnode) {
	req := nd.sync
	nd.sync = nil
	if req == nil {
		c.printf("%s: no sync request", c.name(nd.idx))
		return
	}
	for _, a := range req.Peers {
		peer := c.nodes[c.vs.Index(a)]
		if !peer.crashed && c.copyBlocks(nd, peer, req.Height) {
			return
		}
	}
	c.printf("%s: sync found no peer", c.name(nd.idx))
}

func (c *cluster) copyBlocks(nd, peer *hnode, to uint64) bool {
	h, _ := nd.chain.Head()
	ph, _ := peer.chain.Head()
	for h < to && h < ph {
		h++
		if err := nd.chain.Apply(h, peer.chain.Blocks[h].Encode(), peer.chain.Certs[h]); err != nil {
			c.printf("%s: sync apply h=%d: %v", c.name(nd.idx), h, err)
			return false
		}
	}
	nh, hash := nd.chain.Head()
	if nh == 0 || nh < nd.m.Status().Height {
		return false
	}
	nd.durable = nh
	c.printf("%s: synced to h=%d from %s", c.name(nd.idx), nh, c.name(peer.idx))
	if err := nd.m.SyncedTo(nh, hash, nd.chain.Certs[nh]); err != nil {
		c.printf("%s: SyncedTo: %v", c.name(nd.idx), err)
	}
	c.process(nd)
	return true
}

func (c *cluster) status(nd *hnode) {
	if nd.crashed {
		c.printf("%s: crashed", c.name(nd.idx))
		return
	}
	st := nd.m.Status()
	p := "-"
	if st.Prepared != nil {
		p = fmt.Sprintf("%s@%d", c.hashName(st.Prepared.Hash), st.Prepared.View)
	}
	head, _ := nd.chain.Head()
	c.printf("%s: h=%d v=%d in=%v leader=%s proposal=%s prepared=%s busy=%v timer=%d/%d head=%d guarded=%v",
		c.name(nd.idx), st.Height, st.View, st.InView, c.name(c.vs.Index(st.Leader)), c.hashName(st.Proposal), p,
		st.Busy, st.Timer, st.Timeout, head, st.Guarded)
}

// inject signs an arbitrary message with a validator's key: Byzantine input.
func (c *cluster) inject(from *hnode, to []int, msg *pbft.Message) error {
	msg.ChainID, msg.From = testChain, from.key.Address()
	sig, err := from.key.Sign(msg.Digest(c.s))
	if err != nil {
		return err
	}
	msg.Sig = sig
	raw := msg.Encode()
	for _, t := range to {
		c.queue = append(c.queue, queued{from.idx, t, raw})
	}
	c.printf("%s: inject %s -> %v", c.name(from.idx), c.fmtMsg(msg), to)
	return nil
}

// sortedQueue lists the queue for printing.
func (c *cluster) printQueue() {
	lines := make([]string, 0, len(c.queue))
	for _, q := range c.queue {
		msg, err := pbft.DecodeMessage(q.raw)
		if err != nil {
			lines = append(lines, fmt.Sprintf("%s->%s garbage", c.name(q.from), c.name(q.to)))
			continue
		}
		lines = append(lines, fmt.Sprintf("%s->%s %s", c.name(q.from), c.name(q.to), c.fmtMsg(msg)))
	}
	sort.Strings(lines)
	for _, l := range lines {
		c.printf("%s", l)
	}
}
