package main

import (
	"os"
	"path/filepath"
	"strconv"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/node"
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
	Suite     string            `toml:"suite"`
	Consensus string            `toml:"consensus"`
	Asset     string            `toml:"asset"`
	Hub       NetChain          `toml:"hub"`
	Users     []NetChain        `toml:"users"`
	Router    string            `toml:"router"`
	RouterAPI string            `toml:"router_http"`
	Admin     string            `toml:"admin"`
	Merchants []NetMerchant     `toml:"merchants"`
	Processes map[string]string `toml:"processes"` // name → config file
}

// NetChain is one chain of the consortium.
type NetChain struct {
	ID   string `toml:"id"`
	GRPC string `toml:"grpc"`
	HTTP string `toml:"http"`
}

// NetMerchant is a hot account and its operator's key file.
type NetMerchant struct {
	Address  string `toml:"address"`
	Operator string `toml:"operator_key"`
}

// netPlan is what net init builds.
type netPlan struct {
	dir, suiteName, consensus, asset string
	users, merchants, basePort       int
	suite                            crypto.Suite
	admin, relayer, routerKey        crypto.PrivateKey
	hot                              []hot
	vals                             map[string]crypto.PrivateKey
}

type hot struct {
	addr common.Address
	op   crypto.PrivateKey
}

func (p *netPlan) chainIDs() []string {
	ids := []string{"hub"}
	for i := 1; i <= p.users; i++ {
		ids = append(ids, "user-"+strconv.Itoa(i))
	}
	return ids
}

func (p *netPlan) port(i, off int) string { return "127.0.0.1:" + strconv.Itoa(p.basePort+10*i+off) }

// build generates keys, genesis files with the light clients and merchants
// registered by setup calls, node configs, and relay and router configs.
func (p *netPlan) build() (*Consortium, error) {
	if err := p.keys(); err != nil {
		return nil, err
	}
	cons := &Consortium{Suite: p.suiteName, Consensus: p.consensus, Asset: p.asset, Admin: p.admin.Address().Hex(),
		Processes: map[string]string{}, Router: p.port(9, 0), RouterAPI: p.port(9, 1)}
	for _, h := range p.hot {
		cons.Merchants = append(cons.Merchants, NetMerchant{Address: h.addr.Hex(), Operator: filepath.Join("keys", "operator-"+h.addr.Hex()[2:10]+".key")})
	}
	for i, id := range p.chainIDs() {
		nc := NetChain{ID: id, GRPC: p.port(i, 0), HTTP: p.port(i, 1)}
		if err := p.writeChain(id, nc); err != nil {
			return nil, err
		}
		cons.Processes[id] = filepath.Join(id, "node.toml")
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
	p.vals = map[string]crypto.PrivateKey{}
	for _, id := range p.chainIDs() {
		p.vals[id], _ = p.suite.GenerateKey()
	}
	return err
}

func (p *netPlan) lightClient(id string) *settlement.Client {
	v := p.vals[id]
	vs, _ := types.NewValidatorSet(p.suite, []types.Validator{{Address: v.Address(), PubKey: v.PublicKey()}})
	return &settlement.Client{ChainID: id, Suite: p.suiteName, Rule: uint8(types.QuorumBFT), Validators: vs.Encode(), FromHeight: 1}
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
	g := &chain.Genesis{ChainID: id, Suite: p.suiteName, Consensus: p.consensus, App: chain.AppUser,
		Validators: []chain.GenesisValidator{{PubKey: hexutil.Encode(p.vals[id].PublicKey()), Name: id + "-v0"}},
		Roles:      map[string][]string{system.RoleAdmin: {a}, system.RoleIssuer: {a}, system.RoleSettler: {a, p.relayer.Address().Hex()}}}
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

func (p *netPlan) writeChain(id string, nc NetChain) error {
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
	if err := crypto.SaveKeyFile(filepath.Join(dir, "validator.key"), p.vals[id], os.Getenv("TALLY_PASSWORD")); err != nil {
		return err
	}
	cfg := node.DefaultConfig()
	cfg.Name, cfg.DataDir = id+"-v0", "data"
	cfg.API.GRPCAddr, cfg.API.HTTPAddr = nc.GRPC, nc.HTTP
	cc := node.DefaultChainConfig()
	cc.Genesis, cc.KeyFile = "genesis.toml", "validator.key"
	cfg.Chains = []node.ChainConfig{cc}
	return writeTOML(filepath.Join(dir, "node.toml"), cfg)
}

func (p *netPlan) writeRelay(c *Consortium) error {
	cfg := relay.Config{DataDir: "relay-data", KeyFile: "keys/relayer.key", EpochInterval: "1s",
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
