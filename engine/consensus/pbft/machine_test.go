package pbft_test

import (
	"errors"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/consensus/pbft"
)

// An idle chain sends nothing and runs no view timer, however long it
// waits, and asks nobody for a block.
func TestIdleChainIsSilent(t *testing.T) {
	for self := range 4 {
		fx := newFixture(t, 4, self)
		fx.take()
		fx.tick(1000)
		rd := fx.take()
		if len(rd.Messages) != 0 || rd.Propose != nil || fx.m.Status().View != 0 || fx.m.Status().Busy {
			t.Fatalf("validator %d idle: %d messages, propose %v, status %+v", self, len(rd.Messages), rd.Propose, fx.m.Status())
		}
	}
}

// View changes alone are not work: a Byzantine validator (or f of them)
// cannot make an idle validator churn views.
func TestIdleIgnoresLoneViewChanges(t *testing.T) {
	fx := newFixture(t, 4, 0)
	fx.mustStep(fx.viewChange(3, 1, nil, nil))
	hash, _ := fx.block(0, 1)
	fx.mustStep(fx.vote(3, pbft.MsgPrepare, 1, 0, hash))
	fx.tick(100)
	if rd := fx.take(); len(rd.Messages) != 0 || fx.m.Status().View != 0 {
		t.Fatalf("one faulty validator made an idle one act: %v", rd.Messages)
	}
}

// A view change that nobody needs is not work either: once the view
// changes of others made this validator join, their retransmissions must
// not start its timer, or an idle chain would escalate views forever.
func TestIdleViewChangeDoesNotChurn(t *testing.T) {
	fx := newFixture(t, 4, 0)
	vcs := []*pbft.Message{fx.viewChange(1, 1, nil, nil), fx.viewChange(3, 1, nil, nil)}
	for _, vc := range vcs {
		fx.mustStep(vc)
	}
	if st := fx.m.Status(); st.View != 1 || st.InView {
		t.Fatalf("did not join: %+v", st)
	}
	for range 5 {
		for _, vc := range vcs {
			fx.mustStep(vc) // retransmissions
		}
		fx.tick(100)
	}
	if st := fx.m.Status(); st.View != 1 || st.Busy {
		t.Fatalf("idle validator escalated to view %d (busy %v)", st.View, st.Busy)
	}
}

// An unanswered sync request is repeated: the peer asked may be behind.
func TestSyncRetried(t *testing.T) {
	fx := newFixture(t, 4, 0)
	fx.restart(pbft.Start{Hash: fx.chain.Blocks[0].Hash(fx.s), State: &pbft.HardState{Height: 3, InView: true}})
	if fx.take().Sync == nil {
		t.Fatal("no sync request")
	}
	fx.tick(fx.cfg.SyncRetryTicks)
	if rd := fx.take(); rd.Sync == nil || rd.Sync.Height != 2 {
		t.Fatalf("sync request not repeated: %+v", rd.Sync)
	}
}

// Only a leader with pending transactions is asked for a block.
func TestProposeOnlyWithPending(t *testing.T) {
	fx := newFixture(t, 4, 1)
	if rd := fx.take(); rd.Propose != nil {
		t.Fatal("asked for a block without transactions")
	}
	fx.m.HasPending(true)
	fx.collect()
	rd := fx.take()
	if rd.Propose == nil || rd.Propose.Height != 1 || rd.Propose.View != 0 || rd.Propose.Parent != fx.chain.Blocks[0].Hash(fx.s) {
		t.Fatalf("propose request %+v", rd.Propose)
	}
	hash, blk := fx.block(0, 1)
	if err := fx.m.Propose(1, 1, hash, blk); !errors.Is(err, pbft.ErrNotNow) {
		t.Fatalf("proposal for the wrong view: %v", err)
	}
	if err := fx.m.Propose(1, 0, hash, blk); err != nil {
		t.Fatal(err)
	}
	if err := fx.m.Propose(1, 0, hash, blk); !errors.Is(err, pbft.ErrNotNow) {
		t.Fatalf("second proposal in a view: %v", err)
	}
	fx.collect()
	rd = fx.take()
	if len(sent(rd, pbft.MsgPrePrepare)) != 1 || len(sent(rd, pbft.MsgPrepare)) != 1 || rd.HardState.Proposed != hash {
		t.Fatalf("leader sent %v with hard state %+v", rd.Messages, rd.HardState)
	}
}

// The next height starts as soon as a block commits: the next leader is
// asked for its block in the same Ready as the commit (pipelining).
func TestNextProposalWithTheCommit(t *testing.T) {
	fx := newFixture(t, 4, 2) // leads height 2, view 0
	fx.m.HasPending(true)
	hash, blk := fx.block(0, 1)
	fx.mustStep(fx.prePrepare(1, 0, hash, blk))
	fx.validated(hash, true)
	for _, m := range append(fx.votes(pbft.MsgPrepare, 0, hash, 1, 3), fx.votes(pbft.MsgCommit, 0, hash, 1, 3)...) {
		fx.mustStep(m)
	}
	rd := fx.take()
	if len(rd.Committed) != 1 || rd.Propose == nil || rd.Propose.Height != 2 || rd.Propose.Parent != hash {
		t.Fatalf("committed %d, propose %+v", len(rd.Committed), rd.Propose)
	}
}

// Messages for the next height arrive before this one commits; they are
// kept and used once it does.
func TestFutureHeightBuffered(t *testing.T) {
	fx := newFixture(t, 4, 0)
	h1, b1 := fx.block(0, 1)
	fx.mustStep(fx.prePrepare(1, 0, h1, b1))
	fx.validated(h1, true)
	next := &pbft.Message{Type: pbft.MsgPrePrepare, Height: 2, Hash: common.Hash{2}, Block: []byte{1}}
	fx.mustStep(fx.signed(2, next)) // leader of (2, 0)
	for _, m := range append(fx.votes(pbft.MsgPrepare, 0, h1, 1, 2), fx.votes(pbft.MsgCommit, 0, h1, 1, 2)...) {
		fx.mustStep(m)
	}
	rd := fx.take()
	if len(rd.Committed) != 1 || len(rd.Validate) != 2 || rd.Validate[1].Height != 2 {
		t.Fatalf("committed %d, validate %+v: the early pre-prepare was lost", len(rd.Committed), rd.Validate)
	}
}

// A certificate from a peer above our height yields a sync request, and
// SyncedTo moves the machine past it.
func TestSyncFromCertificate(t *testing.T) {
	fx := newFixture(t, 4, 0)
	hash := common.Hash{9}
	cert := fx.commitCert(5, 0, hash, 1, 2, 3)
	fx.mustStep(fx.signed(1, &pbft.Message{Type: pbft.MsgCertificate, Height: 5, Hash: hash, Cert: cert}))
	rd := fx.take()
	if rd.Sync == nil || rd.Sync.Height != 5 || len(rd.Sync.Peers) != 1 || rd.Sync.Peers[0] != fx.addr(1) {
		t.Fatalf("sync request %+v", rd.Sync)
	}
	if err := fx.m.SyncedTo(5, common.Hash{8}, cert); !errors.Is(err, pbft.ErrInvalid) {
		t.Fatalf("SyncedTo with a mismatched certificate: %v", err)
	}
	if err := fx.m.SyncedTo(5, hash, cert); err != nil {
		t.Fatal(err)
	}
	if st := fx.m.Status(); st.Height != 6 || st.LastHash != hash {
		t.Fatalf("after sync: %+v", st)
	}
}

// f+1 validators two heights ahead are enough evidence to sync; f are not.
func TestSyncFromFPlusOneAhead(t *testing.T) {
	fx := newFixture(t, 4, 0)
	fx.mustStep(fx.signed(1, &pbft.Message{Type: pbft.MsgPrepare, Height: 7, Hash: common.Hash{1}}))
	if fx.take().Sync != nil {
		t.Fatal("synced on one validator's word")
	}
	fx.mustStep(fx.signed(2, &pbft.Message{Type: pbft.MsgPrepare, Height: 4, Hash: common.Hash{1}}))
	if rd := fx.take(); rd.Sync == nil || rd.Sync.Height != 3 {
		t.Fatalf("sync %+v, want up to height 3 (f+1 are at 4 or more)", rd.Sync)
	}
}

// A validator stuck at an old height that asks for a view change gets the
// latest certificate from a peer that moved on.
func TestLaggardGetsCertificate(t *testing.T) {
	fx := newFixture(t, 4, 0)
	hash, blk := fx.block(0, 1)
	fx.mustStep(fx.prePrepare(1, 0, hash, blk))
	fx.validated(hash, true)
	for _, m := range append(fx.votes(pbft.MsgPrepare, 0, hash, 1, 2), fx.votes(pbft.MsgCommit, 0, hash, 1, 2)...) {
		fx.mustStep(m)
	}
	fx.take()
	fx.mustStep(fx.viewChange(3, 1, nil, nil)) // validator 3 still at height 1
	rd := fx.take()
	c := sent(rd, pbft.MsgCertificate)
	if len(c) != 1 || rd.Messages[0].To != fx.addr(3) || c[0].Cert.BlockHash != hash {
		t.Fatalf("reply %v, want our certificate for height 1 to validator 3", rd.Messages)
	}
}

// A WAL ahead of the durable chain (blocks lost after the promises were
// written) makes the machine sync and sign nothing below that height; once
// there it keeps the old promises.
func TestGuardedRestart(t *testing.T) {
	fx := newFixture(t, 4, 0)
	wal := &pbft.HardState{Height: 3, View: 0, InView: true, Prepare: common.Hash{7}}
	fx.restart(pbft.Start{Hash: fx.chain.Blocks[0].Hash(fx.s), State: wal})
	rd := fx.take()
	if rd.Sync == nil || rd.Sync.Height != 2 || rd.HardState != nil || !fx.m.Status().Guarded {
		t.Fatalf("guarded restart: sync %+v, hard state %+v", rd.Sync, rd.HardState)
	}
	hash, blk := fx.block(0, 1)
	fx.mustStep(fx.prePrepare(1, 0, hash, blk))
	fx.validated(hash, true)
	fx.m.HasPending(true)
	fx.tick(100)
	if rd := fx.take(); len(rd.Messages) != 0 || rd.HardState != nil {
		t.Fatalf("guarded machine acted: %v", rd.Messages)
	}
	if err := fx.m.SyncedTo(2, common.Hash{2}, fx.commitCert(2, 0, common.Hash{2}, 1, 2, 3)); err != nil {
		t.Fatal(err)
	}
	fx.collect()
	rd = fx.take()
	if p := sent(rd, pbft.MsgPrepare); len(p) != 1 || p[0].Hash != (common.Hash{7}) || fx.m.Status().Guarded {
		t.Fatalf("at the WAL's height the old prepare must be restored and re-sent: %v", rd.Messages)
	}
}

type failingSigner struct{}

func (failingSigner) Sign(common.Hash) ([]byte, error) { return nil, errors.New("hsm offline") }

// A signer failure stops the machine and is reported in Ready.Err; no
// promise is recorded without its signature.
func TestSignerFailure(t *testing.T) {
	fx := newFixture(t, 4, 0)
	fx.cfg.Signer = failingSigner{}
	fx.restart(pbft.Start{Hash: fx.chain.Blocks[0].Hash(fx.s)})
	hash, blk := fx.block(0, 1)
	fx.mustStep(fx.prePrepare(1, 0, hash, blk))
	fx.validated(hash, true)
	rd := fx.take()
	if !errors.Is(rd.Err, pbft.ErrSigner) || len(rd.Messages) != 0 {
		t.Fatalf("err %v, messages %v", rd.Err, rd.Messages)
	}
	if rd.HardState != nil && rd.HardState.Prepare != (common.Hash{}) {
		t.Fatal("recorded a prepare it could not sign")
	}
	if err := fx.m.Step(fx.vote(2, pbft.MsgPrepare, 1, 0, hash)); !errors.Is(err, pbft.ErrSigner) {
		t.Fatalf("Step after signer failure: %v", err)
	}
}

// Ready hands out nothing new until Advance.
func TestReadyAdvance(t *testing.T) {
	fx := newFixture(t, 4, 1)
	fx.m.HasPending(true)
	if !fx.m.HasReady() {
		t.Fatal("no Ready with a propose request")
	}
	rd := fx.m.Ready()
	if rd.Propose == nil || fx.m.HasReady() {
		t.Fatal("Ready in flight must block the next one")
	}
	if again := fx.m.Ready(); !again.Empty() {
		t.Fatal("a second Ready before Advance")
	}
	fx.m.Advance()
}

// Step rejects what does not fit, with the sentinel the node tests for.
func TestStepRejects(t *testing.T) {
	fx := newFixture(t, 4, 0)
	hash, _ := fx.block(0, 1)
	other := fx.vote(1, pbft.MsgPrepare, 1, 0, hash)
	other.ChainID = "other"
	stranger := *fx.vote(1, pbft.MsgPrepare, 1, 0, hash)
	stranger.From = common.Address{1}
	cases := map[string]struct {
		m    *pbft.Message
		want error
	}{
		"nil":           {nil, pbft.ErrMalformed},
		"wrong chain":   {other, pbft.ErrWrongChain},
		"non-member":    {&stranger, pbft.ErrNotValidator},
		"no signature":  {&pbft.Message{Type: pbft.MsgPrepare, ChainID: testChain, Height: 1, From: fx.addr(1), Hash: hash}, pbft.ErrMalformed},
		"weak evidence": {fx.signed(1, &pbft.Message{Type: pbft.MsgCertificate, Height: 1, Hash: hash, Cert: fx.commitCert(1, 0, hash, 1, 2)}), pbft.ErrQuorum},
	}
	for name, c := range cases {
		if err := fx.m.Step(c.m); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	fx := newFixture(t, 4, 0)
	for name, mut := range map[string]func(*pbft.Config){
		"no chain":     func(c *pbft.Config) { c.ChainID = "" },
		"not a member": func(c *pbft.Config) { c.Self = common.Address{1} },
		"no signer":    func(c *pbft.Config) { c.Signer = nil },
		"timeouts":     func(c *pbft.Config) { c.MaxTimeoutTicks = c.BaseTimeoutTicks - 1 },
	} {
		cfg := fx.cfg
		mut(&cfg)
		if _, err := pbft.New(cfg, pbft.Start{}); !errors.Is(err, pbft.ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
