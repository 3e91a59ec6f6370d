package main

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/pelletier/go-toml/v2"

	"github.com/tallyhq/tally/engine/api/pb"
	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/client"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/node"
	"github.com/tallyhq/tally/engine/types"
	"github.com/tallyhq/tally/hubchain"
	"github.com/tallyhq/tally/userchain"
)

// TestNetRaftFailover runs a consortium whose chains have three Raft
// validator processes. Under continuous load on user-1: SIGKILL the Raft
// leader, a new one is elected and commits go on; the old leader restarts
// and catches up; a follower loses its whole data directory and catches up
// through a Raft snapshot and block fetch. At the end every node has the
// same head, every block a majority certificate of the genesis validators,
// and every acknowledged transaction a receipt; the hub, whose light client
// of user-1 takes majority certificates, has booked user-1's epochs.
func TestNetRaftFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("runs eight processes")
	}
	netBinPath = netBin(t)
	dir := filepath.Join(t.TempDir(), "net")
	if keep := os.Getenv("TALLY_NET_KEEP"); keep != "" { // keep the logs for a post-mortem
		dir = keep
	}
	tally(t, "net", "init", "--out", dir, "--user-chains", "1", "--validators", "3", "--consensus", "raft", "--base-port", fmt.Sprint(freeBase(t)))
	var cons Consortium
	b, _ := os.ReadFile(filepath.Join(dir, "consortium.toml"))
	if err := toml.Unmarshal(b, &cons); err != nil {
		t.Fatal(err)
	}
	if cons.Consensus != chain.ConsensusRaft || cons.Users[0].Consensus != chain.ConsensusRaft || cons.Hub.Consensus != chain.ConsensusRaft {
		t.Fatalf("consortium consensus %q, hub %q, user-1 %q", cons.Consensus, cons.Hub.Consensus, cons.Users[0].Consensus)
	}
	procs := loadChain(t, dir, &cons, "user-1")
	for _, p := range procs { // snapshot often, keep a short log: a wiped node needs a snapshot
		tuneRaft(t, filepath.Join(dir, cons.Processes[p.name]))
	}
	t.Cleanup(func() { tally(t, "net", "down", dir) })
	t.Cleanup(func() {
		if t.Failed() {
			dumpRaftLogs(t, dir, procs)
		}
	})
	tally(t, "net", "up", dir)

	gen, err := chain.LoadGenesis(filepath.Join(dir, "user-1", "genesis.toml"))
	if err != nil {
		t.Fatal(err)
	}
	first := raftLeader(t, dir, procs, 20*time.Second)
	t.Logf("initial leader %s", first.name)
	admin, err := crypto.LoadKeyFile(filepath.Join(dir, "keys", "admin.key"), "")
	if err != nil {
		t.Fatal(err)
	}
	ld := startLoad(t, procs, admin, 2)
	ld.waitAcks(t, 20, 30*time.Second, "with every node up")

	// Kill the leader: a new one is elected, commits go on.
	before, _, _ := headOf(t, first.grpc)
	acksBefore := ld.count()
	killed := time.Now()
	killProcess(t, dir, first.name)
	next := raftLeader(t, dir, procs, 15*time.Second, first.name)
	elected := time.Since(killed)
	resumed := ld.ackAbove(t, before, 30*time.Second)
	t.Logf("killed leader %s at height %d: %s elected after %s, first acknowledged block above %d after %s (%d txs acknowledged before)",
		first.name, before, next.name, elected.Round(time.Millisecond), before, resumed.Sub(killed).Round(time.Millisecond), acksBefore)
	if limit := 5 * time.Duration(node.DefaultChainConfig().Raft.WithDefaults().ElectionMs) * time.Millisecond; elected > limit {
		t.Errorf("a new leader took %s, over %s", elected, limit)
	}

	// The old leader restarts and catches up.
	restart(t, dir, first.name)
	took := catchUp(t, procs, first, next, 60*time.Second)
	t.Logf("restarted %s caught up in %s", first.name, took.Round(time.Millisecond))

	// A follower loses its data directory and catches up from a snapshot.
	leader := raftLeader(t, dir, procs, 15*time.Second)
	var wiped pbftProc
	for _, p := range procs {
		if p.name != leader.name {
			wiped = p
		}
	}
	waitLog(t, dir, leader.name, "compacting logs", 0, 60*time.Second) // the log no longer starts at entry 1
	stopProcess(dir, wiped.name)
	if err := os.RemoveAll(filepath.Join(dir, "user-1", wiped.name, "data")); err != nil {
		t.Fatal(err)
	}
	ld.waitAcks(t, ld.count()+20, 30*time.Second, wiped.name+" stopped, two of three up") // the chain moves on without it
	logStart := logSize(dir, wiped.name)
	restart(t, dir, wiped.name)
	took = catchUp(t, procs, wiped, leader, 90*time.Second)
	t.Logf("wiped %s caught up in %s", wiped.name, took.Round(time.Millisecond))
	waitLog(t, dir, wiped.name, "Installed remote snapshot", logStart, 5*time.Second)

	ld.stop()
	acked := ld.snapshot()
	t.Logf("%d transactions acknowledged (%d send or receipt errors)", len(acked), ld.errs) // the workers have stopped
	waitSynced(t, procs, 60*time.Second)
	head := checkRaftChain(t, gen, procs)
	checkReceipts(t, procs, acked)
	t.Logf("user-1 head %d: every block certified by a majority on all %d nodes, %d receipts on each", head, len(procs), len(acked))
	// A payment through the router gives user-1 an epoch to settle.
	if out := routerPay(t, dir, &cons); !strings.Contains(out, " ok ") {
		t.Fatalf("pay: %s", out)
	}
	waitBooked(t, &cons, procs[0].grpc, 60*time.Second)
}

// tuneRaft makes a node snapshot after 64 blocks, checked twice a second,
// keeping 32 entries of log.
func tuneRaft(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg node.Config
	if err := toml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	r := &cfg.Chains[0].Raft
	if r.HeartbeatMs == 0 {
		t.Fatalf("%s has no [chains.raft] table written by net init", path)
	}
	r.SnapshotThreshold, r.TrailingLogs, r.SnapshotIntervalMs = 64, 32, 500
	if err := writeTOML(path, &cfg); err != nil {
		t.Fatal(err)
	}
}

func logPath(dir, name string) string { return filepath.Join(dir, "logs", name+".log") }

func logSize(dir, name string) int64 {
	st, err := os.Stat(logPath(dir, name))
	if err != nil {
		return 0
	}
	return st.Size()
}

// raftState is the state a node's log last says Raft entered.
func raftState(dir, name string) string {
	b, _ := os.ReadFile(logPath(dir, name))
	best, state := -1, ""
	for _, s := range []string{"leader", "follower", "candidate"} {
		if i := bytes.LastIndex(b, []byte("entering "+s+" state")); i > best {
			best, state = i, s
		}
	}
	return state
}

// raftLeader waits until exactly one running node, not one of skip, last
// logged entering the leader state.
func raftLeader(t *testing.T, dir string, procs []pbftProc, timeout time.Duration, skip ...string) pbftProc {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var leaders []pbftProc
		for _, p := range procs {
			if _, up := runningPID(dir, p.name); up && !contains(skip, p.name) && raftState(dir, p.name) == "leader" {
				leaders = append(leaders, p)
			}
		}
		if len(leaders) == 1 {
			return leaders[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no single Raft leader within %s: %d claim it", timeout, len(leaders))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitLog waits for text in a node's log past offset.
func waitLog(t *testing.T, dir, name, text string, offset int64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		b, _ := os.ReadFile(logPath(dir, name))
		if int64(len(b)) > offset && bytes.Contains(b[offset:], []byte(text)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not log %q within %s", name, text, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// killProcess SIGKILLs a net process and waits until it is gone.
func killProcess(t *testing.T, dir, name string) {
	t.Helper()
	pid, ok := runningPID(dir, name)
	if !ok {
		t.Fatalf("%s is not running", name)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	for syscall.Kill(pid, 0) == nil {
		time.Sleep(10 * time.Millisecond)
	}
	os.Remove(filepath.Join(dir, "run", name+".pid"))
}

// catchUp waits until p's head reaches ref's head as it was when called,
// with the same block there, and reports how long that took.
func catchUp(t *testing.T, procs []pbftProc, p, ref pbftProc, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	target, _, err := headOf(t, ref.grpc)
	if err != nil {
		t.Fatal(err)
	}
	want := blockHash(t, ref.grpc, target)
	for {
		h, _, err := headOf(t, p.grpc)
		if err == nil && h >= target {
			if got := blockHash(t, p.grpc, target); got != want {
				t.Fatalf("%s has %s at height %d, %s has %s", p.name, got, target, ref.name, want)
			}
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("%s at height %d (%v) did not reach %s's %d within %s", p.name, h, err, ref.name, target, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func blockHash(t *testing.T, addr string, h uint64) string {
	t.Helper()
	c, err := client.Dial(addr, "user-1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := c.RPC().GetBlock(ctx, &pb.GetBlockRequest{ChainId: "user-1", By: &pb.GetBlockRequest_Height{Height: h}})
	if err != nil {
		t.Fatalf("block %d from %s: %v", h, addr, err)
	}
	return b.Header.Hash
}

// load sends Ledger issues through the nodes in turn and records every
// transaction whose OK receipt came back, with its block height.
type load struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	acked  map[common.Hash]uint64
	at     []ackAt
	errs   int
}

type ackAt struct {
	height uint64
	at     time.Time
}

func startLoad(t *testing.T, procs []pbftProc, key crypto.PrivateKey, workers int) *load {
	ctx, cancel := context.WithCancel(context.Background())
	ld := &load{cancel: cancel, acked: map[common.Hash]uint64{}}
	var clients []*client.Client
	for _, p := range procs {
		c, err := client.Dial(p.grpc, "user-1")
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	t.Cleanup(func() {
		ld.stop()
		for _, c := range clients {
			c.Close()
		}
	})
	data, err := ledger.New().Pack("issue", "CNY", common.HexToAddress("0x4444444444444444444444444444444444444444"), big.NewInt(1))
	if err != nil {
		t.Fatal(err)
	}
	for w := 0; w < workers; w++ {
		ld.wg.Add(1)
		go func() {
			defer ld.wg.Done()
			for i := w; ctx.Err() == nil; i++ {
				ld.round(ctx, &client.Account{Key: key, Client: clients[i%len(clients)], ChainID: "user-1"}, data)
				time.Sleep(30 * time.Millisecond)
			}
		}()
	}
	return ld
}

// round sends four transactions through one node and waits for their receipts there.
func (ld *load) round(ctx context.Context, acct *client.Account, data []byte) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var raws [][]byte
	for k := 0; k < 4; k++ {
		tx, err := acct.NewTx(ctx, &ledger.Address, data, 0)
		if err != nil {
			ld.failed()
			return
		}
		raws = append(raws, tx.Encode())
	}
	res, err := acct.Client.SendRaw(ctx, raws)
	if err != nil {
		ld.failed()
		return
	}
	for _, r := range res {
		if r.Code != pb.ErrorCode_OK {
			ld.failed()
			continue
		}
		rc, err := acct.Client.WaitReceipt(ctx, common.HexToHash(r.Hash), 20*time.Second)
		if err != nil || rc.Status != uint64(types.StatusOK) {
			ld.failed()
			continue
		}
		ld.mu.Lock()
		ld.acked[common.HexToHash(r.Hash)] = rc.Height
		ld.at = append(ld.at, ackAt{rc.Height, time.Now()})
		ld.mu.Unlock()
	}
}

func (ld *load) failed() {
	ld.mu.Lock()
	ld.errs++
	ld.mu.Unlock()
}

func (ld *load) stop() {
	ld.cancel()
	ld.wg.Wait()
}

func (ld *load) count() int {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	return len(ld.acked)
}

func (ld *load) snapshot() map[common.Hash]uint64 {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	out := make(map[common.Hash]uint64, len(ld.acked))
	for h, v := range ld.acked {
		out[h] = v
	}
	return out
}

func (ld *load) waitAcks(t *testing.T, n int, timeout time.Duration, state string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for ld.count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("commits stalled (%s): %d of %d transactions acknowledged within %s", state, ld.count(), n, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ackAbove waits for a receipt in a block above height and says when it came.
func (ld *load) ackAbove(t *testing.T, height uint64, timeout time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ld.mu.Lock()
		for _, a := range ld.at {
			if a.height > height {
				ld.mu.Unlock()
				return a.at
			}
		}
		ld.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no transaction acknowledged in a block above %d within %s", height, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkRaftChain checks that every node holds the same blocks 1..head,
// each with a certificate of a majority of the genesis validators.
func checkRaftChain(t *testing.T, gen *chain.Genesis, procs []pbftProc) uint64 {
	t.Helper()
	s := gen.SuiteOf()
	vs, err := gen.ValidatorSet(s)
	if err != nil {
		t.Fatal(err)
	}
	head, _, err := headOf(t, procs[0].grpc)
	if err != nil {
		t.Fatal(err)
	}
	var hashes []common.Hash
	for i, p := range procs {
		c, err := client.Dial(p.grpc, "user-1")
		if err != nil {
			t.Fatal(err)
		}
		bad := 0
		for h := uint64(1); h <= head; h++ {
			b, cert, err := blockWithCert(c, h)
			if err != nil {
				t.Fatalf("%s block %d: %v", p.name, h, err)
			}
			if err := types.VerifyCertificate(s, vs, types.QuorumMajority, b.Header, cert); err != nil {
				if bad++; bad <= 5 {
					t.Errorf("%s block %d: certificate: %v", p.name, h, err)
				}
			}
			if i == 0 {
				hashes = append(hashes, b.Hash(s))
			} else if hashes[h-1] != b.Hash(s) {
				t.Fatalf("%s block %d is %s, %s has %s", p.name, h, b.Hash(s), procs[0].name, hashes[h-1])
			}
		}
		c.Close()
		if bad > 0 {
			t.Errorf("%s: %d of %d blocks without a valid majority certificate", p.name, bad, head)
		}
	}
	return head
}

// blockWithCert fetches a block, waiting a little for a certificate still
// being gathered.
func blockWithCert(c *client.Client, h uint64) (*types.Block, *types.Certificate, error) {
	for try := 0; ; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		b, cert, err := c.Block(ctx, h)
		cancel()
		if err != nil || cert != nil || try == 50 {
			return b, cert, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkReceipts checks that every node has every acknowledged transaction's
// receipt, OK, in the block the acknowledgement named.
func checkReceipts(t *testing.T, procs []pbftProc, acked map[common.Hash]uint64) {
	t.Helper()
	for _, p := range procs {
		c, err := client.Dial(p.grpc, "user-1")
		if err != nil {
			t.Fatal(err)
		}
		missing := 0
		for hash, height := range acked {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			r, err := c.RPC().GetReceipt(ctx, &pb.GetByHashRequest{ChainId: "user-1", Hash: hash.Hex()})
			cancel()
			if err != nil || r.Status != uint64(types.StatusOK) || r.Height != height {
				if missing++; missing <= 5 {
					t.Errorf("%s: acknowledged tx %s (block %d): %v %v", p.name, hash.Hex(), height, r, err)
				}
			}
		}
		c.Close()
		if missing > 0 {
			t.Errorf("%s lacks %d of %d acknowledged receipts", p.name, missing, len(acked))
		}
	}
}

// waitBooked waits until the hub has booked an epoch of user-1, which its
// light client accepts only with a majority certificate of user-1.
func waitBooked(t *testing.T, cons *Consortium, user string, timeout time.Duration) {
	t.Helper()
	hub, err := client.Dial(cons.Hub.GRPC, "hub")
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		cs, err := callView(ctx, hub, hubchain.Address, hubABI, "chainState", "user-1")
		cancel()
		if err == nil && cs[0].(uint64) > 0 {
			t.Logf("the hub booked %d epochs of user-1", cs[0].(uint64))
			return
		}
		if time.Now().After(deadline) {
			uc, _ := client.Dial(user, "user-1")
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			ep, eerr := callView(ctx, uc, userchain.Address, shadowABI, "epoch")
			cancel()
			uc.Close()
			t.Fatalf("the hub booked no epoch of user-1 within %s (hub chainState %v %v; user-1 epoch %v %v)", timeout, cs, err, ep, eerr)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// dumpRaftLogs logs the tail of each user-1 node's log.
func dumpRaftLogs(t *testing.T, dir string, procs []pbftProc) {
	for _, p := range procs {
		b, _ := os.ReadFile(logPath(dir, p.name))
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		t.Logf("---- %s (%d lines), last 60:\n%s", p.name, len(lines), strings.Join(lines[max(0, len(lines)-60):], "\n"))
	}
}
