package pbft_test

import (
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/consensus/pbft"
	"github.com/tallyhq/tally/engine/consensus/pbft/pbftsim"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/types"
)

// fixture is one machine under test, with every validator's key so a test
// can forge any peer's correctly signed messages.
type fixture struct {
	t     *testing.T
	s     crypto.Suite
	keys  []crypto.PrivateKey
	vs    *types.ValidatorSet
	self  int
	cfg   pbft.Config
	m     *pbft.Machine
	chain *pbftsim.Chain
	out   pbft.Ready // everything the machine emitted since the last take
	wal   *pbft.HardState
}

// newFixture runs validator self of n (timeout 4 ticks) at height 1.
func newFixture(t *testing.T, n, self int) *fixture {
	t.Helper()
	s := crypto.Secp256k1()
	keys, vs, err := pbftsim.Keys(s, n)
	if err != nil {
		t.Fatal(err)
	}
	cfg := pbft.DefaultConfig()
	cfg.ChainID, cfg.Suite, cfg.Validators = testChain, s, vs
	cfg.Self, cfg.Signer = keys[self].Address(), keys[self]
	cfg.BaseTimeoutTicks, cfg.MaxTimeoutTicks, cfg.ReplyIntervalTicks = 4, 64, 1
	fx := &fixture{t: t, s: s, keys: keys, vs: vs, self: self, cfg: cfg, chain: pbftsim.NewChain(s, testChain, vs)}
	fx.restart(pbft.Start{Hash: fx.chain.Blocks[0].Hash(s)})
	return fx
}

func (fx *fixture) restart(st pbft.Start) {
	fx.t.Helper()
	m, err := pbft.New(fx.cfg, st)
	if err != nil {
		fx.t.Fatal(err)
	}
	fx.m, fx.out = m, pbft.Ready{}
	fx.collect()
}

// collect drains the machine's Ready values into fx.out, as a node would.
func (fx *fixture) collect() {
	for fx.m.HasReady() {
		rd := fx.m.Ready()
		if rd.HardState != nil {
			fx.wal, fx.out.HardState = rd.HardState, rd.HardState
		}
		fx.out.Messages = append(fx.out.Messages, rd.Messages...)
		fx.out.Validate = append(fx.out.Validate, rd.Validate...)
		fx.out.Committed = append(fx.out.Committed, rd.Committed...)
		if rd.Propose != nil {
			fx.out.Propose = rd.Propose
		}
		if rd.Sync != nil {
			fx.out.Sync = rd.Sync
		}
		if rd.Err != nil {
			fx.out.Err = rd.Err
		}
		fx.m.Advance()
	}
}

// take returns and clears what was emitted.
func (fx *fixture) take() pbft.Ready {
	rd := fx.out
	fx.out = pbft.Ready{}
	return rd
}

func (fx *fixture) addr(i int) common.Address { return fx.keys[i].Address() }

// signed builds a message from validator from, signed with its key.
func (fx *fixture) signed(from int, m *pbft.Message) *pbft.Message {
	fx.t.Helper()
	m.ChainID, m.From = testChain, fx.addr(from)
	sig, err := fx.keys[from].Sign(m.Digest(fx.s))
	if err != nil {
		fx.t.Fatal(err)
	}
	m.Sig = sig
	return m
}

func (fx *fixture) vote(from int, t pbft.MsgType, h, v uint64, hash common.Hash) *pbft.Message {
	return fx.signed(from, &pbft.Message{Type: t, Height: h, View: v, Hash: hash})
}

// block builds a valid block for height 1 proposed in view v.
func (fx *fixture) block(v uint64, salt uint64) (common.Hash, []byte) {
	leader := int((1 + v) % uint64(fx.vs.Len()))
	return fx.chain.Build(v, fx.addr(leader), salt, false)
}

func (fx *fixture) prePrepare(from int, v uint64, hash common.Hash, blk []byte) *pbft.Message {
	return fx.signed(from, &pbft.Message{Type: pbft.MsgPrePrepare, Height: 1, View: v, Hash: hash, Block: blk})
}

// step verifies and steps msg as the node would, and collects the output.
func (fx *fixture) step(msg *pbft.Message) error {
	fx.t.Helper()
	if err := pbft.VerifyMessage(fx.s, fx.vs, msg); err != nil {
		fx.t.Fatalf("test built an unverifiable %s: %v", msg.Type, err)
	}
	err := fx.m.Step(msg)
	fx.collect()
	return err
}

func (fx *fixture) mustStep(msg *pbft.Message) {
	fx.t.Helper()
	if err := fx.step(msg); err != nil {
		fx.t.Fatalf("step %s: %v", msg, err)
	}
}

func (fx *fixture) tick(n int) {
	for range n {
		fx.m.Tick()
	}
	fx.collect()
}

func (fx *fixture) validated(hash common.Hash, ok bool) {
	st := fx.m.Status()
	fx.m.Validated(st.Height, st.View, hash, ok)
	fx.collect()
}

// sent returns the messages of type t emitted since the last take.
func sent(rd pbft.Ready, t pbft.MsgType) []*pbft.Message {
	var out []*pbft.Message
	for _, e := range rd.Messages {
		if e.Msg.Type == t {
			out = append(out, e.Msg)
		}
	}
	return out
}

// prepareQuorum returns prepares for hash in view v from the validators in from.
func (fx *fixture) votes(t pbft.MsgType, v uint64, hash common.Hash, from ...int) []*pbft.Message {
	var out []*pbft.Message
	for _, i := range from {
		out = append(out, fx.vote(i, t, 1, v, hash))
	}
	return out
}

// preparedCert builds a valid prepared certificate for (1, v, hash).
func (fx *fixture) preparedCert(v uint64, hash common.Hash, from ...int) *pbft.PreparedCert {
	pc := &pbft.PreparedCert{View: v, Hash: hash}
	for _, i := range from {
		sig, err := fx.keys[i].Sign(pbft.PrepareDigest(fx.s, testChain, 1, v, hash))
		if err != nil {
			fx.t.Fatal(err)
		}
		pc.Votes = append(pc.Votes, types.Vote{Signer: fx.addr(i), Sig: sig})
	}
	return pc
}

func (fx *fixture) viewChange(from int, v uint64, p *pbft.PreparedCert, blk []byte) *pbft.Message {
	return fx.signed(from, &pbft.Message{Type: pbft.MsgViewChange, Height: 1, View: v, Prepared: p, Block: blk})
}

// newView builds a new-view for view v from the given view changes.
func (fx *fixture) newView(leader int, v uint64, vcs []*pbft.Message, hash common.Hash, blk []byte) *pbft.Message {
	nv := &pbft.Message{Type: pbft.MsgNewView, Height: 1, View: v, Hash: hash, Block: blk}
	for _, vc := range vcs {
		nv.ViewChanges = append(nv.ViewChanges, pbft.ViewChange{From: vc.From, Prepared: vc.Prepared, Sig: vc.Sig})
	}
	return fx.signed(leader, nv)
}

// commitCert builds a certificate for (h, round, hash) signed by from.
func (fx *fixture) commitCert(h, round uint64, hash common.Hash, from ...int) *types.Certificate {
	c := &types.Certificate{ChainID: testChain, Height: h, Round: round, BlockHash: hash}
	for _, i := range from {
		sig, err := fx.keys[i].Sign(types.CommitDigest(fx.s, testChain, h, round, hash))
		if err != nil {
			fx.t.Fatal(err)
		}
		c.Votes = append(c.Votes, types.Vote{Signer: fx.addr(i), Sig: sig})
	}
	return c
}
