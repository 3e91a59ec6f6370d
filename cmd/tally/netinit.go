package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/tallyhq/tally/engine/chain"
	craft "github.com/tallyhq/tally/engine/consensus/raft"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/node"
	"github.com/tallyhq/tally/engine/p2p/ca"
	"github.com/tallyhq/tally/engine/settlement"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
	"github.com/tallyhq/tally/hubchain"
	"github.com/tallyhq/tally/relay"
	"github.com/tallyhq/tally/router"
	"github.com/tallyhq/tally/userchain"
)

// Consortium is DIR/consortium.toml: what `tally net` started and where.
type Consortium struct {
	Suite string `toml:"suite"`
	// Consensus is every chain's consensus, or "mixed" when the hub's and
	// the user chains' differ (each NetChain names its own).
	Consensus string            `toml:"consensus"`
	Asset     string            `toml:"asset"`
	Hub       NetChain          `toml:"hub"`
	Users     []NetChain        `toml:"users"`
	Router    string            `toml:"router"`
	RouterAPI string            `toml:"router_http"`
	RelayHTTP string            `toml:"relay_http"` // the relay's /metrics and /healthz
	Admin     string            `toml:"admin"`
	Merchants []NetMerchant     `toml:"merchants"`
	Processes map[string]string `toml:"processes"` // name → config file
}

// NetChain is one chain of the consortium; GRPC and HTTP are validator 0's.
type NetChain struct {
	ID        string    `toml:"id"`
	Consensus string    `toml:"consensus"` // solo, pbft or raft
	GRPC      string    `toml:"grpc"`
	HTTP      string    `toml:"http"`
	Nodes     []NetNode `toml:"nodes"`
}

// NetNode is one validator's process.
type NetNode struct {
	Name   string `toml:"name"`
	GRPC   string `toml:"grpc"`
	P2P    string `toml:"p2p"`
	NodeID string `toml:"node_id"`
}

// NetMerchant is a hot account and its operator's key file.
type NetMerchant struct {
	Address  string `toml:"address"`
	Operator string `toml:"operator_key"`
}

// netPlan is what net init builds.
type netPlan struct {
	dir, suiteName, asset       string
	hubConsensus, userConsensus string // solo, pbft or raft
	users, merchants, basePort  int
	validators                  int
	suite                       crypto.Suite
	admin, relayer, routerKey   crypto.PrivateKey
	hot                         []hot
	vals                        map[string][]crypto.PrivateKey
	kafka                       []string // brokers the first validator of each chain exports to
}

type hot struct {
	addr common.Address
	op   crypto.PrivateKey
}

// consensusOf is chain id's consensus.
func (p *netPlan) consensusOf(id string) string {
	if id == "hub" {
		return p.hubConsensus
	}
	return p.userConsensus
}

// quorumRule is the rule a chain's finality certificates meet: a majority
// of the validators on Raft, 2f+1 of 3f+1 on PBFT (and solo).
func quorumRule(consensus string) types.QuorumRule {
	if consensus == chain.ConsensusRaft {
		return types.QuorumMajority
	}
	return types.QuorumBFT
}

func (p *netPlan) chainIDs() []string {
	ids := []string{"hub"}
	for i := 1; i <= p.users; i++ {
		ids = append(ids, "user-"+strconv.Itoa(i))
	}
	return ids
}

// port is chain i, validator v's port: base + 100i + 10v + off (0 gRPC, 1 HTTP, 2 p2p).
func (p *netPlan) port(i, v, off int) string {
	return "127.0.0.1:" + strconv.Itoa(p.basePort+100*i+10*v+off)
}

// routerPort is past every chain's ports.
func (p *netPlan) routerPort(off int) string {
	return "127.0.0.1:" + strconv.Itoa(p.basePort+100*(p.users+1)+off)
}

// build generates keys, genesis files with the light clients and merchants
// registered by setup calls, node configs, and relay and router configs.
func (p *netPlan) build() (*Consortium, error) {
	if err := p.keys(); err != nil {
		return nil, err
	}
	mode := p.hubConsensus
	if p.userConsensus != mode {
		mode = "mixed"
	}
	cons := &Consortium{Suite: p.suiteName, Consensus: mode, Asset: p.asset, Admin: p.admin.Address().Hex(),
		Processes: map[string]string{}, Router: p.routerPort(0), RouterAPI: p.routerPort(1),
		RelayHTTP: p.routerPort(2)}
	for _, h := range p.hot {
		cons.Merchants = append(cons.Merchants, NetMerchant{Address: h.addr.Hex(), Operator: filepath.Join("keys", "operator-"+h.addr.Hex()[2:10]+".key")})
	}
	for i, id := range p.chainIDs() {
		nc := NetChain{ID: id, Consensus: p.consensusOf(id), GRPC: p.port(i, 0, 0), HTTP: p.port(i, 0, 1)}
		if err := p.writeChain(i, id, &nc); err != nil {
			return nil, err
		}
		for _, nd := range nc.Nodes {
			cons.Processes[nd.Name] = filepath.Join(id, nd.Name, "node.toml")
		}
		if id == "hub" {
			cons.Hub = nc
		} else {
			cons.Users = append(cons.Users, nc)
		}
	}
	if err := p.writeRelay(cons); err != nil {
		return nil, err
	}
	if err := p.writeRouter(cons); err != nil {
		return nil, err
	}
	cons.Processes["relay"], cons.Processes["router"] = "relay.toml", "router.toml"
	return cons, writeTOML(filepath.Join(p.dir, "consortium.toml"), cons)
}

func (p *netPlan) keys() error {
	if err := os.MkdirAll(filepath.Join(p.dir, "keys"), 0o700); err != nil {
		return err
	}
	pass := os.Getenv("TALLY_PASSWORD")
	var err error
	save := func(name string) crypto.PrivateKey {
		k, e := newKeyFile(p.suite, filepath.Join(p.dir, "keys", name), pass)
		if e != nil && err == nil {
			err = e
		}
		return k
	}
	p.admin, p.relayer, p.routerKey = save("admin.key"), save("relayer.key"), save("router.key")
	for i := 0; i < p.merchants; i++ {
		m, _ := p.suite.GenerateKey()
		op, e := p.suite.GenerateKey()
		if e != nil {
			return e
		}
		p.hot = append(p.hot, hot{addr: m.Address(), op: op})
		if e := crypto.SaveKeyFile(filepath.Join(p.dir, "keys", "operator-"+m.Address().Hex()[2:10]+".key"), op, pass); e != nil {
			return e
		}
	}
	p.vals = map[string][]crypto.PrivateKey{}
	for _, id := range p.chainIDs() {
		for v := 0; v < p.validators; v++ {
			k, _ := p.suite.GenerateKey()
			p.vals[id] = append(p.vals[id], k)
		}
	}
	return err
}

func (p *netPlan) lightClient(id string) *settlement.Client {
	var list []types.Validator
	for _, v := range p.vals[id] {
		list = append(list, types.Validator{Address: v.Address(), PubKey: v.PublicKey()})
	}
	vs, _ := types.NewValidatorSet(p.suite, list)
	return &settlement.Client{ChainID: id, Suite: p.suiteName, Rule: uint8(quorumRule(p.consensusOf(id))), Validators: vs.Encode(), FromHeight: 1}
}

func setupCall(from common.Address, c *exec.Contract, note, method string, args ...any) chain.GenesisCall {
	data, err := c.Pack(method, args...)
	if err != nil {
		panic(err)
	}
	return chain.GenesisCall{From: from.Hex(), To: c.Addr.Hex(), Data: hexutil.Encode(data), Note: note}
}

func (p *netPlan) genesis(id string) *chain.Genesis {
	a := p.admin.Address().Hex()
	g := &chain.Genesis{ChainID: id, Suite: p.suiteName, Consensus: p.consensusOf(id), App: chain.AppUser,
		Roles: map[string][]string{system.RoleAdmin: {a}, system.RoleIssuer: {a}, system.RoleSettler: {a, p.relayer.Address().Hex()}}}
	for v, k := range p.vals[id] {
		g.Validators = append(g.Validators, chain.GenesisValidator{PubKey: hexutil.Encode(k.PublicKey()), Name: id + "-v" + strconv.Itoa(v)})
	}
	admin := p.admin.Address()
	if id == "hub" {
		g.App = chain.AppHub
		hub, dir := hubchain.New(), hubchain.NewDirectory()
		for _, u := range p.chainIDs()[1:] {
			g.Setup = append(g.Setup, setupCall(admin, hub, "light client of "+u, "registerChain", u, p.lightClient(u).Encode()),
				setupCall(admin, dir, "open "+u+" to new users", "setChainOpen", u, true))
		}
		for _, h := range p.hot {
			g.Setup = append(g.Setup, setupCall(admin, hub, "merchant "+h.addr.Hex(), "registerMerchant", h.addr, h.op.Address()))
		}
		return g
	}
	shadow := userchain.New()
	g.Setup = append(g.Setup, setupCall(admin, shadow, "light client of the hub", "setHub", p.lightClient("hub").Encode()))
	for _, h := range p.hot {
		g.Setup = append(g.Setup, setupCall(admin, shadow, "merchant "+h.addr.Hex(), "registerMerchant", h.addr, h.op.Address(), p.asset))
	}
	return g
}

// writeChain writes the chain's genesis and, per validator, a key, a TLS
// certificate from the consortium CA and a node config; nc gets the nodes.
func (p *netPlan) writeChain(i int, id string, nc *NetChain) error {
	dir := filepath.Join(p.dir, id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	g := p.genesis(id)
	if err := g.Validate(); err != nil {
		return err
	}
	if err := writeTOML(filepath.Join(dir, "genesis.toml"), g); err != nil {
		return err
	}
	for v := range p.vals[id] {
		nd, err := p.issueNode(i, v, id)
		if err != nil {
			return err
		}
		nc.Nodes = append(nc.Nodes, nd)
	}
	for v, nd := range nc.Nodes {
		if err := p.writeNode(id, v, nd, nc.Nodes); err != nil {
			return err
		}
	}
	return nil
}

func (p *netPlan) issueNode(i, v int, id string) (NetNode, error) {
	name := id + "-v" + strconv.Itoa(v)
	nd := NetNode{Name: name, GRPC: p.port(i, v, 0), P2P: p.port(i, v, 2)}
	if p.validators == 1 {
		return nd, nil // solo: no p2p
	}
	iss, err := ca.IssueNode(filepath.Join(p.dir, "ca"), filepath.Join(p.dir, id, name, "tls"), name, nil)
	if err != nil {
		return nd, err
	}
	nd.NodeID = iss.ID.String()
	return nd, nil
}

func (p *netPlan) writeNode(id string, v int, nd NetNode, all []NetNode) error {
	dir := filepath.Join(p.dir, id, nd.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := crypto.SaveKeyFile(filepath.Join(dir, "validator.key"), p.vals[id][v], os.Getenv("TALLY_PASSWORD")); err != nil {
		return err
	}
	cfg := node.DefaultConfig()
	cfg.Name, cfg.DataDir = nd.Name, "data"
	cfg.API.GRPCAddr, cfg.API.HTTPAddr = nd.GRPC, strings.TrimSuffix(nd.GRPC, nd.GRPC[strings.LastIndex(nd.GRPC, ":"):])+portPlus(nd.GRPC, 1)
	cc := node.DefaultChainConfig()
	cc.Genesis, cc.KeyFile = "../genesis.toml", "validator.key"
	if p.consensusOf(id) == chain.ConsensusRaft {
		cc.Raft = craft.DefaultConfig() // written out so that operators see the knobs
	}
	if p.validators > 1 {
		cfg.P2P = node.P2PConfig{ListenAddr: nd.P2P, TLSDir: "tls"}
		for k, peer := range all {
			cc.Validators = append(cc.Validators, node.ValidatorPeer{Validator: p.vals[id][k].Address().Hex(), NodeID: peer.NodeID})
			if peer.Name != nd.Name {
				cfg.P2P.Peers = append(cfg.P2P.Peers, peer.NodeID+"@"+peer.P2P)
			}
		}
	}
	cfg.Chains = []node.ChainConfig{cc}
	if len(p.kafka) > 0 && v == 0 { // one exporter per chain: the others would publish the same messages again
		cfg.Export.Kafka.Enabled, cfg.Export.Kafka.Brokers = true, p.kafka
	}
	return writeTOML(filepath.Join(dir, "node.toml"), cfg)
}

// portPlus is ":port+d" of a host:port.
func portPlus(addr string, d int) string {
	n, _ := strconv.Atoi(addr[strings.LastIndex(addr, ":")+1:])
	return ":" + strconv.Itoa(n+d)
}

func (p *netPlan) writeRelay(c *Consortium) error {
	cfg := relay.Config{DataDir: "relay-data", KeyFile: "keys/relayer.key", EpochInterval: "1s", HTTPAddr: c.RelayHTTP,
		Hub: relay.ChainEndpoint{ChainID: "hub", Node: c.Hub.GRPC}}
	for _, u := range c.Users {
		cfg.Users = append(cfg.Users, relay.ChainEndpoint{ChainID: u.ID, Node: u.GRPC})
	}
	return writeTOML(filepath.Join(p.dir, "relay.toml"), cfg)
}

func (p *netPlan) writeRouter(c *Consortium) error {
	cfg := router.DefaultConfig()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.KeyFile = c.Router, c.RouterAPI, "keys/router.key"
	cfg.Hub = router.Endpoint{ChainID: "hub", Node: c.Hub.GRPC}
	for _, u := range c.Users {
		cfg.Chains = append(cfg.Chains, router.Endpoint{ChainID: u.ID, Node: u.GRPC})
	}
	return writeTOML(filepath.Join(p.dir, "router.toml"), cfg)
}
