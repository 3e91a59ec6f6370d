package simulation

import (
	"bytes"
	"context"
	"github.com/tallyhq/tally/engine/chain"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/tallyhq/tally/engine/settlement"
	"github.com/tallyhq/tally/engine/storage"
	"github.com/tallyhq/tally/relay"
)

// hubTrusts reports whether the hub's light client of u trusts exactly u's current set.
func hubTrusts(ctx context.Context, cl *Cluster, u *Chain) (bool, error) {
	cs, err := view(ctx, cl.Hub.Client, hubContract, "chainState", u.ID)
	if err != nil {
		return false, err
	}
	c, err := settlement.DecodeClient(cs[7].([]byte))
	if err != nil {
		return false, err
	}
	set, err := view(ctx, u.Client, consensusAdmin, "validatorSet")
	if err != nil {
		return false, err
	}
	return bytes.Equal(c.Validators, set[0].([]byte)), nil
}

// TestValidatorRotationEndToEnd: on a user chain of four PBFT validators a
// fifth node follows the chain, is added by ConsensusAdmin and starts
// voting; then another validator is removed. The relay carries both changes
// to the hub in order, epochs keep being booked under the new set, and a
// bundle certified by the outdated set is rejected afterwards.
func TestValidatorRotationEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts eleven nodes")
	}
	validatorRotation(t, startValidatorCluster(t, 1, 4))
}

// TestValidatorRotationRaft is the same on a Raft user chain of three
// validators under a PBFT hub: ConsensusAdmin's changes become Raft
// configuration changes, and the hub follows the majority certificates
// of the changing set.
func TestValidatorRotationRaft(t *testing.T) {
	if testing.Short() {
		t.Skip("starts eight nodes")
	}
	validatorRotation(t, startRaftUserCluster(t, 1))
}

func validatorRotation(t *testing.T, cl *Cluster) {
	u := cl.Users[0]
	original := len(u.Keys)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	opts := relay.DefaultOptions()
	opts.EpochInterval = 200 * time.Millisecond
	startRelay(t, ctx, cl, storage.NewMemory(), opts)
	rng := rand.New(rand.NewPCG(9, 9))
	if err := pay(ctx, cl, u, rng, 5); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first epoch booked", time.Minute, func() (bool, error) { return cl.Quiet(ctx) })
	oldTx, oldLog := firstSettle(ctx, t, u)
	oldBundle, err := relay.NewEndpoint(u.Client, u.ID, cl.Relayer).Bundle(ctx, oldTx, oldLog)
	if err != nil {
		t.Fatal(err)
	}
	newcomer, _, err := cl.AddValidatorNode(u)
	if err != nil {
		t.Fatal(err)
	}
	admin := u.Account(cl.Admin)
	if err := call(ctx, admin, consensusAdmin, "addValidator", newcomer.PublicKey()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the hub to trust the grown set", time.Minute, func() (bool, error) { return hubTrusts(ctx, cl, u) })
	if u.Genesis.Consensus == chain.ConsensusRaft {
		waitRaftVoters(t, u)
	}
	if err := call(ctx, admin, consensusAdmin, "removeValidator", u.Keys[original-1].Address()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the hub to trust the shrunk set", time.Minute, func() (bool, error) { return hubTrusts(ctx, cl, u) })
	if u.Genesis.Consensus == chain.ConsensusRaft {
		waitRaftVoters(t, u)
	}
	// The chain goes on under the new set (the newcomer votes: three of four
	// remaining validators are needed and one of the originals is gone).
	if err := pay(ctx, cl, u, rng, 5); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "epochs booked under the new set", time.Minute, func() (bool, error) { return cl.Quiet(ctx) })
	r, err := transact(ctx, cl.Hub.Account(cl.Relayer), hubContract, "book", oldBundle)
	if err == nil || !strings.Contains(r.RevertReason, "older than the trusted validator set") {
		t.Fatalf("a bundle certified by the outdated set: err %v, reason %q", err, reasonOrEmpty(r))
	}
	// The newcomer holds the same chain as validator 0.
	nc, _, _ := u.Nodes[len(u.Nodes)-1].Lookup(u.ID)
	c0, _, _ := u.Node.Lookup(u.ID)
	waitFor(t, "the newcomer at the same head", time.Minute, func() (bool, error) {
		return nc.Head().Hash(nc.Suite()) == c0.Head().Hash(c0.Suite()), nil
	})
	rep, err := cl.CheckInvariants(ctx, append(KeyAddresses(cl.Admin, cl.Relayer, cl.Operator), KeyAddresses(u.Users...)...))
	if err != nil || !rep.OK {
		t.Fatalf("invariants: %v\n%v", err, rep)
	}
}

func reasonOrEmpty(r interface{ GetRevertReason() string }) string {
	if r == nil {
		return ""
	}
	return r.GetRevertReason()
}

// waitRaftVoters waits until the Raft voters seen by validator 0 are the
// chain's validator set.
func waitRaftVoters(t *testing.T, u *Chain) {
	t.Helper()
	c, _, _ := u.Node.Lookup(u.ID)
	waitFor(t, "Raft's voters to equal the validator set", time.Minute, func() (bool, error) {
		vs, err := c.Validators()
		if err != nil {
			return false, err
		}
		voters := u.Node.Group(u.ID).RaftVoters()
		if len(voters) != vs.Len() {
			return false, nil
		}
		for _, a := range voters {
			if !vs.Contains(a) {
				return false, nil
			}
		}
		return true, nil
	})
}
