package node_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/tallyhq/tally/engine/node"
	"github.com/tallyhq/tally/engine/txpool"
)

// TestPoolConfigFields: a [chains.pool] table that sets one field keeps
// the defaults of the others; a re-gossip period out of range is refused.
func TestPoolConfigFields(t *testing.T) {
	dir := t.TempDir()
	load := func(pool string) (*node.Config, error) {
		path := filepath.Join(dir, "node.toml")
		mustWrite(t, path, []byte("data_dir = \"d\"\n[[chains]]\ngenesis = \"g.toml\"\nkey_file = \"v.key\"\n[chains.pool]\n"+pool+"\n"))
		return node.LoadConfig(path)
	}
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
