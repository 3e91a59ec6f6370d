package node_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/gcpolicy"
	"github.com/tallyhq/tally/engine/node"
	"github.com/tallyhq/tally/engine/txpool"
)

// configLoader returns a function that loads a node.toml of one chain,
// whose table ends with prefix and the function's argument.
func configLoader(t *testing.T, prefix string) func(string) (*node.Config, error) {
	dir := t.TempDir()
	return func(rest string) (*node.Config, error) {
		path := filepath.Join(dir, "node.toml")
		mustWrite(t, path, []byte("data_dir = \"d\"\n[[chains]]\ngenesis = \"g.toml\"\nkey_file = \"v.key\"\n"+prefix+rest+"\n"))
		return node.LoadConfig(path)
	}
}

// TestPoolConfigFields: a [chains.pool] table that sets one field keeps
// the defaults of the others; a re-gossip period out of range is refused.
func TestPoolConfigFields(t *testing.T) {
	load := configLoader(t, "[chains.pool]\n")
	cfg, err := load("regossip_ms = 500")
	if err != nil {
		t.Fatal(err)
	}
	def := txpool.DefaultConfig()
	if p := cfg.Chains[0].Pool; p.MaxTxs != def.MaxTxs || p.MaxBytes != def.MaxBytes || p.Regossip() != 500*time.Millisecond {
		t.Fatalf("pool config %+v", p)
	}
	if cfg, err = load("max_txs = 10"); err != nil || cfg.Chains[0].Pool.MaxBytes != def.MaxBytes || cfg.Chains[0].Pool.Regossip() != txpool.DefaultRegossip {
		t.Fatalf("max_txs alone: %v %+v", err, cfg)
	}
	for _, bad := range []string{"regossip_ms = -7", "regossip_ms = 99999999", "max_txs = -1", "regossip_ms = \"soon\""} {
		if _, err := load(bad); !errors.Is(err, node.ErrConfig) {
			t.Errorf("%s: %v, want a config error", bad, err)
		}
	}
}

// TestRuntimeConfig: the [runtime] table takes the collector's pacing;
// absent, or with one field set, the others are the defaults; garbage is a
// configuration error.
func TestRuntimeConfig(t *testing.T) {
	load := configLoader(t, "")
	cfg, err := load("")
	if err != nil || cfg.Runtime != gcpolicy.Default() {
		t.Fatalf("no [runtime]: %v %+v", err, cfg)
	}
	cfg, err = load("[runtime]\nmemory_limit = \"6GiB\"")
	if err != nil || cfg.Runtime.GCPercent != gcpolicy.DefaultGCPercent || cfg.Runtime.MemoryLimit != "6GiB" {
		t.Fatalf("memory_limit alone: %v %+v", err, cfg)
	}
	if cfg, err = load("[runtime]\ngc_percent = 150"); err != nil || cfg.Runtime.GCPercent != 150 || cfg.Runtime.MemoryLimit != "auto" {
		t.Fatalf("gc_percent alone: %v %+v", err, cfg)
	}
	for _, bad := range []string{"gc_percent = -5", "gc_percent = \"lots\"", "memory_limit = \"6GB\"", "memory_limit = 6", "gc_percent = -1\nmemory_limit = \"off\"", "heap = 1"} {
		if _, err := load("[runtime]\n" + bad); !errors.Is(err, node.ErrConfig) {
			t.Errorf("%s: %v, want a config error", bad, err)
		}
	}
}

// TestStateCacheConfig: state_cache_mb bounds a chain's state cache; 0 or
// absent is the default, -1 turns it off, anything else below is an error.
func TestStateCacheConfig(t *testing.T) {
	load := configLoader(t, "")
	for line, want := range map[string]int64{"": chain.DefaultStateCacheBytes, "state_cache_mb = 0": chain.DefaultStateCacheBytes,
		"state_cache_mb = -1": 0, "state_cache_mb = 256": 256 << 20} {
		cfg, err := load(line)
		if err != nil {
			t.Errorf("%q: %v", line, err)
		} else if got := cfg.Chains[0].StateCacheBytes(); got != want {
			t.Errorf("%q: %d bytes, want %d", line, got, want)
		}
	}
	for _, bad := range []string{"state_cache_mb = -2", "state_cache_mb = \"big\"", "state_cache_mb = 99999999"} {
		if _, err := load(bad); !errors.Is(err, node.ErrConfig) {
			t.Errorf("%s: %v, want a config error", bad, err)
		}
	}
}

// FuzzLoadConfig: any node.toml either loads into a configuration that
// validates, or fails with a configuration error; nothing panics.
func FuzzLoadConfig(f *testing.F) {
	f.Add([]byte("data_dir = \"d\"\n[[chains]]\ngenesis = \"g.toml\"\nkey_file = \"v.key\"\n[chains.pool]\nregossip_ms = 500\n[chains.raft]\nheartbeat_ms = 300\n"))
	f.Add([]byte("data_dir = \"d\"\n[[chains]]\ngenesis = \"g.toml\"\nkey_file = \"v.key\"\n[[chains.validators]]\nvalidator = \"0x01\"\nnode_id = \"zz\"\n[export.kafka]\nenabled = true\nbrokers = [\"127.0.0.1:9092\"]\n"))
	f.Add([]byte("[api]\ngrpc_addr = 7\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "node.toml")
		mustWrite(t, path, b)
		cfg, err := node.LoadConfig(path)
		if err != nil {
			if !errors.Is(err, node.ErrConfig) {
				t.Fatalf("a bad node.toml failed without a configuration error: %v", err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("LoadConfig returned a configuration Validate refuses: %v", err)
		}
	})
}
