package router

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pelletier/go-toml/v2"
)

// Config is a router's TOML configuration.
type Config struct {
	// GRPCAddr and HTTPAddr are the API listeners (HTTP serves JSON at /v1/).
	GRPCAddr string `toml:"grpc_addr"`
	HTTPAddr string `toml:"http_addr"`
	// KeyFile signs the router's directory transactions on the hub
	// (assignments need no role); PasswordFile holds its passphrase ("" reads $TALLY_PASSWORD).
	KeyFile      string `toml:"key_file"`
	PasswordFile string `toml:"password_file"`
	// Hub is the hub chain.
	Hub Endpoint `toml:"hub"`
	// Chains are the user chains the router forwards to.
	Chains []Endpoint `toml:"chains"`
	// AssignBatchMs is how long new accounts wait to share one hub transaction.
	AssignBatchMs int `toml:"assign_batch_ms"`
}

// Endpoint names a chain and a node serving it.
type Endpoint struct {
	ChainID string `toml:"chain_id"`
	Node    string `toml:"node"`
}

// DefaultConfig listens on loopback.
func DefaultConfig() Config {
	return Config{GRPCAddr: "127.0.0.1:7900", HTTPAddr: "127.0.0.1:7901", AssignBatchMs: 20}
}

// LoadConfig reads a TOML file; relative key paths resolve against its directory.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg := DefaultConfig()
	dec := toml.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("router config %s: %w", path, err)
	}
	for _, p := range []*string{&cfg.KeyFile, &cfg.PasswordFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(filepath.Dir(path), *p)
		}
	}
	return &cfg, cfg.Validate()
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.Hub.ChainID == "" || c.Hub.Node == "" {
		return errors.New("router config: [hub] chain_id and node are required")
	}
	seen := map[string]bool{c.Hub.ChainID: true}
	for i, ch := range c.Chains {
		if ch.ChainID == "" || ch.Node == "" || seen[ch.ChainID] {
			return fmt.Errorf("router config: chains[%d] needs a unique chain_id and a node", i)
		}
		seen[ch.ChainID] = true
	}
	if c.AssignBatchMs < 1 || c.AssignBatchMs > 10_000 {
		return fmt.Errorf("router config: assign_batch_ms %d out of [1, 10000]", c.AssignBatchMs)
	}
	return nil
}
