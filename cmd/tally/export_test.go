package main

import (
	"context"
	"encoding/json"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tallyhq/tally/engine/client"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/node"
)

// TestExportAdmin: 'tally export status' and 'tally export rewind' on a
// stopped dev node: refused before the node has run, on a height outside
// the chain, and while the node holds the database; a rewind moves the
// cursor the node will start from.
func TestExportAdmin(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dev")
	run := func(args ...string) (string, error) {
		cmd := exec.Command(netBin(t), args...)
		cmd.Env = append(os.Environ(), "TALLY_PASSWORD=")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("node", "--dev-dir", dir, "--log-level", "bogus"); err == nil || !strings.Contains(out, "created development chain") {
		t.Fatalf("creating the dev chain: %v %s", err, out)
	}
	cfgPath := filepath.Join(dir, "node.toml")
	if out, err := run("export", "status", "--config", cfgPath); err == nil || !strings.Contains(out, "has the node run?") {
		t.Fatalf("status before the node ran: %v %s", err, out)
	}

	// Run the node in this process and commit a few blocks.
	cfg, err := node.LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.API.GRPCAddr, cfg.API.HTTPAddr = "127.0.0.1:0", ""
	nd, err := node.New(cfg, node.Options{Password: func(node.ChainConfig) (string, error) { return "", nil }})
	if err != nil {
		t.Fatal(err)
	}
	if err := nd.Start(); err != nil {
		t.Fatal(err)
	}
	defer nd.Stop()
	admin, err := crypto.LoadKeyFile(filepath.Join(dir, "admin.key"), "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(nd.GRPCAddr(), "dev")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	acct := &client.Account{Key: admin, Client: c, ChainID: c.ChainID()}
	for i := range 3 {
		data, _ := ledger.New().Pack("transfer", "CNY", admin.Address(), big.NewInt(int64(i+1)))
		if _, err := acct.Transact(ctx, &ledger.Address, data, 0); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := run("export", "rewind", "--config", cfgPath, "--from", "1"); err == nil || !strings.Contains(out, "stop the node first") {
		t.Fatalf("rewind while the node runs: %v %s", err, out)
	}
	g := nd.Group(c.ChainID())
	head := g.Chain().Head().Height
	nd.Stop()

	out, err := run("export", "status", "--config", cfgPath)
	if err != nil || !strings.Contains(out, "nothing exported yet") {
		t.Fatalf("status: %v %s", err, out)
	}
	if out, err := run("export", "rewind", "--config", cfgPath, "--from", "99"); err == nil || !strings.Contains(out, "blocks run from 1 to") {
		t.Fatalf("rewind past the head: %v %s", err, out)
	}
	if out, err := run("export", "rewind", "--config", cfgPath, "--chain", "nope", "--from", "1"); err == nil || !strings.Contains(out, `no chain "nope"`) {
		t.Fatalf("rewind of another chain: %v %s", err, out)
	}
	if out, err := run("export", "rewind", "--config", cfgPath, "--from", "2"); err != nil || !strings.Contains(out, "the next start exports from height 2") {
		t.Fatalf("rewind: %v %s", err, out)
	}
	out, err = run("--json", "export", "status", "--config", cfgPath)
	if err != nil {
		t.Fatalf("status: %v %s", err, out)
	}
	var cs []node.ExportCursor
	if err := json.Unmarshal([]byte(out), &cs); err != nil {
		t.Fatalf("status --json: %v %s", err, out)
	}
	if len(cs) != 1 || !cs[0].Started || cs[0].Exported != 1 || cs[0].Head != head {
		t.Fatalf("status after the rewind: %+v (head %d)", cs, head)
	}
}
