package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/client"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/proof"
	"github.com/tallyhq/tally/engine/types"
)

// The CLI acceptance test runs the README's quickstart with the real
// binary: a dev chain, a new key, issue, transfer, balance, block, and a
// receipt proof verified against the genesis validators.

// cliBin is the binary under test, built once by TestCLIQuickstart.
var cliBin string

func buildCLI(t *testing.T) {
	t.Helper()
	cliBin = filepath.Join(t.TempDir(), "tally")
	if out, err := exec.Command("go", "build", "-o", cliBin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
}

func tallyBin(t *testing.T) string {
	t.Helper()
	if cliBin == "" {
		t.Fatal("buildCLI has not run")
	}
	return cliBin
}

const cliPassword = "cli-test-pass"

// cli runs the binary and returns its combined output.
func cli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tallyBin(t), args...)
	cmd.Env = append(os.Environ(), "TALLY_PASSWORD="+cliPassword)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, err := cli(t, args...)
	if err != nil {
		t.Fatalf("tally %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

var addrRe = regexp.MustCompile(`address (0x[0-9a-fA-F]{40})`)

func addressIn(t *testing.T, out string) common.Address {
	t.Helper()
	m := addrRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no address in %q", out)
	}
	return common.HexToAddress(m[1])
}

// newDevChain creates a dev chain in dir without starting it: the bogus log
// level makes the node refuse to run after the chain is written, before it
// binds the dev config's fixed ports. It then moves the API to free ports.
func newDevChain(t *testing.T, dir, suite string) (grpcAddr string) {
	t.Helper()
	out, err := cli(t, "node", "--dev-dir", dir, "--suite", suite, "--log-level", "bogus")
	if err == nil || !strings.Contains(out, "created development chain") || !strings.Contains(out, "log_level") {
		t.Fatalf("creating the dev chain: %v\n%s", err, out)
	}
	cfgPath := filepath.Join(dir, "node.toml")
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	grpcAddr = freeAddr(t)
	cfg := strings.Replace(string(b), "'127.0.0.1:7700'", "'"+grpcAddr+"'", 1)
	cfg = strings.Replace(cfg, "'127.0.0.1:7701'", "'"+freeAddr(t)+"'", 1)
	if cfg == string(b) || strings.Contains(cfg, ":770") {
		t.Fatalf("dev node.toml does not name the ports this test expects:\n%s", b)
	}
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return grpcAddr
}

// startNode runs `tally node --dev-dir dir` until the test ends.
func startNode(t *testing.T, dir, addr string) {
	t.Helper()
	var log bytes.Buffer
	cmd := exec.Command(tallyBin(t), "node", "--dev-dir", dir, "--log-level", "warn")
	cmd.Env = append(os.Environ(), "TALLY_PASSWORD="+cliPassword)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("node log:\n%s", log.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return
		}
		select {
		case err := <-done:
			t.Fatalf("node exited: %v\n%s", err, log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("node does not listen on %s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var txLineRe = regexp.MustCompile(`tx (0x[0-9a-f]{64}): ok \(block (\d+), gas \d+\)`)

func TestCLIQuickstart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the tally binary")
	}
	buildCLI(t)
	for _, suite := range []string{crypto.SuiteSecp256k1, crypto.SuiteSM} {
		t.Run(suite, func(t *testing.T) { quickstart(t, suite) })
	}
}

func quickstart(t *testing.T, suite string) {
	root := t.TempDir()
	dev := filepath.Join(root, "dev")
	addr := newDevChain(t, dev, suite)
	startNode(t, dev, addr)
	node := "--node=" + addr
	adminKey, aliceKey := filepath.Join(dev, "admin.key"), filepath.Join(root, "alice.key")

	admin := addressIn(t, mustCLI(t, "keys", "show", "--key", adminKey))
	out := mustCLI(t, "keys", "new", "--suite", suite, "--out", aliceKey)
	alice := addressIn(t, out)
	if !strings.Contains(out, "suite   "+suite) {
		t.Fatalf("keys new: %s", out)
	}
	if again, err := cli(t, "keys", "new", "--suite", suite, "--out", aliceKey); err == nil || !strings.Contains(again, "refusing to overwrite") {
		t.Fatalf("keys new over an existing key: %v %s", err, again)
	}
	if got := addressIn(t, mustCLI(t, "keys", "show", "--key", aliceKey)); got != alice {
		t.Fatalf("keys show says %s, keys new said %s", got, alice)
	}

	out = mustCLI(t, node, "tx", "issue", "--key", adminKey, "--to", alice.Hex(), "--amount", "10000")
	if !txLineRe.MatchString(out) {
		t.Fatalf("issue: %s", out)
	}
	out = mustCLI(t, node, "tx", "transfer", "--key", aliceKey, "--to", admin.Hex(), "--amount", "150")
	m := txLineRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("transfer: %s", out)
	}
	transferHash := common.HexToHash(m[1])

	// issue mints: the admin keeps its 10^12 and gains the 150.
	for who, want := range map[common.Address]string{alice: "9850 CNY", admin: "1000000000150 CNY"} {
		if out := mustCLI(t, node, "tx", "balance", "--address", who.Hex()); strings.TrimSpace(out) != want {
			t.Errorf("balance of %s: %q, want %q", who.Hex(), out, want)
		}
	}
	// A transfer of more than alice holds fails with its reason, and moves nothing.
	out, err := cli(t, node, "tx", "transfer", "--key", aliceKey, "--to", admin.Hex(), "--amount", "9851")
	if err == nil || !strings.Contains(out, "insufficient balance") {
		t.Fatalf("overdraft: %v %s", err, out)
	}
	if out := mustCLI(t, node, "tx", "balance", "--address", alice.Hex()); strings.TrimSpace(out) != "9850 CNY" {
		t.Fatalf("after a failed transfer alice holds %q", out)
	}
	if out, err := cli(t, node, "tx", "issue", "--key", aliceKey, "--to", alice.Hex(), "--amount", "1"); err == nil || !strings.Contains(out, "permission denied") {
		t.Fatalf("issue without ISSUER: %v %s", err, out)
	}

	out = mustCLI(t, node, "block", "latest")
	if !regexp.MustCompile(`(?s)^block \d+ 0x[0-9a-f]{64}.*certified true`).MatchString(out) {
		t.Fatalf("block latest: %s", out)
	}
	if out := mustCLI(t, node, "status"); !strings.Contains(out, "dev  solo/"+suite) {
		t.Fatalf("status: %s", out)
	}

	genesis := filepath.Join(dev, "genesis.toml")
	out = mustCLI(t, node, "receipt", transferHash.Hex(), "--proof", "--genesis", genesis)
	if strings.Count(out, "VERIFIED") != 2 || !strings.Contains(out, "certificate: quorum of genesis validators: VERIFIED") {
		t.Fatalf("receipt --proof: %s", out)
	}
	// Another dev chain's genesis names other validators: not trusted.
	other := filepath.Join(root, "other")
	newDevChain(t, other, suite)
	out, err = cli(t, node, "receipt", transferHash.Hex(), "--proof", "--genesis", filepath.Join(other, "genesis.toml"))
	if err == nil || !strings.Contains(out, "certificate does NOT verify") {
		t.Fatalf("proof against a foreign genesis: %v %s", err, out)
	}

	t.Run("tampered proof", func(t *testing.T) { tamperedProofs(t, addr, genesis, transferHash) })
}

// tamperedProofs fetches the proof with the Go client, checks that it
// verifies, then that no single flipped byte anywhere in it verifies.
func tamperedProofs(t *testing.T, addr, genesisPath string, hash common.Hash) {
	gen, err := chain.LoadGenesis(genesisPath)
	if err != nil {
		t.Fatal(err)
	}
	s := gen.SuiteOf()
	vs, err := gen.ValidatorSet(s)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(addr, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, err := c.ReceiptProof(context.Background(), hash)
	if err != nil {
		t.Fatal(err)
	}
	if _, r, err := proof.VerifyReceipt(s, vs, types.QuorumBFT, p); err != nil || r.TxHash != hash {
		t.Fatalf("untouched proof: %v", err)
	}
	// Each part on its own.
	for name, part := range map[string][]byte{"receipt": p.Receipt, "header": p.Header, "certificate": p.Certificate} {
		for _, i := range []int{0, len(part) / 2, len(part) - 1} {
			part[i] ^= 0x01
			if _, _, err := proof.VerifyReceipt(s, vs, types.QuorumBFT, p); err == nil {
				t.Errorf("proof verifies with byte %d of the %s flipped", i, name)
			}
			part[i] ^= 0x01
		}
	}
	p.Branch.Index++
	if _, _, err := proof.VerifyReceipt(s, vs, types.QuorumBFT, p); err == nil {
		t.Error("proof verifies at another index")
	}
	p.Branch.Index--
	// Every byte of the encoded bundle.
	enc := p.Encode()
	accepted := 0
	for i := range enc {
		for _, mask := range []byte{0x01, 0x80} {
			bad := bytes.Clone(enc)
			bad[i] ^= mask
			q, err := proof.DecodeReceipt(bad)
			if err != nil {
				continue
			}
			if _, _, err := proof.VerifyReceipt(s, vs, types.QuorumBFT, q); err == nil {
				accepted++
				t.Errorf("proof with byte %d of %d ^%#x verifies", i, len(enc), mask)
			}
		}
	}
	t.Logf("%d-byte proof: %d of %d single-bit tamperings verify", len(enc), accepted, 2*len(enc))
}
