package pbft_test

// Each test maps a claim of Castro & Liskov, "Practical Byzantine Fault
// Tolerance", OSDI 1999, to this implementation, as etcd raft's
// raft_paper_test.go does for the Raft paper. Sequence numbers are heights;
// the request m is a block; a height is one PBFT instance whose views
// restart at 0. The machine under test is validator 0 of 4 (f = 1) unless
// a test says otherwise; the leader of (1, 0) is validator 1.

import (
	"errors"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/consensus/pbft"
	"github.com/tallyhq/tally/engine/types"
)

// §4.1: "The primary of a view is replica p such that p = v mod |R|."
// With heights, the primary of (h, v) is (h + v) mod |R|.
func TestPaperPrimaryRotation(t *testing.T) {
	fx := newFixture(t, 4, 0)
	if got := fx.m.Status().Leader; got != fx.addr(1) {
		t.Fatalf("leader of (1,0) = %s, want validator 1", got)
	}
	fx.m.HasPending(true)
	fx.tick(4) // view 0 times out
	fx.mustStep(fx.viewChange(2, 1, nil, nil))
	fx.mustStep(fx.viewChange(3, 1, nil, nil))
	if st := fx.m.Status(); st.View != 1 || st.Leader != fx.addr(2) {
		t.Fatalf("view %d leader %s, want view 1 led by validator 2", st.View, st.Leader)
	}
}

// §4.2: "A backup accepts a pre-prepare message provided: the signatures
// ... are correct and d is the digest for m; it is in view v; it has not
// accepted a pre-prepare message for view v and sequence number n
// containing a different digest; the sequence number ... is between h and H."
func TestPaperPrePrepareAcceptance(t *testing.T) {
	t.Run("only the primary", func(t *testing.T) {
		fx := newFixture(t, 4, 0)
		hash, blk := fx.block(0, 1)
		if err := fx.step(fx.prePrepare(2, 0, hash, blk)); !errors.Is(err, pbft.ErrInvalid) {
			t.Fatalf("pre-prepare from a backup: err %v, want ErrInvalid", err)
		}
		if rd := fx.take(); len(rd.Validate) != 0 {
			t.Fatal("a backup's pre-prepare reached the application")
		}
	})
	t.Run("in view v", func(t *testing.T) {
		fx := newFixture(t, 4, 0)
		hash, blk := fx.block(1, 1)
		fx.mustStep(fx.prePrepare(2, 1, hash, blk)) // primary of view 1, but we are in view 0
		if rd := fx.take(); len(rd.Validate) != 0 || fx.m.Status().Proposal != (common.Hash{}) {
			t.Fatal("accepted a pre-prepare for a view it is not in")
		}
	})
	t.Run("no different digest in the same view", func(t *testing.T) {
		fx := newFixture(t, 4, 0)
		h1, b1 := fx.block(0, 1)
		h2, b2 := fx.block(0, 2)
		fx.mustStep(fx.prePrepare(1, 0, h1, b1))
		fx.mustStep(fx.prePrepare(1, 0, h2, b2))
		rd := fx.take()
		if len(rd.Validate) != 1 || rd.Validate[0].Hash != h1 || fx.m.Status().Proposal != h1 {
			t.Fatalf("after two pre-prepares: validate %v, proposal %x; want only the first", rd.Validate, fx.m.Status().Proposal)
		}
		fx.validated(h1, true)
		if p := sent(fx.take(), pbft.MsgPrepare); len(p) != 1 || p[0].Hash != h1 {
			t.Fatalf("prepares %v, want one for the first digest", p)
		}
	})
	t.Run("a new-view's re-proposal is the view's pre-prepare", func(t *testing.T) {
		fx := newFixture(t, 4, 0)
		old, oldBlk := fx.block(0, 1)
		vcs := []*pbft.Message{
			fx.viewChange(1, 1, fx.preparedCert(0, old, 1, 2, 3), oldBlk),
			fx.viewChange(2, 1, nil, nil), fx.viewChange(3, 1, nil, nil),
		}
		fx.mustStep(fx.newView(2, 1, vcs, old, oldBlk))
		other, otherBlk := fx.block(1, 2)
		fx.mustStep(fx.prePrepare(2, 1, other, otherBlk))
		for _, p := range fx.take().Validate {
			fx.validated(p.Hash, true)
		}
		prepares := sent(fx.take(), pbft.MsgPrepare)
		if fx.m.Status().Proposal != old || len(prepares) != 1 || prepares[0].Hash != old {
			t.Fatalf("proposal %x, prepares %v: a pre-prepare overrode the new-view", fx.m.Status().Proposal, prepares)
		}
	})
	t.Run("sequence number within the window", func(t *testing.T) {
		fx := newFixture(t, 4, 0)
		hash, blk := fx.block(0, 1)
		pp := fx.signed(3, &pbft.Message{Type: pbft.MsgPrePrepare, Height: 3, Hash: hash, Block: blk}) // leader of (3,0)
		fx.mustStep(pp)
		if rd := fx.take(); len(rd.Validate) != 0 {
			t.Fatal("accepted a pre-prepare two heights ahead")
		}
	})
	t.Run("d is the digest for m", func(t *testing.T) {
		fx := newFixture(t, 4, 0)
		hash, blk := fx.block(0, 1)
		fx.mustStep(fx.prePrepare(1, 0, hash, blk))
		if rd := fx.take(); len(rd.Validate) != 1 || len(sent(rd, pbft.MsgPrepare)) != 0 {
			t.Fatal("prepared before the application checked the block")
		}
		fx.validated(hash, false) // the application says the bytes do not match or are invalid
		rd := fx.take()
		if len(sent(rd, pbft.MsgPrepare)) != 0 {
			t.Fatal("prepared a block the application rejected")
		}
		if vc := sent(rd, pbft.MsgViewChange); len(vc) != 1 || vc[0].View != 1 {
			t.Fatalf("an invalid proposal should start a view change at once, got %v", vc)
		}
	})
}

// §4.2: "the predicate prepared(m, v, n, i) [is] true if and only if
// replica i has inserted in its log: the request m, a pre-prepare for m in
// view v with sequence number n, and 2f prepares from different backups
// that match the pre-prepare." Replica i multicasts a commit when it
// becomes true. (The primary's pre-prepare comes with its own prepare, so
// here 2f+1 prepares including i's own is the same count.)
func TestPaperPrepared(t *testing.T) {
	setup := func(t *testing.T) (*fixture, common.Hash) {
		fx := newFixture(t, 4, 0)
		hash, blk := fx.block(0, 1)
		fx.mustStep(fx.prePrepare(1, 0, hash, blk))
		fx.validated(hash, true)
		fx.take()
		return fx, hash
	}
	t.Run("2f matching prepares from different backups", func(t *testing.T) {
		fx, hash := setup(t)
		fx.mustStep(fx.vote(1, pbft.MsgPrepare, 1, 0, hash))
		if len(sent(fx.take(), pbft.MsgCommit)) != 0 {
			t.Fatal("committed with 2 of 3 prepares")
		}
		fx.mustStep(fx.vote(2, pbft.MsgPrepare, 1, 0, hash))
		if c := sent(fx.take(), pbft.MsgCommit); len(c) != 1 || c[0].Hash != hash {
			t.Fatal("did not commit once prepared")
		}
		if p := fx.m.Status().Prepared; p == nil || p.Hash != hash || len(p.Votes) != 3 {
			t.Fatalf("prepared certificate %+v", p)
		}
	})
	t.Run("duplicates and other digests do not count", func(t *testing.T) {
		fx, hash := setup(t)
		other, _ := fx.block(0, 2)
		fx.mustStep(fx.vote(1, pbft.MsgPrepare, 1, 0, hash))
		fx.mustStep(fx.vote(1, pbft.MsgPrepare, 1, 0, hash))
		fx.mustStep(fx.vote(2, pbft.MsgPrepare, 1, 0, other))
		fx.mustStep(fx.vote(3, pbft.MsgPrepare, 1, 1, hash)) // another view
		if len(sent(fx.take(), pbft.MsgCommit)) != 0 {
			t.Fatal("counted a duplicate, a different digest or another view")
		}
	})
	t.Run("needs the pre-prepare", func(t *testing.T) {
		fx := newFixture(t, 4, 0)
		hash, _ := fx.block(0, 1)
		for i := 1; i < 4; i++ {
			fx.mustStep(fx.vote(i, pbft.MsgPrepare, 1, 0, hash))
		}
		if len(sent(fx.take(), pbft.MsgCommit)) != 0 {
			t.Fatal("committed without the pre-prepare")
		}
	})
}

// §4.2: "committed-local(m, v, n, i) is true if and only if prepared(m, v,
// n, i) is true and i has accepted 2f+1 commits (possibly including its
// own) from different replicas that match the pre-prepare for m." The
// 2f+1 commits are the block's finality certificate.
func TestPaperCommittedLocal(t *testing.T) {
	fx := newFixture(t, 4, 0)
	hash, blk := fx.block(0, 1)
	fx.mustStep(fx.prePrepare(1, 0, hash, blk))
	fx.validated(hash, true)
	for _, p := range fx.votes(pbft.MsgPrepare, 0, hash, 1, 2) {
		fx.mustStep(p)
	}
	fx.mustStep(fx.vote(1, pbft.MsgCommit, 1, 0, hash))
	fx.mustStep(fx.vote(1, pbft.MsgCommit, 1, 0, hash)) // a duplicate is not a second replica
	if rd := fx.take(); len(rd.Committed) != 0 {
		t.Fatal("committed with 2 distinct commits")
	}
	fx.mustStep(fx.vote(3, pbft.MsgCommit, 1, 0, hash))
	rd := fx.take()
	if len(rd.Committed) != 1 || rd.Committed[0].Hash != hash {
		t.Fatalf("committed %v, want the block", rd.Committed)
	}
	c := rd.Committed[0]
	b, err := types.DecodeBlock(c.Block)
	if err != nil {
		t.Fatal(err)
	}
	if err := types.VerifyCertificate(fx.s, fx.vs, types.QuorumBFT, b.Header, c.Cert); err != nil {
		t.Fatalf("certificate: %v", err)
	}
	if c.Cert.Round != 0 || fx.m.Status().Height != 2 {
		t.Fatalf("round %d height %d", c.Cert.Round, fx.m.Status().Height)
	}
}

// §4.4: "If the timer of backup i expires in view v, the backup starts a
// view change to move the system to view v+1. It stops accepting messages
// (other than checkpoint, view-change, and new-view messages) and
// multicasts a VIEW-CHANGE message."
func TestPaperViewChangeOnTimeout(t *testing.T) {
	fx := newFixture(t, 4, 0)
	hash, blk := fx.block(0, 1)
	fx.m.HasPending(true)
	fx.tick(3)
	if len(sent(fx.take(), pbft.MsgViewChange)) != 0 {
		t.Fatal("view change before the timer expired")
	}
	fx.tick(1)
	if vc := sent(fx.take(), pbft.MsgViewChange); len(vc) != 1 || vc[0].View != 1 {
		t.Fatalf("view changes %v, want one for view 1", vc)
	}
	fx.mustStep(fx.prePrepare(1, 0, hash, blk))
	fx.validated(hash, true)
	for _, p := range fx.votes(pbft.MsgPrepare, 0, hash, 1, 2, 3) {
		fx.mustStep(p)
	}
	rd := fx.take()
	if len(sent(rd, pbft.MsgPrepare))+len(sent(rd, pbft.MsgCommit)) != 0 {
		t.Fatal("voted in the view it left")
	}
}

// §4.4: the view change carries "P [, which] is a set containing a set Pm
// for each request m that prepared at i with a sequence number higher than
// n. Each set Pm contains a valid pre-prepare message ... and 2f matching,
// valid prepare messages."
func TestPaperViewChangeCarriesP(t *testing.T) {
	fx := newFixture(t, 4, 0)
	hash, blk := fx.block(0, 1)
	fx.mustStep(fx.prePrepare(1, 0, hash, blk))
	fx.validated(hash, true)
	for _, p := range fx.votes(pbft.MsgPrepare, 0, hash, 1, 2) {
		fx.mustStep(p)
	}
	fx.take()
	fx.tick(4)
	vc := sent(fx.take(), pbft.MsgViewChange)
	if len(vc) != 1 || vc[0].Prepared == nil || vc[0].Prepared.Hash != hash || vc[0].Prepared.View != 0 {
		t.Fatalf("view change %v does not carry the prepared certificate", vc)
	}
	if err := pbft.VerifyMessage(fx.s, fx.vs, vc[0]); err != nil {
		t.Fatalf("the carried certificate does not verify: %v", err)
	}
	if string(vc[0].Block) != string(blk) {
		t.Fatal("the view change does not carry the prepared block")
	}
}

// §4.4: "When the primary p of view v+1 receives 2f valid view-change
// messages for view v+1 from other replicas, it multicasts a NEW-VIEW
// message ... O is computed as follows ... if there is at least one set in
// the P component of some view-change message in V with sequence number n,
// the primary creates a new message pre-prepare ... where d is the request
// digest in the pre-prepare message for sequence number n with the highest
// view number in V [; otherwise] a null request."
func TestPaperNewViewFromV(t *testing.T) {
	fx := newFixture(t, 4, 2) // validator 2 leads view 1 at height 1
	old, oldBlk := fx.block(0, 1)
	fx.m.HasPending(true)
	fx.tick(4) // our own view change to 1
	fx.take()
	fx.mustStep(fx.viewChange(0, 1, fx.preparedCert(0, old, 0, 1, 3), oldBlk))
	if nv := sent(fx.take(), pbft.MsgNewView); len(nv) != 0 {
		t.Fatal("new-view with fewer than 2f view changes from others")
	}
	fx.mustStep(fx.viewChange(3, 1, nil, nil))
	nv := sent(fx.take(), pbft.MsgNewView)
	if len(nv) != 1 || nv[0].Hash != old || string(nv[0].Block) != string(oldBlk) || len(nv[0].ViewChanges) != 3 {
		t.Fatalf("new-view %v, want a re-proposal of the prepared block with 3 view changes", nv)
	}
	if err := pbft.VerifyMessage(fx.s, fx.vs, nv[0]); err != nil {
		t.Fatalf("new-view does not verify: %v", err)
	}
}

// §4.4, the same computation with nothing prepared: the new primary makes
// no re-proposal, and proposes a fresh block only when it has requests.
func TestPaperNewViewWithoutP(t *testing.T) {
	fx := newFixture(t, 4, 2)
	fx.m.HasPending(true)
	fx.tick(4)
	fx.mustStep(fx.viewChange(0, 1, nil, nil))
	fx.mustStep(fx.viewChange(3, 1, nil, nil))
	rd := fx.take()
	nv := sent(rd, pbft.MsgNewView)
	if len(nv) != 1 || nv[0].Hash != (common.Hash{}) || len(nv[0].Block) != 0 {
		t.Fatalf("new-view %v, want no re-proposal", nv)
	}
	if rd.Propose == nil || rd.Propose.View != 1 {
		t.Fatalf("propose request %+v, want one for view 1", rd.Propose)
	}
}

// §4.4: "A backup accepts a new-view message for view v+1 if it is signed
// properly, if the view-change messages it contains are valid for view
// v+1, and if the set O is correct; it verifies the correctness of O by
// performing a computation similar to the one used by the primary."
func TestPaperBackupChecksNewView(t *testing.T) {
	fx := newFixture(t, 4, 0)
	old, oldBlk := fx.block(0, 1)
	other, otherBlk := fx.block(1, 2)
	vcs := []*pbft.Message{
		fx.viewChange(1, 1, fx.preparedCert(0, old, 1, 2, 3), oldBlk),
		fx.viewChange(2, 1, nil, nil),
		fx.viewChange(3, 1, nil, nil),
	}
	cases := []struct {
		name string
		msg  *pbft.Message
		want error
	}{
		{"O ignores P", fx.newView(2, 1, vcs, other, otherBlk), pbft.ErrInvalid},
		{"null O despite P", fx.newView(2, 1, vcs, common.Hash{}, nil), pbft.ErrInvalid},
		{"2f view changes only", fx.newView(2, 1, vcs[:2], old, oldBlk), pbft.ErrQuorum},
		{"not the primary of v+1", fx.newView(3, 1, vcs, old, oldBlk), pbft.ErrInvalid},
		{"one replica twice", fx.newView(2, 1, []*pbft.Message{vcs[0], vcs[1], vcs[1]}, old, oldBlk), pbft.ErrInvalid},
	}
	for _, c := range cases {
		if err := fx.step(c.msg); !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
		}
		if fx.m.Status().View != 0 {
			t.Fatalf("%s: moved to view %d", c.name, fx.m.Status().View)
		}
	}
	fx.mustStep(fx.newView(2, 1, vcs, old, oldBlk))
	if st := fx.m.Status(); st.View != 1 || !st.InView || st.Proposal != old {
		t.Fatalf("valid new-view not followed: %+v", st)
	}
}

// §4.4: "... the request digest in the pre-prepare message for sequence
// number n with the highest view number in V": with certificates from
// views 0 and 1, only the view-1 block is a correct O for view 2.
func TestPaperNewViewHighestView(t *testing.T) {
	fx := newFixture(t, 4, 0)
	a, aBlk := fx.block(0, 1)
	b, bBlk := fx.block(1, 2)
	vcs := []*pbft.Message{
		fx.viewChange(1, 2, fx.preparedCert(0, a, 1, 2, 3), aBlk),
		fx.viewChange(2, 2, fx.preparedCert(1, b, 0, 2, 3), bBlk),
		fx.viewChange(3, 2, nil, nil),
	}
	if err := fx.step(fx.newView(3, 2, vcs, a, aBlk)); !errors.Is(err, pbft.ErrInvalid) {
		t.Fatalf("new-view re-proposing the lower view's block: %v, want ErrInvalid", err)
	}
	fx.mustStep(fx.newView(3, 2, vcs, b, bBlk))
	if st := fx.m.Status(); st.View != 2 || st.Proposal != b {
		t.Fatalf("status %+v, want view 2 with the view-1 block", st)
	}
}

// §4.5.2: "if a replica receives a set of f+1 valid view-change messages
// from other replicas for views greater than its current view, it sends a
// view-change message for the smallest view in the set, even if its timer
// has not expired."
func TestPaperJoinOnFPlusOne(t *testing.T) {
	fx := newFixture(t, 4, 0)
	fx.mustStep(fx.viewChange(1, 3, nil, nil))
	if len(sent(fx.take(), pbft.MsgViewChange)) != 0 {
		t.Fatal("joined on f view changes")
	}
	fx.mustStep(fx.viewChange(2, 2, nil, nil))
	vc := sent(fx.take(), pbft.MsgViewChange)
	if len(vc) != 1 || vc[0].View != 2 {
		t.Fatalf("view changes %v, want one for view 2, the smallest of the f+1", vc)
	}
}

// §4.5.2: "If the timer expires before it receives a valid new-view
// message for v+1 ..., it starts the view change for view v+2 but this
// time it will wait 2T before starting a view change for view v+3." And:
// "a replica that multicasts a view-change message for view v+1 waits for
// 2f+1 view-change messages for view v+1 and then starts its timer."
func TestPaperTimerDoublesAndWaitsForQuorum(t *testing.T) {
	fx := newFixture(t, 4, 0)
	fx.m.HasPending(true)
	fx.tick(4)
	fx.take()
	if st := fx.m.Status(); st.View != 1 || st.Timeout != 8 {
		t.Fatalf("view %d timeout %d, want view 1 with 2T = 8", st.View, st.Timeout)
	}
	fx.tick(20) // alone: retransmits, never escalates
	if rd := fx.take(); fx.m.Status().View != 1 || len(sent(rd, pbft.MsgViewChange)) == 0 {
		t.Fatalf("a lone view change escalated to %d or was not retransmitted", fx.m.Status().View)
	}
	fx.mustStep(fx.viewChange(1, 1, nil, nil))
	fx.mustStep(fx.viewChange(3, 1, nil, nil)) // 2f+1 with ours; the primary (2) is silent
	fx.tick(7)
	if fx.m.Status().View != 1 {
		t.Fatal("escalated before 2T after the quorum formed")
	}
	fx.tick(1)
	if st := fx.m.Status(); st.View != 2 || st.Timeout != 16 {
		t.Fatalf("view %d timeout %d, want view 2 with 4T", st.View, st.Timeout)
	}
}

// §4.1/§4.2: replicas "log" what they send (stable storage, §4.2's
// sequence of events), and "A replica never sends two different prepares
// for the same view and sequence number". Here the log is HardState: a
// restarted replica re-sends the same prepare and refuses a conflict.
func TestPaperLoggedPromisesSurviveRestart(t *testing.T) {
	fx := newFixture(t, 4, 0)
	h1, b1 := fx.block(0, 1)
	h2, b2 := fx.block(0, 2)
	fx.mustStep(fx.prePrepare(1, 0, h1, b1))
	fx.validated(h1, true)
	fx.take()
	fx.restart(pbft.Start{Hash: fx.chain.Blocks[0].Hash(fx.s), State: fx.wal})
	if p := sent(fx.take(), pbft.MsgPrepare); len(p) != 1 || p[0].Hash != h1 {
		t.Fatalf("restart re-sent %v, want the same prepare", p)
	}
	fx.mustStep(fx.prePrepare(1, 0, h2, b2)) // a Byzantine primary's second proposal
	fx.validated(h2, true)
	if p := sent(fx.take(), pbft.MsgPrepare); len(p) != 0 {
		t.Fatalf("prepared a conflicting block after restart: %v", p)
	}
}

// §4 (system model): "all replicas know the others' public keys to verify
// signatures"; a message whose signature or evidence does not verify is
// discarded before it reaches the protocol.
func TestPaperSignaturesChecked(t *testing.T) {
	fx := newFixture(t, 4, 0)
	hash, _ := fx.block(0, 1)
	good := fx.vote(1, pbft.MsgPrepare, 1, 0, hash)
	tampered := *good
	tampered.Hash[0] ^= 1
	impostor := *good
	impostor.From = fx.addr(2)
	weak := fx.viewChange(1, 1, fx.preparedCert(0, hash, 1, 2), nil)
	forged := fx.viewChange(1, 1, fx.preparedCert(0, hash, 1, 2, 3), nil)
	forged.Prepared.Votes[2].Sig = forged.Prepared.Votes[1].Sig
	for name, m := range map[string]*pbft.Message{"tampered": &tampered, "impostor": &impostor, "forged evidence": forged} {
		if err := pbft.VerifyMessage(fx.s, fx.vs, m); !errors.Is(err, pbft.ErrSignature) {
			t.Errorf("%s: %v, want ErrSignature", name, err)
		}
	}
	if err := pbft.VerifyMessage(fx.s, fx.vs, weak); !errors.Is(err, pbft.ErrQuorum) {
		t.Errorf("prepared certificate of 2f: %v, want ErrQuorum", err)
	}
	if err := pbft.VerifyMessage(fx.s, fx.vs, good); err != nil {
		t.Errorf("good prepare: %v", err)
	}
}
