package main

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/cobra"

	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/client"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/export"
	"github.com/tallyhq/tally/engine/p2p/ca"
	"github.com/tallyhq/tally/hubchain"
	"github.com/tallyhq/tally/userchain"
)

func netCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "net", Short: "Build and run a consortium as real processes on loopback"}
	cmd.AddCommand(netInitCmd(), netUpCmd(), netStatusCmd(), netDownCmd())
	return cmd
}

func netInitCmd() *cobra.Command {
	p := &netPlan{}
	var validators int
	var consensus string
	var kafkaBrokers string
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Generate keys, genesis files (light clients and merchants registered), node, relay and router configs",
		Long: `Generate keys, genesis files (light clients and merchants registered), node, relay and router configs.

Multi-validator chains run PBFT or Raft: --consensus sets both the hub and the user
chains, --hub-consensus and --user-consensus override it per side, e.g.
--hub-consensus pbft --user-consensus raft. A chain of one validator always runs solo.
PBFT tolerates f faulty validators of 3f+1 (4 tolerate one); Raft tolerates f crashed
validators of 2f+1 (3 tolerate one), and its certificates carry a majority of the
validators' signatures, which the hub's light clients of Raft user chains require.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if validators < 1 || validators > 7 {
				return errors.New("--validators must be 1..7")
			}
			if p.hubConsensus == "" {
				p.hubConsensus = consensus
			}
			if p.userConsensus == "" {
				p.userConsensus = consensus
			}
			for _, fc := range [][2]string{{"consensus", consensus}, {"hub-consensus", p.hubConsensus}, {"user-consensus", p.userConsensus}} {
				if fc[1] != chain.ConsensusPBFT && fc[1] != chain.ConsensusRaft {
					return fmt.Errorf("--%s %q: use pbft or raft (one validator always runs solo)", fc[0], fc[1])
				}
			}
			if validators == 1 {
				p.hubConsensus, p.userConsensus = chain.ConsensusSolo, chain.ConsensusSolo
			}
			p.validators = validators
			if kafkaBrokers != "" {
				p.kafka = strings.Split(kafkaBrokers, ",")
				kc := export.DefaultConfig()
				kc.Enabled, kc.Brokers = true, p.kafka
				if err := kc.Validate(); err != nil {
					return fmt.Errorf("--kafka: %w", err)
				}
			}
			if p.users < 1 || p.users > 8 || p.merchants < 1 {
				return errors.New("--user-chains must be 1..8 and --merchants at least 1")
			}
			if _, err := os.Stat(p.dir); err == nil {
				return fmt.Errorf("%s exists; choose a new --out", p.dir)
			}
			s, err := crypto.ByName(p.suiteName)
			if err != nil {
				return err
			}
			p.suite = s
			if validators > 1 {
				if _, err := ca.InitCA(filepath.Join(p.dir, "ca")); err != nil {
					return err
				}
			}
			cons, err := p.build()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "consortium in %s: hub (%s) at %s, %d user chains (%s), router at %s\nadmin %s (keys/admin.key)\n",
				p.dir, p.hubConsensus, cons.Hub.GRPC, len(cons.Users), p.userConsensus, cons.Router, cons.Admin)
			for _, m := range cons.Merchants {
				fmt.Fprintf(cmd.OutOrStdout(), "merchant %s operated by %s\n", m.Address, m.Operator)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&p.dir, "out", "tally-net", "directory to create")
	f.IntVar(&p.users, "user-chains", 2, "user chains")
	f.IntVar(&validators, "validators", 1, "validators per chain (1 runs solo; pbft tolerates one fault from 4, raft one crash from 3)")
	f.StringVar(&consensus, "consensus", chain.ConsensusPBFT, "consensus of multi-validator chains: pbft or raft")
	f.StringVar(&p.hubConsensus, "hub-consensus", "", "the hub's consensus, pbft or raft (default --consensus)")
	f.StringVar(&p.userConsensus, "user-consensus", "", "the user chains' consensus, pbft or raft (default --consensus)")
	f.StringVar(&p.suiteName, "crypto", crypto.SuiteSecp256k1, "crypto suite: secp256k1 or sm")
	f.IntVar(&p.merchants, "merchants", 1, "hot accounts to register")
	f.StringVar(&p.asset, "asset", "CNY", "asset code")
	f.IntVar(&p.basePort, "base-port", 17700, "first loopback port")
	f.StringVar(&kafkaBrokers, "kafka", "", "Kafka brokers (host:port,...) the first validator of each chain exports its blocks to")
	return cmd
}

func loadConsortium(dir string) (*Consortium, error) {
	b, err := os.ReadFile(filepath.Join(dir, "consortium.toml"))
	if err != nil {
		return nil, fmt.Errorf("%s is not a consortium made by 'tally net init': %w", dir, err)
	}
	var c Consortium
	return &c, toml.Unmarshal(b, &c)
}

// processOrder starts the chains first, then the relay and the router.
func processOrder(c *Consortium) []string {
	var names []string
	for n := range c.Processes {
		names = append(names, n)
	}
	rank := func(n string) int {
		switch n {
		case "relay":
			return 2
		case "router":
			return 3
		}
		return 1
	}
	sort.Slice(names, func(i, j int) bool {
		if rank(names[i]) != rank(names[j]) {
			return rank(names[i]) < rank(names[j])
		}
		return names[i] < names[j]
	})
	return names
}

func netUpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "up DIR",
		Short: "Start every process of a consortium in the background (logs in DIR/logs)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			c, err := loadConsortium(dir)
			if err != nil {
				return err
			}
			self, err := os.Executable()
			if err != nil {
				return err
			}
			for _, name := range processOrder(c) {
				exited, err := startProcess(dir, self, name, c.Processes[name])
				if err != nil {
					return err
				}
				if err := waitReady(c, name, exited); err != nil {
					return fmt.Errorf("%s did not come up (see %s): %w", name, filepath.Join(dir, "logs", name+".log"), err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "started %s\n", name)
			}
			return nil
		},
	}
}

// startProcess starts one process of the consortium in the background.
// exited reports its exit while this command runs (it does not hold the
// process: that outlives it).
func startProcess(dir, self, name, cfg string) (exited <-chan error, err error) {
	if pid, ok := runningPID(dir, name); ok {
		return nil, fmt.Errorf("%s is already running (pid %d)", name, pid)
	}
	for _, d := range []string{"logs", "run"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	logf, err := os.OpenFile(filepath.Join(dir, "logs", name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	sub := "node"
	switch name {
	case "relay", "router":
		sub = name
	}
	p := exec.Command(self, sub, "--config", filepath.Join(dir, cfg))
	p.Stdout, p.Stderr = logf, logf
	p.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // outlive this command
	if err := p.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- p.Wait() }()
	return done, os.WriteFile(filepath.Join(dir, "run", name+".pid"), []byte(strconv.Itoa(p.Process.Pid)), 0o644)
}

func runningPID(dir, name string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(dir, "run", name+".pid"))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, false
	}
	return pid, syscall.Kill(pid, 0) == nil
}

// waitReady waits for a chain's node to answer, for the router to accept
// connections on its gRPC and HTTP ports, and for the relay to accept them on
// its HTTP port (a consortium made before the relay had one: to be still
// running after a moment). A process that exits (a port taken, a bad
// config) is reported at once rather than after the wait.
func waitReady(c *Consortium, name string, exited <-chan error) error {
	addr, chainID := "", ""
	for _, ch := range append([]NetChain{c.Hub}, c.Users...) {
		for _, nd := range ch.Nodes {
			if nd.Name == name {
				addr, chainID = nd.GRPC, ch.ID
			}
		}
	}
	var gone error // sticky: exited reports once
	alive := func() error {
		if gone == nil {
			select {
			case err := <-exited:
				gone = fmt.Errorf("%s exited (%v)", name, err)
			default:
			}
		}
		return gone
	}
	deadline := time.Now().Add(30 * time.Second)
	if addr == "" {
		var ports []string
		switch {
		case name == "router":
			ports = []string{c.Router, c.RouterAPI}
		case name == "relay" && c.RelayHTTP != "":
			ports = []string{c.RelayHTTP}
		}
		time.Sleep(500 * time.Millisecond)
		for {
			err := alive()
			for _, p := range ports {
				if err != nil {
					break
				}
				var conn net.Conn
				if conn, err = net.DialTimeout("tcp", p, time.Second); err == nil {
					conn.Close()
				}
			}
			if err == nil || time.Now().After(deadline) {
				return err
			}
			if err := alive(); err != nil {
				return err
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	cl, err := client.Dial(addr, chainID)
	if err != nil {
		return err
	}
	defer cl.Close()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := cl.Head(ctx)
		cancel()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		if err := alive(); err != nil {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func netDownCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "down DIR",
		Short: "Stop every process of a consortium (SIGTERM, then SIGKILL after 10s)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadConsortium(args[0])
			if err != nil {
				return err
			}
			names := processOrder(c)
			for i := len(names) - 1; i >= 0; i-- {
				if stopProcess(args[0], names[i]) {
					fmt.Fprintf(cmd.OutOrStdout(), "stopped %s\n", names[i])
				}
			}
			return nil
		},
	}
}

func stopProcess(dir, name string) bool {
	pid, ok := runningPID(dir, name)
	if !ok {
		return false
	}
	syscall.Kill(pid, syscall.SIGTERM)
	for i := 0; i < 100; i++ {
		if syscall.Kill(pid, 0) != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	os.Remove(filepath.Join(dir, "run", name+".pid"))
	return true
}

func netStatusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status DIR",
		Short: "Show every chain's height, the relay's lag and the hub's merchants",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadConsortium(args[0])
			if err != nil {
				return err
			}
			return printNetStatus(cmd, args[0], c)
		},
	}
}

func printNetStatus(cmd *cobra.Command, dir string, c *Consortium) error {
	out := cmd.OutOrStdout()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, name := range processOrder(c) {
		pid, up := runningPID(dir, name)
		fmt.Fprintf(out, "%-8s %-7s pid %d\n", name, map[bool]string{true: "running", false: "stopped"}[up], pid)
	}
	hub, err := client.Dial(c.Hub.GRPC, "hub")
	if err != nil {
		return err
	}
	defer hub.Close()
	if h, err := hub.Head(ctx); err == nil {
		fmt.Fprintf(out, "\nhub      height %d\n", h)
	}
	for _, u := range c.Users {
		userStatus(ctx, out, hub, u)
	}
	for _, m := range c.Merchants {
		merchantStatus(ctx, out, hub, c.Asset, m.Address)
	}
	return nil
}

var (
	hubABI    = hubchain.New()
	shadowABI = userchain.New()
)

func callView(ctx context.Context, c *client.Client, addr common.Address, abi interface {
	Pack(string, ...any) ([]byte, error)
	Unpack(string, []byte) ([]any, error)
}, method string, args ...any) ([]any, error) {
	data, err := abi.Pack(method, args...)
	if err != nil {
		return nil, err
	}
	r, err := c.Call(ctx, common.Address{}, &addr, data)
	if err != nil {
		return nil, err
	}
	if r.Status != 0 {
		return nil, fmt.Errorf("%s: %s", method, r.RevertReason)
	}
	return abi.Unpack(method, r.Output)
}

// userStatus prints a user chain's height and how far the hub's bookings lag it.
func userStatus(ctx context.Context, out interface{ Write([]byte) (int, error) }, hub *client.Client, u NetChain) {
	uc, err := client.Dial(u.GRPC, u.ID)
	if err != nil {
		return
	}
	defer uc.Close()
	h, err := uc.Head(ctx)
	if err != nil {
		fmt.Fprintf(out, "%-8s unreachable: %v\n", u.ID, err)
		return
	}
	ep, _ := callView(ctx, uc, userchain.Address, shadowABI, "epoch")
	cs, err := callView(ctx, hub, hubchain.Address, hubABI, "chainState", u.ID)
	if err != nil || ep == nil {
		fmt.Fprintf(out, "%-8s height %d\n", u.ID, h)
		return
	}
	fmt.Fprintf(out, "%-8s height %d  epochs settled %d, booked %d  relay lag %d blocks\n",
		u.ID, h, ep[0].(uint64), cs[0].(uint64), h-min(h, cs[2].(uint64)))
}

func merchantStatus(ctx context.Context, out interface{ Write([]byte) (int, error) }, hub *client.Client, asset, m string) {
	v, err := callView(ctx, hub, hubchain.Address, hubABI, "merchant", common.HexToAddress(m), asset)
	if err != nil {
		return
	}
	fmt.Fprintf(out, "merchant %s  income %s  payouts %s  reserve %s  balance %s %s\n", m, v[0].(*big.Int), v[1].(*big.Int),
		v[2].(*big.Int), v[3].(*big.Int), asset)
}
