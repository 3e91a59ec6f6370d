package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tallyhq/tally/engine/node"
)

// TestNetInitKafka: 'tally net init --kafka' turns the exporter on in the
// first validator of every chain only (the others would publish the same
// messages again), and refuses a broker list it cannot use.
func TestNetInitKafka(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "net")
	tally(t, "net", "init", "--out", dir, "--user-chains", "1", "--validators", "3", "--consensus", "raft",
		"--kafka", "10.0.0.5:9092,10.0.0.6:9092", "--base-port", fmt.Sprint(freeBase(t)))
	for _, id := range []string{"hub", "user-1"} {
		for v := 0; v < 3; v++ {
			path := filepath.Join(dir, id, fmt.Sprintf("%s-v%d", id, v), "node.toml")
			cfg, err := node.LoadConfig(path)
			if err != nil {
				t.Fatal(err)
			}
			k := cfg.Export.Kafka
			if want := v == 0; k.Enabled != want || want && strings.Join(k.Brokers, ",") != "10.0.0.5:9092,10.0.0.6:9092" {
				t.Fatalf("%s: export %+v", path, k)
			}
		}
	}
	bad := filepath.Join(t.TempDir(), "bad")
	cmd := exec.Command(netBin(t), "net", "init", "--out", bad, "--kafka", "nope")
	cmd.Env = append(os.Environ(), "TALLY_PASSWORD=")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "export.kafka") {
		t.Fatalf("--kafka nope: %v %s", err, out)
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Fatalf("a refused init left %s behind", bad)
	}
}
