package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/pelletier/go-toml/v2"

	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/client"
	"github.com/tallyhq/tally/engine/crypto"
)

// pbftProc is one validator process of user-1 in a net-init consortium.
type pbftProc struct {
	name, grpc string
	addr       string // validator address
}

func loadChain(t *testing.T, dir string, cons *Consortium, id string) []pbftProc {
	gen, err := chain.LoadGenesis(filepath.Join(dir, id, "genesis.toml"))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]string{}
	for _, v := range gen.Validators {
		pub, _ := hexutil.Decode(v.PubKey)
		a, _ := crypto.Secp256k1().Address(pub)
		byName[v.Name] = a.Hex()
	}
	var out []pbftProc
	for _, c := range cons.Users {
		if c.ID == id {
			for _, nd := range c.Nodes {
				out = append(out, pbftProc{name: nd.Name, grpc: nd.GRPC, addr: byName[nd.Name]})
			}
		}
	}
	// Leaders rotate over validators sorted by address.
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].addr) < strings.ToLower(out[j].addr) })
	return out
}

func headOf(t *testing.T, addr string) (uint64, string, error) {
	c, err := client.Dial(addr, "user-1")
	if err != nil {
		return 0, "", err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.Status(ctx)
	if err != nil {
		return 0, "", err
	}
	return st.Chains[0].Height, st.Chains[0].HeadHash, nil
}

// transferVia sends one Ledger issue through node addr and reports whether it commits in time.
func transferVia(t *testing.T, dir, addr string, wait time.Duration) error {
	cmd := []string{"--node", addr, "tx", "issue", "--key", filepath.Join(dir, "keys", "admin.key"),
		"--to", "0x3333333333333333333333333333333333333333", "--amount", "1"}
	done := make(chan error, 1)
	go func() {
		out, err := runTally(cmd...)
		if err != nil {
			err = fmt.Errorf("%v: %s", err, out)
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(wait):
		return fmt.Errorf("no commit within %s", wait)
	}
}

func runTally(args ...string) (string, error) {
	return cmdOutput(netBinPath, args...)
}

var netBinPath string

// TestNetPBFTFailover runs a consortium whose chains have four PBFT
// validator processes over mutual-TLS p2p: killing the next leader of
// user-1 forces a view change and commits go on; the killed validator
// restarts and catches up by block sync; with two of four down commits
// stop without a fork, and resume when one returns.
func TestNetPBFTFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("runs fourteen processes")
	}
	netBinPath = netBin(t)
	dir := filepath.Join(t.TempDir(), "net")
	tally(t, "net", "init", "--out", dir, "--user-chains", "1", "--validators", "4", "--base-port", fmt.Sprint(freeBase(t)))
	t.Cleanup(func() { tally(t, "net", "down", dir) })
	tally(t, "net", "up", dir)
	var cons Consortium
	b, _ := os.ReadFile(filepath.Join(dir, "consortium.toml"))
	if err := toml.Unmarshal(b, &cons); err != nil {
		t.Fatal(err)
	}
	procs := loadChain(t, dir, &cons, "user-1")
	entry := func(skip ...string) string { // a live node to send through
		for _, p := range procs {
			if !contains(skip, p.name) {
				return p.grpc
			}
		}
		return ""
	}
	if err := transferVia(t, dir, entry(), 20*time.Second); err != nil {
		t.Fatalf("first commit: %v", err)
	}
	h, _, _ := headOf(t, entry())
	leader := procs[(h+1)%4] // leads height h+1, view 0
	stopProcess(dir, leader.name)
	if err := transferVia(t, dir, entry(leader.name), 60*time.Second); err != nil {
		t.Fatalf("after killing the leader %s: %v", leader.name, err)
	}
	restart(t, dir, leader.name)
	waitSynced(t, procs, 60*time.Second)
	// Two of four down: no quorum, no commit, no fork.
	a, b2 := procs[0], procs[1]
	stopProcess(dir, a.name)
	stopProcess(dir, b2.name)
	if err := transferVia(t, dir, entry(a.name, b2.name), 5*time.Second); err == nil {
		t.Fatal("committed with two of four validators down")
	}
	restart(t, dir, a.name)
	waitSynced(t, []pbftProc{procs[2], procs[3], a}, 90*time.Second)
	restart(t, dir, b2.name)
	waitSynced(t, procs, 90*time.Second)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func restart(t *testing.T, dir, name string) {
	t.Helper()
	var cons Consortium
	b, _ := os.ReadFile(filepath.Join(dir, "consortium.toml"))
	toml.Unmarshal(b, &cons)
	if _, err := startProcess(dir, netBinPath, name, cons.Processes[name]); err != nil {
		t.Fatal(err)
	}
}

// waitSynced waits until every listed node answers with the same head
// (and at least one new block has been committed with them all up).
func waitSynced(t *testing.T, procs []pbftProc, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		hashes := map[string]bool{}
		ok := true
		for _, p := range procs {
			_, h, err := headOf(t, p.grpc)
			if err != nil {
				ok = false
				break
			}
			hashes[h] = true
		}
		if ok && len(hashes) == 1 {
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
	for _, p := range procs {
		h, hash, err := headOf(t, p.grpc)
		t.Logf("%s: height %d %s %v", p.name, h, hash, err)
	}
	t.Fatalf("validators did not converge on one head within %s", timeout)
}
