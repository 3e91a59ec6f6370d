package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tallyhq/tally/engine/crypto"
)

var deployedRe = regexp.MustCompile(`deployed \w+ at (0x[0-9a-fA-F]{40})`)

// TestCLIContracts deploys an ERC-20 token and the escrow example through
// the CLI on a running chain, calls them, has the Solidity escrow move
// Ledger money through the precompile, and resolves it by CNS name.
func TestCLIContracts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the tally binary")
	}
	// TestCLIQuickstart's binary lives in its own temporary directory,
	// gone once it ends: use the binary built once for the whole run.
	cliBin = netBin(t)
	root := t.TempDir()
	dev := filepath.Join(root, "dev")
	addr := newDevChain(t, dev, crypto.SuiteSecp256k1)
	startNode(t, dev, addr)
	node, key := "--node="+addr, filepath.Join(dev, "admin.key")
	admin := addressIn(t, mustCLI(t, "keys", "show", "--key", key)).Hex()
	deploy := func(args ...string) string {
		out := mustCLI(t, append([]string{node, "contract", "deploy", "--key", key}, args...)...)
		m := deployedRe.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("deploy %v: %s", args, out)
		}
		return m[1]
	}
	token := deploy("Token", "--arg", "Tally Token", "--arg", "TT", "--arg", "1000000")
	bob := "0x1111111111111111111111111111111111111111"
	mustCLI(t, node, "contract", "send", "transfer", "--abi", "Token", "--to", token, "--key", key, "--arg", bob, "--arg", "250")
	if out := mustCLI(t, node, "contract", "call", "balanceOf", "--abi", "Token", "--to", token, "--arg", bob); strings.TrimSpace(out) != "[250]" {
		t.Fatalf("token balance of bob: %s", out)
	}
	if out, err := cli(t, node, "contract", "send", "transfer", "--abi", "Token", "--to", token, "--key", key, "--arg", bob, "--arg", "99999999"); err == nil ||
		!strings.Contains(out, "balance too low") {
		t.Fatalf("overspending the token: %v %s", err, out)
	}
	escrow := deploy("Escrow", "--arg", admin, "--arg", "CNY")
	mustCLI(t, node, "tx", "transfer", "--key", key, "--to", escrow, "--amount", "500")
	seller := "0x2222222222222222222222222222222222222222"
	mustCLI(t, node, "contract", "send", "open", "--abi", "Escrow", "--to", escrow, "--key", key, "--arg", seller, "--arg", "500")
	mustCLI(t, node, "cns", "register", "Escrow", "1.0", escrow, "--key", key, "--abi", filepath.Join("..", "..", "contracts", "build", "Escrow.abi"))
	if out := mustCLI(t, node, "cns", "resolve", "Escrow"); !strings.Contains(out, escrow) {
		t.Fatalf("cns resolve: %s", out)
	}
	mustCLI(t, node, "contract", "send", "release", "--abi", "Escrow", "--to", "Escrow:1.0", "--key", key, "--arg", "0")
	if out := mustCLI(t, node, "tx", "balance", "--address", seller); strings.TrimSpace(out) != "500 CNY" {
		t.Fatalf("the escrow did not pay the seller through Ledger: %s", out)
	}
	if out := mustCLI(t, node, "tx", "balance", "--address", escrow); strings.TrimSpace(out) != "0 CNY" {
		t.Fatalf("escrow still holds %s", out)
	}
}
