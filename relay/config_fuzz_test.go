package relay_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tallyhq/tally/relay"
)

// FuzzLoadConfig: any relay.toml either fails with an error or loads to a
// configuration that validates; nothing panics.
func FuzzLoadConfig(f *testing.F) {
	f.Add([]byte("data_dir = \"d\"\nkey_file = \"k\"\nepoch_interval = \"2s\"\n[hub]\nchain_id = \"hub\"\nnode = \"127.0.0.1:1\"\n[[users]]\nchain_id = \"user-1\"\nnode = \"127.0.0.1:2\"\n"))
	f.Add([]byte("epoch_interval = 5\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "relay.toml")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := relay.LoadConfig(path)
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("LoadConfig returned a configuration Validate refuses: %v", err)
		}
	})
}
