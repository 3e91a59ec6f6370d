package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// netBin builds the binary once per test run.
func netBin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tally-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "tally")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("%v: %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func tally(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(netBin(t), args...)
	cmd.Env = append(os.Environ(), "TALLY_PASSWORD=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tally %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// freeBase finds a block of 100 free loopback ports, below the kernel's
// range of ephemeral ports: one in that range can be taken as the source
// port of any outgoing connection (the consortium's own p2p and gRPC
// clients make many) between this check and the process that binds it.
func freeBase(t *testing.T) int {
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				low = n
			}
		}
	}
	blocks := (low - 10_000) / 100
	if blocks < 20 {
		t.Fatalf("ephemeral ports start at %d: no room below them for a consortium", low)
	}
	for try := 0; try < 50; try++ {
		base := 10_000 + rand.IntN(blocks-1)*100
		ok := true
		for off := 0; off < 100 && ok; off += 10 {
			for _, p := range []int{base + off, base + off + 1} {
				l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
				if err != nil {
					ok = false
					break
				}
				l.Close()
			}
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port block")
	return 0
}

func postJSON(t *testing.T, url string, in, out any) {
	t.Helper()
	b, _ := json.Marshal(in)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// TestNetInitUpPayStatement: a consortium from 'tally net init' runs as real
// processes; a new user opens an account through the router, is funded on
// the chain the hub's directory chose, pays a merchant with 'tally pay',
// and the payment appears in 'tally hub statement', verified against the
// user chain by 'tally hub verify-statement'.
func TestNetInitUpPayStatement(t *testing.T) {
	if testing.Short() {
		t.Skip("runs five processes")
	}
	dir := filepath.Join(t.TempDir(), "net")
	tally(t, "net", "init", "--out", dir, "--user-chains", "2", "--merchants", "1", "--base-port", fmt.Sprint(freeBase(t)))
	t.Cleanup(func() { exec.Command(netBin(t), "net", "down", dir).Run() })
	tally(t, "net", "up", dir)
	var cons Consortium
	b, _ := os.ReadFile(filepath.Join(dir, "consortium.toml"))
	if err := toml.Unmarshal(b, &cons); err != nil {
		t.Fatal(err)
	}
	out := routerPay(t, dir, &cons)
	m := cons.Merchants[0].Address
	if !strings.Contains(out, "150 minor units") || !strings.Contains(out, " ok ") {
		t.Fatalf("pay: %s", out)
	}
	var stmt struct {
		Totals struct {
			Income   int64  `json:"income"`
			PayCount uint64 `json:"pay_count"`
		} `json:"totals"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for stmt.Totals.Income != 150 && time.Now().Before(deadline) {
		time.Sleep(300 * time.Millisecond)
		json.Unmarshal([]byte(tally(t, "hub", "statement", "--node", cons.Hub.GRPC, "--merchant", m, "--format", "json")), &stmt)
	}
	if stmt.Totals.Income != 150 || stmt.Totals.PayCount != 1 {
		t.Fatalf("statement totals %+v, want income 150 in 1 payment", stmt.Totals)
	}
	var users []string
	for _, u := range cons.Users {
		users = append(users, "--user-node", u.ID+"="+u.GRPC)
	}
	if v := tally(t, append([]string{"hub", "verify-statement", "--node", cons.Hub.GRPC, "--merchant", m}, users...)...); !strings.Contains(v, "match their user chains") {
		t.Fatalf("verify-statement: %s", v)
	}
	if st := tally(t, "net", "status", dir); !strings.Contains(st, "income 150") {
		t.Fatalf("net status: %s", st)
	}
	// The relay serves its metrics: it booked the epoch carrying the payment.
	resp, err := http.Get("http://" + cons.RelayHTTP + "/metrics")
	if err != nil {
		t.Fatalf("relay metrics: %v", err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if cons.RelayHTTP == "" || !regexp.MustCompile(`(?m)^tally_relay_booked_total [1-9]`).Match(metrics) {
		t.Fatalf("relay /metrics at %q:\n%s", cons.RelayHTTP, metrics)
	}
	// The router's metrics: it opened alice's account through the hub.
	resp, err = http.Get("http://" + cons.RouterAPI + "/metrics")
	if err != nil {
		t.Fatalf("router metrics: %v", err)
	}
	metrics, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, re := range []string{`(?m)^tally_router_assigned_users_total [1-9]`, `(?m)^tally_router_requests_total\{code="200",method="OpenAccounts",transport="http"\} 1$`} {
		if !regexp.MustCompile(re).Match(metrics) {
			t.Fatalf("router /metrics lacks %s:\n%s", re, metrics)
		}
	}
}

func cmdOutput(bin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "TALLY_PASSWORD=")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// routerPay opens an account for a new user through the router, funds it
// on its chain and pays 1.50 to the first merchant through the router.
func routerPay(t *testing.T, dir string, cons *Consortium) string {
	t.Helper()
	alice := filepath.Join(dir, "alice.key")
	tally(t, "keys", "new", "--out", alice)
	addr := strings.Fields(strings.Split(tally(t, "keys", "show", "--key", alice), "\n")[0])[1]
	var opened struct {
		Accounts []struct {
			ChainID string `json:"chain_id"`
		} `json:"accounts"`
	}
	postJSON(t, "http://"+cons.RouterAPI+"/v1/OpenAccounts", map[string]any{"users": []string{addr}}, &opened)
	if len(opened.Accounts) != 1 {
		t.Fatalf("open account: %+v", opened)
	}
	node := ""
	for _, u := range cons.Users {
		if u.ID == opened.Accounts[0].ChainID {
			node = u.GRPC
		}
	}
	tally(t, "--node", node, "tx", "issue", "--key", filepath.Join(dir, "keys", "admin.key"), "--to", addr, "--amount", "10000")
	m := cons.Merchants[0].Address
	out := tally(t, "pay", "--router", cons.Router, "--from", alice, "--merchant", m, "--amount", "1.50")
	return out
}

// TestNetUpReportsDeadRouter: when the router cannot bind its port (taken
// here by the test), 'tally net up' fails and names the router and its log,
// instead of reporting every process started.
func TestNetUpReportsDeadRouter(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the consortium's processes")
	}
	dir := filepath.Join(t.TempDir(), "net")
	tally(t, "net", "init", "--out", dir, "--user-chains", "1", "--base-port", fmt.Sprint(freeBase(t)))
	t.Cleanup(func() { exec.Command(netBin(t), "net", "down", dir).Run() })
	cons, err := loadConsortium(dir)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", cons.RouterAPI)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cmd := exec.Command(netBin(t), "net", "up", dir)
	cmd.Env = append(os.Environ(), "TALLY_PASSWORD=")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "router did not come up") || !strings.Contains(string(out), "router exited") {
		t.Fatalf("net up with the router's port taken: %v\n%s", err, out)
	}
	if log, _ := os.ReadFile(filepath.Join(dir, "logs", "router.log")); !strings.Contains(string(log), "router HTTP address") {
		t.Fatalf("the router's log does not say why it stopped:\n%s", log)
	}
	if !strings.Contains(string(out), "started relay") {
		t.Fatalf("the chains and the relay should have started:\n%s", out)
	}
}
