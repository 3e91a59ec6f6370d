package pbftsim

import (
	"container/heap"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"math/rand/v2"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/consensus/pbft"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/types"
)

// Simulation failures; the error text carries the seed.
var (
	ErrSafety   = errors.New("pbftsim: safety violated")
	ErrLiveness = errors.New("pbftsim: liveness violated")
)

// Config is one seeded run: a fault phase in which the network drops,
// duplicates, delays, reorders and partitions messages, honest validators
// crash and restart, and Byzantine ones misbehave; then a calm phase in which
// every honest validator must commit LivenessBlocks new blocks within
// LivenessTicks. Byzantine validators keep misbehaving in the calm phase.
type Config struct {
	Seed           uint64
	Validators     int
	Byzantine      int // at most f; picked by the seed
	FaultTicks     int
	LivenessTicks  int
	LivenessBlocks int
	TimeoutTicks   int // pbft BaseTimeoutTicks
	MaxDelayTicks  int // network delay is 1..MaxDelayTicks
	DropPermille   int // per message, fault phase only
	DupPermille    int
	CrashPermille  int // per tick: chance that an honest validator crashes
	Partitions     bool
	KeepTrace      bool
}

// DefaultConfig is the configuration the tests run for n validators with f Byzantine.
func DefaultConfig(seed uint64, n int) Config {
	return Config{
		Seed: seed, Validators: n, Byzantine: (n - 1) / 3,
		FaultTicks: 400, LivenessTicks: 1200, LivenessBlocks: 3,
		TimeoutTicks: 12, MaxDelayTicks: 4, DropPermille: 100, DupPermille: 50,
		CrashPermille: 6, Partitions: true,
	}
}

// Result summarises a run.
type Result struct {
	TraceHash [32]byte
	Heights   []uint64 // every validator's committed height at the end
	Ticks     int
	Trace     []string // with KeepTrace
}

type kind uint8

const (
	evDeliver kind = iota
	evValidated
	evSync
)

type event struct {
	at    int
	seq   uint64
	kind  kind
	from  int
	to    int
	epoch int
	raw   []byte
	prop  pbft.Proposal
	sync  pbft.SyncRequest
}

type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	return q[i].at < q[j].at || q[i].at == q[j].at && q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type node struct {
	idx     int
	key     crypto.PrivateKey
	byz     bool
	m       *pbft.Machine
	chain   *Chain
	durable uint64
	wal     []byte
	down    bool
	upAt    int
	epoch   int // bumps on crash: answers for the old incarnation are dropped
}

type sim struct {
	cfg      Config
	rng      *rand.Rand
	s        crypto.Suite
	vs       *types.ValidatorSet
	nodes    []*node
	now      int
	seq      uint64
	queue    eventQueue
	verified map[[32]byte]error
	certs    map[[32]byte]error
	decided  map[uint64]common.Hash
	trace    hash.Hash
	lines    []string
	calm     bool
	pending  bool
	group    []int // partition side per validator; nil when whole
	healAt   int
	stormTo  int    // until this tick commits to the victims are lost:
	victims  []bool // prepared blocks must then survive view changes
	err      error
}

// Run executes one seeded simulation. The same Config always yields the
// same Result, down to the trace hash.
func Run(cfg Config) (Result, error) {
	s, err := newSim(cfg)
	if err != nil {
		return Result{}, err
	}
	s.run()
	res := Result{Ticks: s.now, Trace: s.lines}
	copy(res.TraceHash[:], s.trace.Sum(nil))
	for _, nd := range s.nodes {
		h, _ := nd.chain.Head()
		res.Heights = append(res.Heights, h)
	}
	if s.err != nil {
		return res, fmt.Errorf("seed %d, n=%d, tick %d: %w", cfg.Seed, cfg.Validators, s.now, s.err)
	}
	return res, nil
}

func newSim(cfg Config) (*sim, error) {
	suite := crypto.Secp256k1()
	keys, vs, err := Keys(suite, cfg.Validators)
	if err != nil {
		return nil, err
	}
	s := &sim{
		cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x7a11)), s: suite, vs: vs,
		verified: map[[32]byte]error{}, certs: map[[32]byte]error{}, decided: map[uint64]common.Hash{},
		trace: sha256.New(), pending: true,
	}
	byz := s.rng.Perm(cfg.Validators)[:cfg.Byzantine]
	for i, k := range keys {
		nd := &node{idx: i, key: k, chain: s.newChain()}
		for _, b := range byz {
			nd.byz = nd.byz || b == i
		}
		s.nodes = append(s.nodes, nd)
	}
	for _, nd := range s.nodes {
		if err := s.start(nd); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *sim) newChain() *Chain {
	c := NewChain(s.s, "sim", s.vs)
	c.Verify = s.verifyCert
	return c
}

// verifyCert is types.VerifyCertificate, cached by header and certificate.
func (s *sim) verifyCert(h *types.Header, cert *types.Certificate) error {
	key := sha256.Sum256(append(h.Encode(), cert.Encode()...))
	if err, ok := s.certs[key]; ok {
		return err
	}
	err := types.VerifyCertificate(s.s, s.vs, types.QuorumBFT, h, cert)
	s.certs[key] = err
	return err
}

func (s *sim) config(nd *node) pbft.Config {
	cfg := pbft.DefaultConfig()
	cfg.ChainID, cfg.Suite, cfg.Validators = "sim", s.s, s.vs
	cfg.Self, cfg.Signer = nd.key.Address(), nd.key
	cfg.BaseTimeoutTicks, cfg.MaxTimeoutTicks = s.cfg.TimeoutTicks, s.cfg.TimeoutTicks*16
	cfg.SyncRetryTicks, cfg.ReplyIntervalTicks = s.cfg.TimeoutTicks, 2
	return cfg
}

// start builds nd's machine from what is on its disk.
func (s *sim) start(nd *node) error {
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
	m, err := pbft.New(s.config(nd), st)
	if err != nil {
		return err
	}
	nd.m, nd.down = m, false
	m.HasPending(s.pending)
	s.process(nd)
	return nil
}

func (s *sim) log(format string, args ...any) {
	line := fmt.Sprintf("%d ", s.now) + fmt.Sprintf(format, args...)
	s.trace.Write([]byte(line + "\n"))
	if s.cfg.KeepTrace {
		s.lines = append(s.lines, line)
	}
}

func (s *sim) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

func (s *sim) push(e *event) {
	s.seq++
	e.seq = s.seq
	heap.Push(&s.queue, e)
}

func (s *sim) run() {
	end := s.cfg.FaultTicks + s.cfg.LivenessTicks
	var base []uint64
	for s.now = 1; s.now <= end && s.err == nil; s.now++ {
		if s.now == s.cfg.FaultTicks {
			base = s.calmDown()
		}
		if !s.calm {
			s.inject()
		}
		s.drain()
		s.tick()
		if s.cfg.KeepTrace && s.now%20 == 0 {
			s.status()
		}
		if s.calm && s.live(base) {
			return
		}
	}
	if s.err == nil {
		s.fail(fmt.Errorf("%w: heights %v after %d calm ticks, from %v", ErrLiveness, s.heights(), s.cfg.LivenessTicks, base))
	}
}

func (s *sim) drain() {
	for len(s.queue) > 0 && s.queue[0].at <= s.now && s.err == nil {
		e := heap.Pop(&s.queue).(*event)
		s.handle(e)
	}
}

func (s *sim) tick() {
	for _, nd := range s.nodes {
		if nd.down && s.now >= nd.upAt {
			s.restart(nd)
		}
		if !nd.down {
			nd.m.Tick()
			s.process(nd)
		}
		if nd.byz && s.rng.IntN(5) == 0 {
			s.garbage(nd)
		}
	}
}

// calmDown ends the fault phase and returns every validator's height.
func (s *sim) calmDown() []uint64 {
	s.calm, s.group, s.stormTo = true, nil, 0
	s.log("calm")
	s.setPending(true)
	for _, nd := range s.nodes {
		if nd.down {
			s.restart(nd)
		}
	}
	return s.heights()
}

func (s *sim) heights() []uint64 {
	var out []uint64
	for _, nd := range s.nodes {
		h, _ := nd.chain.Head()
		out = append(out, h)
	}
	return out
}

// live reports whether every honest validator has grown by LivenessBlocks.
func (s *sim) live(base []uint64) bool {
	for i, nd := range s.nodes {
		if h, _ := nd.chain.Head(); !nd.byz && h < base[i]+uint64(s.cfg.LivenessBlocks) {
			return false
		}
	}
	return true
}

func (s *sim) setPending(p bool) {
	if s.pending == p {
		return
	}
	s.pending = p
	s.log("pending %v", p)
	for _, nd := range s.nodes {
		if !nd.down {
			nd.m.HasPending(p)
			s.process(nd)
		}
	}
}

// inject draws this tick's faults: idle spells, partitions, crashes.
func (s *sim) inject() {
	if s.pending && s.rng.IntN(150) == 0 || !s.pending && s.rng.IntN(30) == 0 {
		s.setPending(!s.pending) // idle spells: nothing may churn during them
	}
	if s.cfg.Partitions && s.group == nil && s.rng.IntN(150) == 0 {
		s.group = make([]int, len(s.nodes))
		for i := range s.group {
			s.group[i] = s.rng.IntN(2)
		}
		s.healAt = s.now + 10 + s.rng.IntN(80)
		s.log("partition %v", s.group)
	}
	if s.group != nil && s.now >= s.healAt {
		s.group = nil
		s.log("heal")
	}
	if s.now >= s.stormTo && s.rng.IntN(60) == 0 {
		s.stormTo, s.victims = s.now+5+s.rng.IntN(40), make([]bool, len(s.nodes))
		for i := range s.victims {
			s.victims[i] = s.rng.IntN(2) == 0
		}
		s.log("commit storm until %d on %v", s.stormTo, s.victims)
	}
	if s.rng.IntN(1000) < s.cfg.CrashPermille {
		nd := s.nodes[s.rng.IntN(len(s.nodes))]
		if !nd.byz && !nd.down {
			s.crash(nd, "tick")
		}
	}
}

func (s *sim) crash(nd *node, where string) {
	nd.down, nd.upAt, nd.m = true, s.now+5+s.rng.IntN(60), nil
	nd.epoch++
	nd.chain = nd.chain.Clone(nd.durable)
	s.log("crash v%d at %s, durable %d", nd.idx, where, nd.durable)
}

func (s *sim) restart(nd *node) {
	s.log("restart v%d", nd.idx)
	if err := s.start(nd); err != nil {
		s.fail(fmt.Errorf("restart v%d: %w", nd.idx, err))
	}
}

// crashPoint lets a fault-phase crash hit between two durable steps, with
// weight times the usual odds. Crashing right after a commit is weighted
// up: a validator that decided and vanished is what tests whether the
// others can still lose its block.
func (s *sim) crashPoint(nd *node, where string, weight int) bool {
	if s.calm || nd.byz || s.rng.IntN(10000) >= weight*s.cfg.CrashPermille {
		return false
	}
	s.crash(nd, where)
	return true
}

// status records every validator's position in the kept trace.
func (s *sim) status() {
	line := fmt.Sprintf("%d status", s.now)
	for _, nd := range s.nodes {
		if nd.down {
			line += fmt.Sprintf(" v%d:down", nd.idx)
			continue
		}
		st := nd.m.Status()
		line += fmt.Sprintf(" v%d:h%d/v%d/in=%v/t%d/%d", nd.idx, st.Height, st.View, st.InView, st.Timer, st.Timeout)
	}
	s.lines = append(s.lines, line)
}
