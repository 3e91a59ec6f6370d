package simulation_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tallyhq/tally/simulation"
)

// FuzzLoadScenario: any scenario file either fails with an error or loads
// to one whose configuration validates; nothing panics. The shipped
// scenarios are the seeds.
func FuzzLoadScenario(f *testing.F) {
	shipped, _ := filepath.Glob(filepath.Join("scenarios", "*.toml"))
	for _, p := range shipped {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("chains = -3\n[[faults]]\nkind = \"partition\"\nat = \"1h\"\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "s.toml")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		sc, err := simulation.LoadScenario(path)
		if err != nil {
			return
		}
		cfg, err := sc.Config(simulation.DefaultConfig())
		if err != nil {
			t.Fatalf("a loaded scenario does not apply: %v", err)
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("a loaded scenario gives a configuration Validate refuses: %v", err)
		}
	})
}
