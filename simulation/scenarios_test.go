package simulation

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestShippedScenarios runs every scenario in scenarios/, shortened, and
// requires every invariant to hold.
func TestShippedScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("runs whole consortia")
	}
	files, err := filepath.Glob("scenarios/*.toml")
	if err != nil || len(files) < 3 {
		t.Fatalf("expected shipped scenarios, found %v (%v)", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			sc, err := LoadScenario(f)
			if err != nil {
				t.Fatal(err)
			}
			cfg, _ := sc.Config(DefaultConfig())
			shrink(&cfg)
			cfg.Dir = t.TempDir()
			res, err := Run(context.Background(), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Pass || res.TPS == 0 {
				t.Fatalf("scenario %s failed: pass=%v tps=%.0f\n%v", sc.Name, res.Pass, res.TPS, res.Invariants)
			}
			if len(res.Faults) != len(cfg.Faults) {
				t.Fatalf("injected %d of %d faults: %+v", len(res.Faults), len(cfg.Faults), res.Faults)
			}
			for _, f := range res.Faults {
				if strings.HasPrefix(f.Detail, "failed") {
					t.Fatalf("fault %s did not happen: %s", f.Kind, f.Detail)
				}
			}
		})
	}
}

// shrink scales a scenario to six seconds of load, keeping its faults at
// the same fractions of the run, with fewer users and a modest rate.
func shrink(c *Config) {
	if c.Duration > 6*time.Second {
		f := 6 * float64(time.Second) / float64(c.Duration)
		for i := range c.Faults {
			c.Faults[i].At = time.Duration(float64(c.Faults[i].At) * f)
			c.Faults[i].For = time.Duration(float64(c.Faults[i].For) * f)
		}
		c.Duration = 6 * time.Second
	}
	c.Users = min(c.Users, 600)
	if c.RatePerSec == 0 || c.RatePerSec > 800 {
		c.RatePerSec = 800
	}
}
