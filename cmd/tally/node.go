package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/cobra"

	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/gcpolicy"
	"github.com/tallyhq/tally/engine/node"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/relay"
)

func nodeCmd() *cobra.Command {
	var cfgPath, devDir, suite, logLevel, grpcAddr, httpAddr string
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Run a node (with no --config: a development chain in --dev-dir)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfgPath == "" {
				p, err := ensureDevChain(cmd, devDir, suite)
				if err != nil {
					return err
				}
				cfgPath = p
			}
			cfg, err := node.LoadConfig(cfgPath)
			if err != nil {
				return err
			}
			if logLevel != "" {
				cfg.LogLevel = logLevel
			}
			if grpcAddr != "" {
				cfg.API.GRPCAddr = grpcAddr
			}
			if httpAddr != "" {
				cfg.API.HTTPAddr = httpAddr
			}
			return runNode(cfg)
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "", "node config TOML")
	cmd.Flags().StringVar(&devDir, "dev-dir", ".tally-dev", "development chain directory, created on first run")
	cmd.Flags().StringVar(&suite, "suite", crypto.SuiteSecp256k1, "crypto suite of a new development chain: secp256k1 or sm")
	cmd.Flags().StringVar(&logLevel, "log-level", "", "debug, info, warn or error (overrides the config)")
	cmd.Flags().StringVar(&grpcAddr, "grpc-addr", "", "gRPC listen address (overrides the config)")
	cmd.Flags().StringVar(&httpAddr, "http-addr", "", "HTTP/JSON listen address (overrides the config)")
	return cmd
}

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log_level %q: use debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}

func runNode(cfg *node.Config) error {
	log, err := newLogger(cfg.LogLevel)
	if err != nil {
		return err
	}
	gc, err := gcpolicy.Apply(cfg.Runtime, gcpolicy.Host{})
	if err != nil {
		return err
	}
	log.Info("collector pacing", "policy", gc.String())
	n, err := node.New(cfg, node.Options{Logger: log, Executor: relay.Executor})
	if err != nil {
		return err
	}
	if err := n.Start(); err != nil {
		n.Stop()
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case s := <-sig:
		log.Info("shutting down", "signal", s.String())
		n.Stop()
		return nil
	case err := <-n.Fatal():
		n.Stop()
		return fmt.Errorf("node stopped: %w", err)
	}
}

// ensureDevChain creates a one-validator development chain on first run:
// a validator key, an admin key holding every role and 10^12 minor units of
// CNY, a genesis and a node config. Keys use $TALLY_PASSWORD (empty if unset).
func ensureDevChain(cmd *cobra.Command, dir, suite string) (string, error) {
	cfgPath := filepath.Join(dir, "node.toml")
	if _, err := os.Stat(cfgPath); err == nil {
		return cfgPath, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	s, err := crypto.ByName(suite)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	pass := os.Getenv("TALLY_PASSWORD")
	val, err := newKeyFile(s, filepath.Join(dir, "validator.key"), pass)
	if err != nil {
		return "", err
	}
	admin, err := newKeyFile(s, filepath.Join(dir, "admin.key"), pass)
	if err != nil {
		return "", err
	}
	if err := writeDevGenesis(filepath.Join(dir, "genesis.toml"), s, val, admin); err != nil {
		return "", err
	}
	cfg := node.DefaultConfig()
	cfg.Name, cfg.DataDir = "dev", "data"
	cc := node.DefaultChainConfig()
	cc.Genesis, cc.KeyFile = "genesis.toml", "validator.key"
	cfg.Chains = []node.ChainConfig{cc}
	if err := writeTOML(cfgPath, cfg); err != nil {
		return "", err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "created development chain in %s\n  admin key %s (address %s; holds every role and 1000000000000 CNY minor units)\n",
		dir, filepath.Join(dir, "admin.key"), admin.Address().Hex())
	return cfgPath, nil
}

func newKeyFile(s crypto.Suite, path, pass string) (crypto.PrivateKey, error) {
	k, err := s.GenerateKey()
	if err != nil {
		return nil, err
	}
	return k, crypto.SaveKeyFile(path, k, pass)
}

func writeDevGenesis(path string, s crypto.Suite, val, admin crypto.PrivateKey) error {
	a := admin.Address().Hex()
	g := &chain.Genesis{
		ChainID: "dev", Suite: s.Name(), Consensus: chain.ConsensusSolo,
		Validators: []chain.GenesisValidator{{PubKey: hexutil.Encode(val.PublicKey()), Name: "dev"}},
		Roles:      map[string][]string{},
		Balances:   []chain.GenesisBalance{{Asset: "CNY", Address: a, Amount: "1000000000000"}},
	}
	for _, r := range system.Roles {
		g.Roles[r] = []string{a}
	}
	if err := g.Validate(); err != nil {
		return err
	}
	return writeTOML(path, g)
}

func writeTOML(path string, v any) error {
	b, err := toml.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}
