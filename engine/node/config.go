package node

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/tallyhq/tally/engine/chain"
	craft "github.com/tallyhq/tally/engine/consensus/raft"
	"github.com/tallyhq/tally/engine/consensus/solo"
	"github.com/tallyhq/tally/engine/export"
	"github.com/tallyhq/tally/engine/gcpolicy"
	"github.com/tallyhq/tally/engine/txpool"
)

// Config is a node's TOML configuration.
type Config struct {
	// Name identifies the node in logs and status.
	Name string `toml:"name"`
	// DataDir holds one database per chain (DataDir/chains/<chain id>).
	DataDir string `toml:"data_dir"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `toml:"log_level"`
	// API sets the client API listeners.
	API APIConfig `toml:"api"`
	// P2P is the node-to-node network (needed by multi-validator chains).
	P2P P2PConfig `toml:"p2p"`
	// Chains are the hosted chains (groups).
	Chains []ChainConfig `toml:"chains"`
	// Export publishes every hosted chain's blocks, receipts and events.
	Export ExportConfig `toml:"export"`
	// Runtime sets the Go collector's pacing (see engine/gcpolicy); zero
	// fields take defaults.
	Runtime gcpolicy.Config `toml:"runtime"`
}

// ExportConfig is the `[export]` table.
type ExportConfig struct {
	// Kafka is the Kafka exporter (off by default).
	Kafka export.Config `toml:"kafka"`
}

// P2PConfig sets the node-to-node network: gRPC streams over mutual TLS
// with certificates from the consortium CA.
type P2PConfig struct {
	// ListenAddr is where peers connect (host:port); empty disables p2p.
	ListenAddr string `toml:"listen_addr"`
	// TLSDir holds node.key, node.crt, ca.crt and crl.pem (tally ca issue-node).
	TLSDir string `toml:"tls_dir"`
	// Peers are "nodeid@host:port" addresses to dial.
	Peers []string `toml:"peers"`
}

// ValidatorPeer says which p2p node holds a validator's key.
type ValidatorPeer struct {
	// Validator is the validator's address on the chain.
	Validator string `toml:"validator"`
	// NodeID is the hex id of the node's TLS certificate key.
	NodeID string `toml:"node_id"`
}

// APIConfig sets the client API listeners.
type APIConfig struct {
	// GRPCAddr is the gRPC listen address (host:port); empty disables it.
	GRPCAddr string `toml:"grpc_addr"`
	// HTTPAddr serves HTTP/JSON at /v1/ and Prometheus metrics at /metrics; empty disables it.
	HTTPAddr string `toml:"http_addr"`
	// MaxMsgBytes bounds one gRPC message in either direction.
	MaxMsgBytes int `toml:"max_msg_bytes"`
	// Pprof serves Go's profiler at /debug/pprof/ on HTTPAddr (off by default).
	Pprof bool `toml:"pprof"`
}

// ChainConfig is one hosted chain.
type ChainConfig struct {
	// Genesis is the path of the chain's genesis TOML (relative to the config file).
	Genesis string `toml:"genesis"`
	// KeyFile is this node's validator key for the chain (relative to the config file).
	KeyFile string `toml:"key_file"`
	// PasswordFile holds the key file's passphrase; empty reads $TALLY_PASSWORD.
	PasswordFile string `toml:"password_file"`
	// TickMs is the consensus clock's tick.
	TickMs int `toml:"tick_ms"`
	// Solo configures single-validator sealing.
	Solo solo.Config `toml:"solo"`
	// Pool bounds the transaction pool.
	Pool txpool.Config `toml:"pool"`
	// Raft tunes a Raft chain (timeouts, snapshots); zero fields take defaults.
	Raft craft.Config `toml:"raft"`
	// Validators maps the chain's validators to p2p nodes (multi-validator chains).
	Validators []ValidatorPeer `toml:"validators"`
	// StateCacheMB bounds the cache of recently read and written state in
	// front of the chain's database, which block execution reads through
	// (0: chain.DefaultStateCacheBytes; -1: no cache).
	StateCacheMB int `toml:"state_cache_mb"`
}

// StateCacheBytes is the state cache's bound in bytes (0: none).
func (c ChainConfig) StateCacheBytes() int64 {
	switch {
	case c.StateCacheMB == 0:
		return chain.DefaultStateCacheBytes
	case c.StateCacheMB < 0:
		return 0
	}
	return int64(c.StateCacheMB) << 20
}

// Tick is the consensus tick as a duration.
func (c ChainConfig) Tick() time.Duration { return time.Duration(c.TickMs) * time.Millisecond }

// DefaultChainConfig seals at most every 50 ms (5 ticks of 10 ms) or at 5000 waiting transactions.
func DefaultChainConfig() ChainConfig {
	return ChainConfig{TickMs: 10, Solo: solo.Config{IntervalTicks: 5, BatchTxs: 5000}, Pool: txpool.DefaultConfig()}
}

// DefaultConfig listens on loopback.
func DefaultConfig() Config {
	return Config{Name: "node0", DataDir: "data", LogLevel: "info",
		API:    APIConfig{GRPCAddr: "127.0.0.1:7700", HTTPAddr: "127.0.0.1:7701", MaxMsgBytes: 64 << 20},
		Export: ExportConfig{Kafka: export.DefaultConfig()}}
}

// ErrConfig wraps every configuration error.
var ErrConfig = errors.New("config")

// LoadConfig reads a TOML file; relative paths in it are resolved against
// the file's directory. Unknown keys are errors.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg := DefaultConfig()
	dec := toml.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrConfig, path, err)
	}
	cfg.resolve(filepath.Dir(path))
	return &cfg, cfg.Validate()
}

func (c *Config) resolve(dir string) {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	c.DataDir = abs(c.DataDir)
	c.P2P.TLSDir = abs(c.P2P.TLSDir)
	c.Export.Kafka.Resolve(dir)
	c.Runtime = c.Runtime.WithDefaults()
	for i := range c.Chains {
		ch := &c.Chains[i]
		ch.Genesis, ch.KeyFile, ch.PasswordFile = abs(ch.Genesis), abs(ch.KeyFile), abs(ch.PasswordFile)
		def := DefaultChainConfig()
		if ch.TickMs == 0 {
			ch.TickMs = def.TickMs
		}
		if ch.Solo == (solo.Config{}) {
			ch.Solo = def.Solo
		}
		if ch.Pool.MaxTxs == 0 {
			ch.Pool.MaxTxs = def.Pool.MaxTxs
		}
		if ch.Pool.MaxBytes == 0 {
			ch.Pool.MaxBytes = def.Pool.MaxBytes
		}
		ch.Raft = ch.Raft.WithDefaults()
	}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return fmt.Errorf("%w: data_dir is required", ErrConfig)
	}
	if len(c.Chains) == 0 {
		return fmt.Errorf("%w: no [[chains]]: a node hosts at least one chain", ErrConfig)
	}
	for i, ch := range c.Chains {
		if err := ch.validate(); err != nil {
			return fmt.Errorf("%w: chains[%d]: %v", ErrConfig, i, err)
		}
	}
	if err := c.Export.Kafka.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if err := c.Runtime.WithDefaults().Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return nil
}

func (ch ChainConfig) validate() error {
	if ch.Genesis == "" || ch.KeyFile == "" {
		return errors.New("genesis and key_file are required")
	}
	if ch.TickMs < 1 || ch.TickMs > 10_000 {
		return fmt.Errorf("tick_ms %d out of range [1, 10000]", ch.TickMs)
	}
	if ch.StateCacheMB < -1 || ch.StateCacheMB > 1<<20 {
		return fmt.Errorf("state_cache_mb %d out of range: -1 (off), 0 (default) or up to 1048576", ch.StateCacheMB)
	}
	if err := ch.Solo.Validate(); err != nil {
		return err
	}
	if err := ch.Raft.WithDefaults().Validate(); err != nil {
		return err
	}
	return ch.Pool.Validate()
}
