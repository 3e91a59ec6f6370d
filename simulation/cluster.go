package simulation

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/pelletier/go-toml/v2"

	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/client"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/node"
	"github.com/tallyhq/tally/engine/settlement"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
	"github.com/tallyhq/tally/relay"
)

// ClusterConfig describes an in-process consortium.
type ClusterConfig struct {
	// Dir holds every node's data; it must exist.
	Dir string
	// UserChains is the number of user chains.
	UserChains int
	// Suite is the crypto suite of every chain.
	Suite string
	// UsersPerChain funded accounts on each user chain.
	UsersPerChain int
	// FundingPerUser is each user's initial balance in minor units.
	FundingPerUser int64
	// Asset is the currency.
	Asset string
	// Merchants is the number of hot accounts (at least 1).
	Merchants int
	// Validators per chain: 1 runs solo, more run PBFT over an in-process
	// network (Net) with every validator a node of its own.
	Validators int
	// UserConsensus is the user chains' multi-validator consensus: "pbft"
	// (the default) or "raft". The hub always runs PBFT (or solo).
	UserConsensus string
	// UserValidators, if > 0, sets the user chains' validator count apart
	// from the hub's (e.g. a 4-validator PBFT hub and 3-validator Raft user chains).
	UserValidators int
	// Seed drives the in-process network's faults.
	Seed uint64
	// TickMs and BatchTxs tune solo sealing.
	TickMs, BatchTxs int
	// Log receives node logs.
	Log *slog.Logger
}

// Chain is one running chain of the cluster.
type Chain struct {
	ID      string
	Genesis *chain.Genesis
	Node    *node.Node   // the node clients talk to (validator 0)
	Nodes   []*node.Node // every validator's node
	Keys    []crypto.PrivateKey
	Client  *client.Client
	Users   []crypto.PrivateKey
}

// Cluster is a running consortium: a hub and user chains, one node each.
type Cluster struct {
	Cfg      ClusterConfig
	Suite    crypto.Suite
	Hub      *Chain
	Users    []*Chain
	Admin    crypto.PrivateKey // ADMIN, ISSUER and SETTLER everywhere
	Relayer  crypto.PrivateKey // SETTLER on user chains
	Operator crypto.PrivateKey // the first hot account's operator everywhere
	Merchant common.Address    // the first hot account
	Hot      []HotAccount      // every hot account
	Net      *node.LoopNet     // consensus traffic of multi-validator chains

	mu sync.RWMutex // guards Users while a chain is added at runtime
}

// UserChains is a snapshot of the user chains, safe while chains are added.
func (cl *Cluster) UserChains() []*Chain {
	cl.mu.RLock()
	defer cl.mu.RUnlock()
	return append([]*Chain(nil), cl.Users...)
}

// HotAccount is a merchant with the key that operates it on every chain.
type HotAccount struct {
	Address  common.Address
	Operator crypto.PrivateKey
}

// StartCluster creates keys, genesis files and nodes, starts them, and
// registers the merchant and the light clients on every chain.
func StartCluster(ctx context.Context, cfg ClusterConfig) (*Cluster, error) {
	s, err := crypto.ByName(cfg.Suite)
	if err != nil {
		return nil, err
	}
	cl := &Cluster{Cfg: cfg, Suite: s, Net: node.NewLoopNet(cfg.Seed)}
	if cl.Admin, err = s.GenerateKey(); err != nil {
		return nil, err
	}
	cl.Relayer, _ = s.GenerateKey()
	for i := 0; i < max(1, cfg.Merchants); i++ {
		op, _ := s.GenerateKey()
		m, _ := s.GenerateKey()
		cl.Hot = append(cl.Hot, HotAccount{Address: m.Address(), Operator: op})
	}
	cl.Merchant, cl.Operator = cl.Hot[0].Address, cl.Hot[0].Operator
	if cl.Hub, err = cl.startChain("hub", chain.AppHub, 0, cfg.Validators, chain.ConsensusPBFT); err != nil {
		return nil, err
	}
	for i := 1; i <= cfg.UserChains; i++ {
		u, err := cl.startChain("user-"+strconv.Itoa(i), chain.AppUser, cfg.UsersPerChain, cl.userValidators(), cl.userConsensus())
		if err != nil {
			cl.Stop()
			return nil, err
		}
		cl.Users = append(cl.Users, u)
	}
	if err := cl.register(ctx); err != nil {
		cl.Stop()
		return nil, err
	}
	return cl, nil
}

// userValidators is the validator count of every user chain.
func (cl *Cluster) userValidators() int {
	if cl.Cfg.UserValidators > 0 {
		return cl.Cfg.UserValidators
	}
	return cl.Cfg.Validators
}

// userConsensus is the multi-validator consensus of the user chains.
func (cl *Cluster) userConsensus() string {
	if cl.Cfg.UserConsensus == chain.ConsensusRaft {
		return chain.ConsensusRaft
	}
	return chain.ConsensusPBFT
}

// startChain starts a chain of validators nodes; with more than one it
// runs consensus (pbft or raft) over the cluster's network.
func (cl *Cluster) startChain(id, app string, users, validators int, consensus string) (*Chain, error) {
	s := cl.Suite
	c := &Chain{ID: id}
	gen := &chain.Genesis{ChainID: id, Suite: s.Name(), Consensus: chain.ConsensusSolo, App: app,
		Roles: map[string][]string{
			system.RoleAdmin: {cl.Admin.Address().Hex()}, system.RoleIssuer: {cl.Admin.Address().Hex()},
			system.RoleSettler: {cl.Admin.Address().Hex(), cl.Relayer.Address().Hex()},
		}}
	for i := 0; i < users; i++ {
		k, _ := s.GenerateKey()
		c.Users = append(c.Users, k)
		gen.Balances = append(gen.Balances, chain.GenesisBalance{Asset: cl.Cfg.Asset, Address: k.Address().Hex(),
			Amount: strconv.FormatInt(cl.Cfg.FundingPerUser, 10)})
	}
	for v := 0; v < max(1, validators); v++ {
		k, _ := s.GenerateKey()
		c.Keys = append(c.Keys, k)
		gen.Validators = append(gen.Validators, chain.GenesisValidator{PubKey: hexutil.Encode(k.PublicKey()), Name: id + "-v" + strconv.Itoa(v)})
	}
	if len(c.Keys) > 1 {
		gen.Consensus = consensus
	}
	c.Genesis = gen
	for v, k := range c.Keys {
		n, err := cl.startNode(id, v, gen, k)
		if err != nil {
			c.stopNodes()
			return nil, err
		}
		c.Nodes = append(c.Nodes, n)
	}
	c.Node = c.Nodes[0]
	var err error
	if c.Client, err = client.Dial(c.Node.GRPCAddr(), id); err != nil {
		c.stopNodes()
		return nil, err
	}
	return c, nil
}

func (c *Chain) stopNodes() {
	for _, n := range c.Nodes {
		if n != nil {
			n.Stop()
		}
	}
}

// nodeDir is validator v's directory: id/ for validator 0 (as before), id/vN/ for the others.
func (cl *Cluster) nodeDir(id string, v int) string {
	if v == 0 {
		return filepath.Join(cl.Cfg.Dir, id)
	}
	return filepath.Join(cl.Cfg.Dir, id, "v"+strconv.Itoa(v))
}

func (cl *Cluster) startNode(id string, v int, gen *chain.Genesis, val crypto.PrivateKey) (*node.Node, error) {
	dir := cl.nodeDir(id, v)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := writeTOMLFile(filepath.Join(dir, "genesis.toml"), gen); err != nil {
		return nil, err
	}
	if err := crypto.SaveKeyFileWithCost(filepath.Join(dir, "validator.key"), val, "", crypto.LightKDF); err != nil {
		return nil, err
	}
	cfg := node.DefaultConfig()
	cfg.Name, cfg.DataDir = id+"-v"+strconv.Itoa(v), filepath.Join(dir, "data")
	cfg.API.GRPCAddr, cfg.API.HTTPAddr = "127.0.0.1:0", ""
	cc := node.DefaultChainConfig()
	cc.Genesis, cc.KeyFile = filepath.Join(dir, "genesis.toml"), filepath.Join(dir, "validator.key")
	if cl.Cfg.TickMs > 0 {
		cc.TickMs = cl.Cfg.TickMs
	}
	if cl.Cfg.BatchTxs > 0 {
		cc.Solo.BatchTxs = cl.Cfg.BatchTxs
	}
	cfg.Chains = []node.ChainConfig{cc}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := writeTOMLFile(filepath.Join(dir, "node.toml"), cfg); err != nil {
		return nil, err
	}
	n, err := node.New(&cfg, node.Options{Logger: cl.logger(), Executor: relay.Executor, Password: noPassword, Network: cl.Net})
	if err != nil {
		return nil, err
	}
	return n, n.Start()
}

func (cl *Cluster) logger() *slog.Logger {
	if cl.Cfg.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return cl.Cfg.Log
}

// noPassword: the cluster's key files are encrypted with an empty passphrase.
func noPassword(node.ChainConfig) (string, error) { return "", nil }

func writeTOMLFile(path string, v any) error {
	b, err := toml.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// LightClient is the genesis light client of c.
func (cl *Cluster) LightClient(c *Chain) *settlement.Client {
	vs, err := c.Genesis.ValidatorSet(cl.Suite)
	if err != nil {
		panic(err)
	}
	rule := types.QuorumBFT
	if c.Genesis.Consensus == chain.ConsensusRaft {
		rule = types.QuorumMajority // Raft certificates carry a majority of signatures
	}
	return &settlement.Client{ChainID: c.ID, Suite: cl.Suite.Name(), Rule: uint8(rule), Validators: vs.Encode(), FromHeight: 1}
}

// Account signs for key on chain c.
func (c *Chain) Account(key crypto.PrivateKey) *client.Account {
	return &client.Account{Key: key, Client: c.Client, ChainID: c.ID}
}

// register sets up the merchants and the light clients in both directions.
func (cl *Cluster) register(ctx context.Context) error {
	hubAdmin := cl.Hub.Account(cl.Admin)
	for _, h := range cl.Hot {
		if err := call(ctx, hubAdmin, hubContract, "registerMerchant", h.Address, h.Operator.Address()); err != nil {
			return err
		}
	}
	for _, u := range cl.Users {
		if err := cl.registerUserChain(ctx, u); err != nil {
			return err
		}
	}
	return nil
}

// registerUserChain makes u known to the hub (light client, directory) and
// the hub and the merchants known to u.
func (cl *Cluster) registerUserChain(ctx context.Context, u *Chain) error {
	hubAdmin := cl.Hub.Account(cl.Admin)
	if err := call(ctx, hubAdmin, hubContract, "registerChain", u.ID, cl.LightClient(u).Encode()); err != nil {
		return err
	}
	if err := call(ctx, hubAdmin, directoryContract, "setChainOpen", u.ID, true); err != nil {
		return err
	}
	ua := u.Account(cl.Admin)
	if err := call(ctx, ua, shadowContract, "setHub", cl.LightClient(cl.Hub).Encode()); err != nil {
		return err
	}
	for _, h := range cl.Hot {
		if err := call(ctx, ua, shadowContract, "registerMerchant", h.Address, h.Operator.Address(), cl.Cfg.Asset); err != nil {
			return err
		}
	}
	return nil
}

// AddUserChain starts and registers one more user chain at runtime.
func (cl *Cluster) AddUserChain(ctx context.Context) (*Chain, error) {
	u, err := cl.startChain("user-"+strconv.Itoa(len(cl.UserChains())+1), chain.AppUser, cl.Cfg.UsersPerChain, cl.userValidators(), cl.userConsensus())
	if err != nil {
		return nil, err
	}
	if err := cl.registerUserChain(ctx, u); err != nil {
		u.stopNodes()
		return nil, err
	}
	cl.mu.Lock()
	cl.Users = append(cl.Users, u)
	cl.mu.Unlock()
	return u, nil
}

// Stop stops every node.
func (cl *Cluster) Stop() {
	for _, c := range append([]*Chain{cl.Hub}, cl.Users...) {
		if c == nil {
			continue
		}
		if c.Client != nil {
			c.Client.Close()
		}
		c.stopNodes()
	}
}

// Chains lists the user chains by id.
func (cl *Cluster) Chain(id string) *Chain {
	for _, c := range append([]*Chain{cl.Hub}, cl.Users...) {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// RestartNode stops c's node, waits down, and starts it again on the same
// address from its data directory, as after a crash.
func (cl *Cluster) RestartNode(c *Chain, down time.Duration) error {
	addr := c.Node.GRPCAddr()
	c.Node.Stop()
	time.Sleep(down)
	cfg, err := node.LoadConfig(filepath.Join(cl.nodeDir(c.ID, 0), "node.toml"))
	if err != nil {
		return err
	}
	cfg.API.GRPCAddr = addr
	n, err := node.New(cfg, node.Options{Logger: cl.logger(), Executor: relay.Executor, Password: noPassword, Network: cl.Net})
	if err != nil {
		return err
	}
	if err := n.Start(); err != nil {
		return err
	}
	c.Node, c.Nodes[0] = n, n
	return nil
}

// AddValidatorNode starts one more node for c with a fresh key, not yet in
// the validator set: it follows the chain until ConsensusAdmin adds it.
func (cl *Cluster) AddValidatorNode(c *Chain) (crypto.PrivateKey, *node.Node, error) {
	k, err := cl.Suite.GenerateKey()
	if err != nil {
		return nil, nil, err
	}
	n, err := cl.startNode(c.ID, len(c.Nodes), c.Genesis, k)
	if err != nil {
		return nil, nil, err
	}
	c.Keys, c.Nodes = append(c.Keys, k), append(c.Nodes, n)
	return k, n, nil
}
