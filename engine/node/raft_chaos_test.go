package node_test

import (
	"context"
	"flag"
	"fmt"
	"math/big"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/client"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/types"
)

var raftChaosSeeds = flag.Int("raft-chaos-seeds", 2, "seeds of the Raft chaos test (each runs a few seconds)")

// TestRaftChaos is a fuzzy test in the style of hashicorp/raft's fuzzy/
// suite: payments flow through every node while a seeded schedule isolates
// validators, loses and delays messages (slow links) and restarts nodes.
// After healing, every node must hold the same blocks and state, every
// block a majority certificate, and every transaction a client saw a
// receipt for must be on every node. A failing seed prints its number;
// rerun one with -run TestRaftChaos/seed=N.
func TestRaftChaos(t *testing.T) {
	seeds := *raftChaosSeeds
	if testing.Short() {
		seeds = 1 // CI's -race pass runs one
	}
	for seed := 1; seed <= seeds; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { raftChaos(t, uint64(seed)) })
	}
}

func raftChaos(t *testing.T, seed uint64) {
	p := newTestNet(t, 3, chain.ConsensusRaft, fastRaft)
	rng := rand.New(rand.NewPCG(seed, 0xc4a05))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var mu sync.Mutex // guards p.nodes against the restarts, and acked
	var acked []common.Hash
	clients := make([]*client.Client, len(p.nodes))
	for i := range p.nodes {
		clients[i] = p.client(i)
	}
	clientOf := func(i int) *client.Client {
		mu.Lock()
		defer mu.Unlock()
		return clients[i]
	}
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ctx.Err() == nil; k++ {
				cl := clientOf((w + k) % len(clients))
				acct := &client.Account{Key: p.user, Client: cl, ChainID: "bft"}
				data, _ := ledger.New().Pack("transfer", "CNY", p.admin.Address(), big.NewInt(1))
				tctx, tcancel := context.WithTimeout(ctx, 3*time.Second)
				tx, err := acct.NewTx(tctx, &ledger.Address, data, 0)
				if err == nil {
					var hash common.Hash
					if hash, err = cl.Send(tctx, tx); err == nil {
						if r, err := cl.WaitReceipt(tctx, hash, 3*time.Second); err == nil && r.Status == uint64(types.StatusOK) {
							mu.Lock()
							acked = append(acked, hash)
							mu.Unlock()
						}
					}
				}
				tcancel()
				if err != nil {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}

	// The fault schedule: each step lasts 200–700 ms.
	deadline := time.Now().Add(6 * time.Second)
	isolated := -1
	for step := 0; time.Now().Before(deadline); step++ {
		switch a := rng.IntN(5); a {
		case 0: // cut one validator off (often the leader)
			if isolated < 0 {
				isolated = rng.IntN(len(p.nodes))
				if rng.IntN(2) == 0 {
					isolated = p.raftLeader(-1)
				}
				p.net.Isolate(p.keys[isolated].Address(), true)
			}
		case 1: // heal
			if isolated >= 0 {
				p.net.Isolate(p.keys[isolated].Address(), false)
				isolated = -1
			}
		case 2: // lossy, slow links
			p.net.SetFaults(rng.Float64()*0.2, time.Duration(rng.IntN(40))*time.Millisecond)
		case 3: // clean links
			p.net.SetFaults(0, 0)
		case 4: // restart a validator from its disk
			i := rng.IntN(len(p.nodes))
			mu.Lock()
			p.nodes[i].Stop()
			p.start(i)
			clients[i] = p.client(i) // a restarted node listens on a new port
			mu.Unlock()
		}
		time.Sleep(time.Duration(200+rng.IntN(500)) * time.Millisecond)
	}
	if isolated >= 0 {
		p.net.Isolate(p.keys[isolated].Address(), false)
	}
	p.net.SetFaults(0, 0)
	cancel()
	wg.Wait()

	// Healed: one more payment, then everyone agrees.
	p.pay(0, 1)
	c0, _, _ := p.nodes[0].Lookup("bft")
	p.agree(c0.Head().Height, -1)
	for i, nd := range p.nodes {
		c, _, _ := nd.Lookup("bft")
		for _, h := range acked {
			if _, _, _, err := c.Receipt(h); err != nil {
				t.Fatalf("seed %d: node %d lost acknowledged transaction %x: %v", seed, i, h[:6], err)
			}
		}
	}
	if len(acked) == 0 {
		t.Fatalf("seed %d: no transaction was acknowledged under the faults", seed)
	}
	t.Logf("seed %d: %d acknowledged transactions, head %d, all nodes agree", seed, len(acked), c0.Head().Height)
}
