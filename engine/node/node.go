package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"

	"github.com/tallyhq/tally/engine/api"
	"github.com/tallyhq/tally/engine/api/pb"
	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/consensus/pbft"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/evm"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/export"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/p2p"
	"github.com/tallyhq/tally/engine/storage"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/txpool"
)

// Version is reported by Status.
const Version = "0.1.0"

// Options are the node's injected parts.
type Options struct {
	// Logger receives structured logs; nil uses slog.Default.
	Logger *slog.Logger
	// Executor builds a chain's executor from its genesis; nil gives every
	// chain the base precompiles (SystemConfig, Roles, Ledger).
	Executor func(*chain.Genesis) *exec.Executor
	// Password returns a key file's passphrase; nil reads the configured
	// password file or $TALLY_PASSWORD.
	Password func(ChainConfig) (string, error)
	// Network carries consensus traffic for multi-validator chains.
	Network Network
}

// BaseExecutor runs the precompiles every chain has.
func BaseExecutor(*chain.Genesis) *exec.Executor {
	return evm.NewExecutor(evm.Options{OpenDeploy: false}, append(system.Contracts(), ledger.New())...)
}

// Node hosts chains and serves their API.
type Node struct {
	cfg     *Config
	opts    Options
	log     *slog.Logger
	groups  map[string]*Group
	order   []string
	metrics *metrics

	grpcLis, httpLis net.Listener
	grpcSrv          *grpc.Server
	httpSrv          *http.Server

	p2p *p2p.Network

	cancel context.CancelFunc
	wg     sync.WaitGroup
	httpWG sync.WaitGroup
	fatal  chan error
	once   sync.Once
}

// New opens every chain of cfg. Nothing runs until Start.
func New(cfg *Config, opts Options) (*Node, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Executor == nil {
		opts.Executor = BaseExecutor
	}
	if opts.Password == nil {
		opts.Password = readPassword
	}
	n := &Node{cfg: cfg, opts: opts, log: opts.Logger.With("node", cfg.Name), groups: make(map[string]*Group),
		metrics: newMetrics(), fatal: make(chan error, 1)}
	if err := n.startP2P(); err != nil {
		return nil, err
	}
	for _, cc := range cfg.Chains {
		if err := n.openGroup(cc); err != nil {
			n.closeGroups()
			n.stopP2P()
			return nil, err
		}
	}
	caches := stateCacheCollector{}
	for _, id := range n.order {
		caches.chains = append(caches.chains, n.groups[id].chain)
	}
	n.metrics.reg.MustRegister(caches)
	// Peers' messages arrive once the network starts: every chain has
	// joined by then, so none is refused (and its sender struck) as a
	// message for an unknown chain while a restarted node opens its chains.
	if n.p2p != nil {
		if err := n.p2p.Start(); err != nil {
			n.closeGroups()
			n.stopP2P()
			return nil, err
		}
	}
	return n, nil
}

// startP2P creates the node-to-node network when the config asks for one
// and no network was injected; New starts it after the chains join.
func (n *Node) startP2P() error {
	pc := n.cfg.P2P
	if pc.ListenAddr == "" || n.opts.Network != nil {
		return nil
	}
	creds, err := p2p.LoadTLS(pc.TLSDir)
	if err != nil {
		return fmt.Errorf("p2p credentials in %s: %w", pc.TLSDir, err)
	}
	cfg := p2p.DefaultConfig()
	cfg.ListenAddr, cfg.Peers = pc.ListenAddr, pc.Peers
	cfg.MaxMsgBytes = pbft.MaxMessageBytes + 4<<20 // a full proposal must fit one frame
	cfg.QueueBytes = max(cfg.QueueBytes, 2*cfg.MaxMsgBytes)
	net, err := p2p.New(cfg, creds, n.log)
	if err != nil {
		return err
	}
	peers, err := n.validatorPeers()
	if err != nil {
		return err
	}
	n.p2p, n.opts.Network = net, NewP2PNet(net, peers) // started once the chains have joined
	return nil
}

// validatorPeers reads every chain's validator → node id table; a chain's
// genesis is read for its id.
func (n *Node) validatorPeers() (map[string]map[common.Address]p2p.NodeID, error) {
	out := map[string]map[common.Address]p2p.NodeID{}
	for _, cc := range n.cfg.Chains {
		gen, err := chain.LoadGenesis(cc.Genesis)
		if err != nil {
			return nil, err
		}
		m := map[common.Address]p2p.NodeID{}
		for _, v := range cc.Validators {
			id, err := p2p.ParseNodeID(v.NodeID)
			if err != nil || !common.IsHexAddress(v.Validator) {
				return nil, fmt.Errorf("%w: chain %s validator %q node %q: %v", ErrConfig, gen.ChainID, v.Validator, v.NodeID, err)
			}
			m[common.HexToAddress(v.Validator)] = id
		}
		out[gen.ChainID] = m
	}
	return out, nil
}

func (n *Node) stopP2P() {
	if n.p2p != nil {
		n.p2p.Stop()
	}
}

func readPassword(cc ChainConfig) (string, error) {
	if cc.PasswordFile == "" {
		return os.Getenv("TALLY_PASSWORD"), nil
	}
	b, err := os.ReadFile(cc.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("password file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// chainDir is where a hosted chain's database lives.
func chainDir(dataDir, chainID string) string { return filepath.Join(dataDir, "chains", chainID) }

func (n *Node) openGroup(cc ChainConfig) error {
	gen, err := chain.LoadGenesis(cc.Genesis)
	if err != nil {
		return fmt.Errorf("chain genesis %s: %w", cc.Genesis, err)
	}
	if _, dup := n.groups[gen.ChainID]; dup {
		return fmt.Errorf("%w: chain %q configured twice", ErrConfig, gen.ChainID)
	}
	pass, err := n.opts.Password(cc)
	if err != nil {
		return err
	}
	key, err := crypto.LoadKeyFile(cc.KeyFile, pass)
	if err != nil {
		return fmt.Errorf("chain %s key %s: %w", gen.ChainID, cc.KeyFile, err)
	}
	db, err := storage.OpenBadger(chainDir(n.cfg.DataDir, gen.ChainID), storage.DefaultBadgerOptions())
	if err != nil {
		return fmt.Errorf("chain %s database: %w", gen.ChainID, err)
	}
	g, err := newGroup(n, cc, gen, key, db)
	if err != nil {
		db.Close()
		return err
	}
	n.groups[gen.ChainID] = g
	n.order = append(n.order, gen.ChainID)
	return nil
}

// Start runs consensus and the API listeners (and the exporters, when on).
func (n *Node) Start() error {
	// Exporters are made first: a setting that cannot work (an unreadable
	// CA or password file) fails the start before anything runs.
	var exporters []*export.Exporter
	if kc := n.cfg.Export.Kafka; kc.Enabled {
		for _, id := range n.order {
			g := n.groups[id]
			x, err := export.New(kc, g.chain, g.db, n.log)
			if err != nil {
				return err
			}
			x.Exported = func(h uint64) { n.metrics.exported(id, h) }
			exporters = append(exporters, x)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	if err := n.listen(); err != nil {
		cancel()
		return err
	}
	for _, id := range n.order {
		g := n.groups[id]
		n.wg.Add(1)
		go func() { defer n.wg.Done(); g.run(ctx) }()
	}
	for _, x := range exporters {
		n.wg.Add(1)
		go func() { defer n.wg.Done(); x.Run(ctx) }()
	}
	n.log.Info("node started", "chains", n.order, "grpc", n.GRPCAddr(), "http", n.HTTPAddr())
	return nil
}

func (n *Node) listen() error {
	srv := api.NewServer(n, Version)
	if addr := n.cfg.API.GRPCAddr; addr != "" {
		lis, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("gRPC listen %s: %w", addr, err)
		}
		max := n.cfg.API.MaxMsgBytes
		// WaitForHandlers: Stop returns only after every handler has, so no
		// handler ever touches a database that Stop then closes.
		n.grpcLis, n.grpcSrv = lis, grpc.NewServer(grpc.MaxRecvMsgSize(max), grpc.MaxSendMsgSize(max), grpc.WaitForHandlers(true))
		pb.RegisterNodeServer(n.grpcSrv, srv)
		go n.grpcSrv.Serve(lis)
	}
	if addr := n.cfg.API.HTTPAddr; addr != "" {
		lis, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("HTTP listen %s: %w", addr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(n.metrics.reg, promhttp.HandlerOpts{}))
		if n.cfg.API.Pprof {
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		}
		mux.Handle("/", api.HTTPHandler(srv))
		n.httpLis, n.httpSrv = lis, &http.Server{Handler: n.tracked(mux), ReadHeaderTimeout: 10 * time.Second}
		go n.httpSrv.Serve(lis)
	}
	return nil
}

// tracked counts running HTTP handlers so Stop can wait for them.
func (n *Node) tracked(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.httpWG.Add(1)
		defer n.httpWG.Done()
		h.ServeHTTP(w, r)
	})
}

// GRPCAddr is the bound gRPC address ("" if disabled).
func (n *Node) GRPCAddr() string { return addrOf(n.grpcLis) }

// HTTPAddr is the bound HTTP address ("" if disabled).
func (n *Node) HTTPAddr() string { return addrOf(n.httpLis) }

func addrOf(l net.Listener) string {
	if l == nil {
		return ""
	}
	return l.Addr().String()
}

// Fatal delivers the error that stopped the node (a failed durable write).
func (n *Node) Fatal() <-chan error { return n.fatal }

func (n *Node) fail(err error) {
	select {
	case n.fatal <- err:
	default:
	}
}

// Stop ends consensus, the listeners and the databases. It is idempotent.
func (n *Node) Stop() {
	n.once.Do(func() {
		if n.cancel != nil {
			n.cancel()
		}
		if n.grpcSrv != nil {
			n.grpcSrv.Stop()
		}
		if n.httpSrv != nil {
			n.httpSrv.Close()
			n.httpWG.Wait() // handlers still running on closed connections
		}
		n.wg.Wait()
		n.stopP2P()
		n.closeGroups()
		n.log.Info("node stopped")
	})
}

func (n *Node) closeGroups() {
	for _, g := range n.groups {
		if err := g.db.Close(); err != nil {
			n.log.Error("close database", "chain", g.chain.ID(), "err", err)
		}
	}
}

// Lookup implements api.Backend.
func (n *Node) Lookup(id string) (*chain.Chain, *txpool.Pool, error) {
	if id == "" && len(n.order) == 1 {
		id = n.order[0]
	}
	g, ok := n.groups[id]
	if !ok {
		return nil, nil, fmt.Errorf("%w: %q (hosted: %v)", api.ErrUnknownChain, id, n.ChainIDs())
	}
	return g.chain, g.pool, nil
}

// ChainIDs implements api.Backend.
func (n *Node) ChainIDs() []string {
	out := append([]string(nil), n.order...)
	sort.Strings(out)
	return out
}

// NodeID implements api.Backend.
func (n *Node) NodeID() string { return n.cfg.Name }

// Group returns a hosted chain's group, or nil.
func (n *Node) Group(id string) *Group { return n.groups[id] }

var errNotValidator = errors.New("this node's key is not the chain's validator")
