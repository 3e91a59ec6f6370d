package node_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/pelletier/go-toml/v2"

	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/client"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/node"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
)

// pbftNet is a multi-validator chain (PBFT or Raft) in one process over a LoopNet.
type pbftNet struct {
	t     *testing.T
	rule  types.QuorumRule
	gen   *chain.Genesis
	keys  []crypto.PrivateKey
	nodes []*node.Node
	cfgs  []*node.Config
	net   *node.LoopNet
	admin crypto.PrivateKey
	user  crypto.PrivateKey
}

func newPBFTNet(t *testing.T, n int) *pbftNet { return newTestNet(t, n, chain.ConsensusPBFT, nil) }

// newTestNet starts n validators of a chain on the given consensus; tune
// adjusts each node's chain configuration.
func newTestNet(t *testing.T, n int, consensus string, tune func(*node.ChainConfig)) *pbftNet {
	s := crypto.Secp256k1()
	p := &pbftNet{t: t, net: node.NewLoopNet(7), rule: types.QuorumBFT}
	if consensus == chain.ConsensusRaft {
		p.rule = types.QuorumMajority
	}
	p.admin, _ = s.GenerateKey()
	p.user, _ = s.GenerateKey()
	p.gen = &chain.Genesis{ChainID: "bft", Suite: s.Name(), Consensus: consensus,
		Roles:    map[string][]string{system.RoleAdmin: {p.admin.Address().Hex()}, system.RoleIssuer: {p.admin.Address().Hex()}},
		Balances: []chain.GenesisBalance{{Asset: "CNY", Address: p.user.Address().Hex(), Amount: "1000000"}}}
	for i := 0; i < n; i++ {
		k, _ := s.GenerateKey()
		p.keys = append(p.keys, k)
		p.gen.Validators = append(p.gen.Validators, chain.GenesisValidator{PubKey: hexutil.Encode(k.PublicKey())})
	}
	dir := t.TempDir()
	b, _ := toml.Marshal(p.gen)
	genPath := filepath.Join(dir, "genesis.toml")
	mustWrite(t, genPath, b)
	for i, k := range p.keys {
		kp := filepath.Join(dir, "v"+string(rune('0'+i))+".key")
		if err := crypto.SaveKeyFileWithCost(kp, k, "", crypto.LightKDF); err != nil {
			t.Fatal(err)
		}
		cfg := node.DefaultConfig()
		cfg.Name, cfg.DataDir = "v"+string(rune('0'+i)), filepath.Join(dir, "data"+string(rune('0'+i)))
		cfg.API.GRPCAddr, cfg.API.HTTPAddr = "127.0.0.1:0", ""
		cc := node.DefaultChainConfig()
		cc.Genesis, cc.KeyFile, cc.TickMs = genPath, kp, 20
		if tune != nil {
			tune(&cc)
		}
		cfg.Chains = []node.ChainConfig{cc}
		p.cfgs = append(p.cfgs, &cfg)
		p.nodes = append(p.nodes, nil)
		p.start(i)
	}
	t.Cleanup(func() {
		for _, nd := range p.nodes {
			if nd != nil {
				nd.Stop()
			}
		}
	})
	return p
}

func (p *pbftNet) start(i int) {
	nd, err := node.New(p.cfgs[i], node.Options{Logger: testLogger(), Network: p.net,
		Password: func(node.ChainConfig) (string, error) { return "", nil }})
	if err != nil {
		p.t.Fatal(err)
	}
	if err := nd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.nodes[i] = nd
}

func (p *pbftNet) client(i int) *client.Client {
	c, err := client.Dial(p.nodes[i].GRPCAddr(), "bft")
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { c.Close() })
	return c
}

// pay sends n transfers through node i and waits for their receipts.
func (p *pbftNet) pay(i, n int) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	acct := &client.Account{Key: p.user, Client: p.client(i), ChainID: "bft"}
	for k := 0; k < n; k++ {
		data, _ := ledger.New().Pack("transfer", "CNY", p.admin.Address(), big.NewInt(1))
		if _, err := acct.Transact(ctx, &ledger.Address, data, 0); err != nil {
			p.t.Fatalf("transfer through node %d: %v", i, err)
		}
	}
}

// agree waits until every running node has the same head at or above h,
// and checks each head's certificate against the genesis set.
func (p *pbftNet) agree(h uint64, skip int) {
	deadline := time.Now().Add(time.Minute)
	for {
		heads := map[string]bool{}
		min := ^uint64(0)
		for i, nd := range p.nodes {
			if i == skip || nd == nil {
				continue
			}
			c, _, _ := nd.Lookup("bft")
			hd := c.Head()
			heads[hd.Hash(c.Suite()).Hex()] = true
			if hd.Height < min {
				min = hd.Height
			}
		}
		if len(heads) == 1 && min >= h {
			err := p.checkCerts(skip)
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				p.t.Fatal(err)
			}
		} else if time.Now().After(deadline) {
			p.t.Fatalf("nodes do not agree at height >= %d: %d distinct heads, lowest %d", h, len(heads), min)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkCerts checks every block's certificate on every running node
// against the genesis set, with the chain's quorum rule.
func (p *pbftNet) checkCerts(skip int) error {
	for i, nd := range p.nodes {
		if i == skip || nd == nil {
			continue
		}
		c, _, _ := nd.Lookup("bft")
		vs, _ := p.gen.ValidatorSet(c.Suite())
		for h := uint64(1); h <= c.Head().Height; h++ {
			hdr, _ := c.HeaderByHeight(h)
			cert, err := c.Certificate(h)
			if err == nil {
				err = types.VerifyCertificate(c.Suite(), vs, p.rule, hdr, cert)
			}
			if err != nil {
				return fmt.Errorf("node %d block %d: no valid %s certificate: %v", i, h, p.rule, err)
			}
		}
	}
	return nil
}

// TestPBFTChainCommitsSurvivesAndSyncs: four validators commit; with one
// cut off the other three go on; the fourth catches up by block sync when it
// returns; after a validator restarts from disk the chain keeps agreeing.
func TestPBFTChainCommitsSurvivesAndSyncs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four validators")
	}
	p := newPBFTNet(t, 4)
	p.pay(0, 3)
	p.agree(3, -1)
	p.net.Isolate(p.keys[3].Address(), true)
	p.pay(1, 4)
	c1, _, _ := p.nodes[1].Lookup("bft")
	p.agree(c1.Head().Height, 3)
	p.net.Isolate(p.keys[3].Address(), false)
	p.pay(0, 2)
	c0, _, _ := p.nodes[0].Lookup("bft")
	p.agree(c0.Head().Height, -1) // the isolated validator synced
	p.nodes[2].Stop()
	p.nodes[2] = nil
	p.pay(0, 2)
	p.start(2)
	p.pay(0, 2)
	c0, _, _ = p.nodes[0].Lookup("bft")
	p.agree(c0.Head().Height, -1)
}

func testLogger() *slog.Logger {
	if os.Getenv("TALLY_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// TestPBFTNoViewChangeUnderTrickle: on a healthy network, transactions
// arriving while the leader builds must not leave a view waiting for its
// timeout. Every block of a steady trickle through all nodes is committed
// in view 0 (a view change shows as a certificate round above 0).
func TestPBFTNoViewChangeUnderTrickle(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four validators")
	}
	p := newPBFTNet(t, 4)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Open loop: a transaction every 2 ms into one node, so arrivals keep
	// landing while leaders build.
	cl := p.client(0)
	acct := &client.Account{Key: p.user, Client: cl, ChainID: "bft"}
	var hashes []common.Hash
	for k := 0; k < 300; k++ {
		data, _ := ledger.New().Pack("transfer", "CNY", p.admin.Address(), big.NewInt(1))
		tx, err := acct.NewTx(ctx, &ledger.Address, data, 0)
		if err != nil {
			t.Fatal(err)
		}
		h, err := cl.Send(ctx, tx)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, h)
		time.Sleep(2 * time.Millisecond)
	}
	for _, h := range hashes {
		if _, err := cl.WaitReceipt(ctx, h, 30*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	c, _, _ := p.nodes[0].Lookup("bft")
	p.agree(c.Head().Height, -1)
	for h := uint64(1); h <= c.Head().Height; h++ {
		cert, err := c.Certificate(h)
		if err != nil {
			t.Fatal(err)
		}
		if cert.Round != 0 {
			t.Fatalf("block %d was committed in round %d: a view timed out on a healthy network", h, cert.Round)
		}
	}
}
