package relay

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Config is a relay's TOML configuration.
type Config struct {
	// DataDir holds the relay's cursors (badger).
	DataDir string `toml:"data_dir"`
	// KeyFile signs the relay's transactions; it needs SETTLER on user chains
	// to trigger settlement. PasswordFile holds its passphrase ("" reads $TALLY_PASSWORD).
	KeyFile      string `toml:"key_file"`
	PasswordFile string `toml:"password_file"`
	// EpochInterval is how often user chains settle, e.g. "1s"; "0s" never.
	EpochInterval string `toml:"epoch_interval"`
	// HTTPAddr serves Prometheus metrics at /metrics and a liveness probe
	// at /healthz (host:port); empty serves nothing.
	HTTPAddr string `toml:"http_addr"`
	// Hub and Users name the chains and a node of each.
	Hub   ChainEndpoint   `toml:"hub"`
	Users []ChainEndpoint `toml:"users"`
}

// ChainEndpoint names a chain and a node's gRPC address.
type ChainEndpoint struct {
	ChainID string `toml:"chain_id"`
	Node    string `toml:"node"`
}

// LoadConfig reads a TOML file; relative paths resolve against its directory.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg := Config{EpochInterval: "1s"}
	dec := toml.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("relay config %s: %w", path, err)
	}
	for _, p := range []*string{&cfg.DataDir, &cfg.KeyFile, &cfg.PasswordFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(filepath.Dir(path), *p)
		}
	}
	return &cfg, cfg.Validate()
}

// Interval parses EpochInterval.
func (c *Config) Interval() time.Duration {
	d, _ := time.ParseDuration(c.EpochInterval)
	return d
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.DataDir == "" || c.KeyFile == "" {
		return errors.New("relay config: data_dir and key_file are required")
	}
	if d, err := time.ParseDuration(c.EpochInterval); err != nil || d < 0 || (d > 0 && d < 50*time.Millisecond) {
		return fmt.Errorf("relay config: epoch_interval %q: a duration of at least 50ms, or 0s", c.EpochInterval)
	}
	if c.HTTPAddr != "" {
		if _, port, err := net.SplitHostPort(c.HTTPAddr); err != nil || port == "" {
			return fmt.Errorf("relay config: http_addr %q: want host:port", c.HTTPAddr)
		}
	}
	if c.Hub.ChainID == "" || c.Hub.Node == "" || len(c.Users) == 0 {
		return errors.New("relay config: [hub] and at least one [[users]] chain, each with chain_id and node")
	}
	for i, u := range c.Users {
		if u.ChainID == "" || u.Node == "" {
			return fmt.Errorf("relay config: users[%d] needs chain_id and node", i)
		}
	}
	return nil
}
