package pbft_test

import (
	"testing"
)

// BenchmarkCommit4 measures committed blocks per second for 4 validators in
// memory, with real secp256k1 signing and verification of every message
// (VerifyMessage on each delivery, as a node does) and the certificate
// check on every commit. One iteration is one block.
func BenchmarkCommit4(b *testing.B) { benchCommit(b, false) }

// BenchmarkCommit4Trusted is the same without VerifyMessage on delivery:
// the ratio of the two shows how much of a block's cost is verification
// that the node moves off the consensus goroutine onto all cores.
func BenchmarkCommit4Trusted(b *testing.B) { benchCommit(b, true) }

func benchCommit(b *testing.B, trusted bool) {
	c, err := newCluster(4, 50)
	if err != nil {
		b.Fatal(err)
	}
	c.trusted = trusted
	for _, nd := range c.nodes {
		nd.pending = true
		nd.m.HasPending(true)
		c.process(nd)
	}
	start, _ := c.nodes[0].chain.Head()
	b.ResetTimer()
	for range b.N {
		c.stabilizeOne()
		c.out.Reset()
	}
	b.StopTimer()
	end, _ := c.nodes[0].chain.Head()
	if end-start < uint64(b.N) {
		b.Fatalf("committed %d blocks in %d iterations", end-start, b.N)
	}
	b.ReportMetric(float64(end-start)/b.Elapsed().Seconds(), "blocks/s")
}

// stabilizeOne runs the cluster until validator 0 commits one more block.
func (c *cluster) stabilizeOne() {
	h, _ := c.nodes[0].chain.Head()
	for {
		if now, _ := c.nodes[0].chain.Head(); now > h {
			return
		}
		for _, nd := range c.nodes {
			if len(nd.validate) > 0 {
				c.answer(nd, "")
			}
			if nd.propose != nil {
				c.doPropose(nd, "", false)
			}
		}
		c.deliverCmd(cmdArgs{kv: map[string]string{}}, true)
	}
}
