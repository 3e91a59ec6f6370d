package node_test

import (
	"context"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/client"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/node"
	"github.com/tallyhq/tally/engine/types"
)

// fastRaft shortens timeouts and snapshots so tests exercise elections and
// snapshot installs in seconds.
func fastRaft(cc *node.ChainConfig) {
	cc.Raft.HeartbeatMs, cc.Raft.ElectionMs, cc.Raft.CommitMs = 200, 200, 10
	cc.Raft.SnapshotThreshold, cc.Raft.SnapshotIntervalMs, cc.Raft.TrailingLogs = 4, 100, 2
	cc.Raft.RPCTimeoutMs = 2000
}

// raftLeader returns the index of the node that leads, waiting for one.
func (p *pbftNet) raftLeader(skip int) int {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for i, nd := range p.nodes {
			if i != skip && nd != nil && nd.Group("bft").IsLeader() {
				return i
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Fatal("no Raft leader")
	return -1
}

// TestRaftChainCommitsCertifiesAndRecovers: three Raft validators commit
// with majority certificates; the leader cut off → another leads and the
// chain goes on; it returns and catches up; a node restarted from disk
// catches up; a wiped node restores from a snapshot and peers.
func TestRaftChainCommitsCertifiesAndRecovers(t *testing.T) {
	// Short mode runs it too (a few seconds): CI runs it under -race.
	p := newTestNet(t, 3, chain.ConsensusRaft, fastRaft)
	p.pay(0, 3)
	p.agree(3, -1)

	old := p.raftLeader(-1)
	// Status tells every node's role and who leads.
	for i := range p.nodes {
		st, err := p.client(i).Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		role, want := st.Chains[0].ConsensusRole, "follower"
		if i == old {
			want = "leader"
		}
		if role != want || st.Chains[0].Leader != p.keys[old].Address().Hex() {
			t.Fatalf("node %d status: role %q leader %s, want %q and %s", i, role, st.Chains[0].Leader, want, p.keys[old].Address().Hex())
		}
	}
	p.net.Isolate(p.keys[old].Address(), true)
	other := (old + 1) % 3
	p.pay(other, 4)
	if l := p.raftLeader(old); l == old {
		t.Fatal("the isolated node still leads")
	}
	c, _, _ := p.nodes[other].Lookup("bft")
	p.agree(c.Head().Height, old)
	p.net.Isolate(p.keys[old].Address(), false)
	p.pay(other, 2)
	c, _, _ = p.nodes[other].Lookup("bft")
	p.agree(c.Head().Height, -1)

	// Restart from disk.
	p.nodes[2].Stop()
	p.nodes[2] = nil
	p.pay(0, 2)
	p.start(2)
	p.pay(1, 2)
	c, _, _ = p.nodes[0].Lookup("bft")
	p.agree(c.Head().Height, -1)

	// Wipe a node: the others' logs are compacted (a snapshot every few
	// blocks), so it must install a snapshot and fetch the blocks.
	p.pay(0, 6)
	w := p.raftLeader(-1)
	w = (w + 1) % 3
	p.nodes[w].Stop()
	p.nodes[w] = nil
	if err := os.RemoveAll(p.cfgs[w].DataDir); err != nil {
		t.Fatal(err)
	}
	p.pay((w+1)%3, 3)
	p.start(w)
	p.pay((w+1)%3, 2)
	c, _, _ = p.nodes[(w+1)%3].Lookup("bft")
	p.agree(c.Head().Height, -1)
	snaps, _ := filepath.Glob(filepath.Join(p.cfgs[w].DataDir, "raft", "bft", "snapshots", "*", "meta.json"))
	if len(snaps) == 0 {
		t.Fatal("the wiped node caught up without installing a snapshot")
	}
}

// TestRaftFollowerRegossips: a follower cut off from the others admits a
// client's transfer, whose gossip reaches nobody. Once it is back, it
// gossips the transfer again and the leader commits it. Without re-gossip
// the transfer would wait in the follower's pool, which Raft never
// proposes from, until it expired.
func TestRaftFollowerRegossips(t *testing.T) {
	p := newTestNet(t, 3, chain.ConsensusRaft, func(cc *node.ChainConfig) {
		fastRaft(cc)
		cc.Pool.RegossipMs = 300
	})
	p.pay(0, 1)
	lead := p.raftLeader(-1)
	f := (lead + 1) % 3
	p.net.Isolate(p.keys[f].Address(), true)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	data, _ := ledger.New().Pack("transfer", "CNY", p.admin.Address(), big.NewInt(5))
	acct := &client.Account{Key: p.user, Client: p.client(f), ChainID: "bft"}
	tx, err := acct.NewTx(ctx, &ledger.Address, data, 0)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := p.client(f).Send(ctx, tx)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // gossip and re-gossips go nowhere
	if g := p.nodes[lead].Group("bft"); g.Pool().Has(hash) {
		t.Fatal("the leader got the transfer while the follower was cut off")
	}
	p.net.Isolate(p.keys[f].Address(), false)
	r, err := p.client(lead).WaitReceipt(ctx, hash, 20*time.Second)
	if err != nil {
		t.Fatalf("the follower's transfer was not committed after it came back: %v", err)
	}
	if types.Status(r.GetStatus()) != types.StatusOK {
		t.Fatalf("status %d", r.Status)
	}
	if p.nodes[f].Group("bft").IsLeader() {
		t.Fatal("the follower took the lead, which proves nothing about re-gossip")
	}
}
