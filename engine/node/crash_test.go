package node_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"net"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/holiman/uint256"
	"github.com/pelletier/go-toml/v2"

	"github.com/tallyhq/tally/engine/api/pb"
	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/client"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/merkle"
	"github.com/tallyhq/tally/engine/node"
	"github.com/tallyhq/tally/engine/storage"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/txpool"
	"github.com/tallyhq/tally/engine/types"
)

// The crash test runs the real tally binary on a one-validator chain,
// drives it with Ledger traffic and SIGKILLs it at seeded random moments.
// Set TALLY_CRASH_SEED to replay a run's kill schedule and traffic choices
// (the kill moments are wall-clock offsets, so a replay is close, not exact).
const (
	crashSeedEnv   = "TALLY_CRASH_SEED"
	crashKills     = 20
	crashUsers     = 50
	crashWorkers   = 4
	crashBatch     = 20
	crashAsset     = "CNY"
	crashChainID   = "crash"
	crashPassword  = "crash-test"
	crashUserFunds = 1_000_000_000
)

// tallyBinary compiles cmd/tally into the test's temporary directory.
func tallyBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tally")
	out, err := osexec.Command("go", "build", "-o", bin, "github.com/tallyhq/tally/cmd/tally").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./cmd/tally: %v\n%s", err, out)
	}
	return bin
}

// freePort asks the kernel for a loopback port that is free right now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// seededKey derives a key from rng, so a seed names the whole chain.
func seededKey(t *testing.T, s crypto.Suite, rng *rand.Rand) crypto.PrivateKey {
	t.Helper()
	for {
		var b [32]byte
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if k, err := s.PrivateKeyFromBytes(b[:]); err == nil {
			return k
		}
	}
}

// crashNet is the chain under test and what the client has been told.
type crashNet struct {
	t       *testing.T
	bin     string
	dir     string
	cfgPath string
	dbPath  string
	addr    string
	suite   crypto.Suite
	gen     *chain.Genesis
	vs      *types.ValidatorSet
	genHash common.Hash
	admin   crypto.PrivateKey
	users   []crypto.PrivateKey
	ledger  *exec.Contract

	proc   *osexec.Cmd
	exited chan error
	logf   *os.File

	// acked holds every transaction whose receipt a client received: the
	// node promised these are final.
	acked map[common.Hash]*ackedTx
	// sent counts transactions admitted to the pool, acknowledged or not.
	sent int
	// verified[h] is the hash of block h, fully checked by an earlier round.
	verified []common.Hash
}

type ackedTx struct {
	raw     []byte // canonical transaction
	limit   uint64 // its block limit
	height  uint64
	index   uint32
	receipt []byte // canonical receipt as the client received it
	checked bool   // its receipt has been compared with the disk once
}

func newCrashNet(t *testing.T, seed uint64) *crashNet {
	rng := rand.New(rand.NewPCG(seed, 0xc0ffee))
	n := &crashNet{t: t, bin: tallyBinary(t), dir: t.TempDir(), suite: crypto.Secp256k1(),
		acked: make(map[common.Hash]*ackedTx), ledger: ledger.New()}
	val := seededKey(t, n.suite, rng)
	n.admin = seededKey(t, n.suite, rng)
	for range crashUsers {
		n.users = append(n.users, seededKey(t, n.suite, rng))
	}
	n.gen = &chain.Genesis{
		ChainID: crashChainID, Suite: n.suite.Name(), Consensus: chain.ConsensusSolo, TimestampMs: 1_700_000_000_000,
		Validators: []chain.GenesisValidator{{PubKey: hexutil.Encode(val.PublicKey()), Name: "v0"}},
		Roles: map[string][]string{
			system.RoleAdmin:  {n.admin.Address().Hex()},
			system.RoleIssuer: {n.admin.Address().Hex()},
		},
	}
	for _, u := range n.users {
		n.gen.Balances = append(n.gen.Balances, chain.GenesisBalance{Asset: crashAsset, Address: u.Address().Hex(), Amount: strconv.Itoa(crashUserFunds)})
	}
	if err := n.gen.Validate(); err != nil {
		t.Fatal(err)
	}
	var err error
	if n.vs, err = n.gen.ValidatorSet(n.suite); err != nil {
		t.Fatal(err)
	}
	genBytes, err := n.gen.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(n.dir, "genesis.toml"), genBytes)
	if err := crypto.SaveKeyFileWithCost(filepath.Join(n.dir, "validator.key"), val, crashPassword, crypto.LightKDF); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(n.dir, "password"), []byte(crashPassword+"\n"))

	n.addr = freePort(t)
	cfg := node.DefaultConfig()
	cfg.Name, cfg.DataDir, cfg.LogLevel = "crash", "data", "warn"
	cfg.API.GRPCAddr, cfg.API.HTTPAddr = n.addr, ""
	cc := node.DefaultChainConfig()
	cc.Genesis, cc.KeyFile, cc.PasswordFile = "genesis.toml", "validator.key", "password"
	cc.Solo.IntervalTicks, cc.Solo.BatchTxs = 2, 200
	cc.Pool = txpool.DefaultConfig()
	cfg.Chains = []node.ChainConfig{cc}
	b, err := toml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n.cfgPath = filepath.Join(n.dir, "node.toml")
	mustWrite(t, n.cfgPath, b)
	if _, err := node.LoadConfig(n.cfgPath); err != nil {
		t.Fatalf("the test's node.toml does not load: %v", err)
	}
	n.dbPath = filepath.Join(n.dir, "data", "chains", crashChainID)

	// The genesis block's hash, computed independently of the node.
	mem := n.openMemChain()
	n.genHash = mem.GenesisHeader().Hash(n.suite)

	if n.logf, err = os.Create(filepath.Join(n.dir, "node.log")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		n.kill()
		n.logf.Close()
		if t.Failed() {
			if b, err := os.ReadFile(n.logf.Name()); err == nil {
				t.Logf("node log (last 4 KiB):\n%s", tail(b, 4096))
			}
		}
	})
	return n
}

func mustWrite(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func (n *crashNet) openMemChain() *chain.Chain {
	c, err := chain.Open(storage.NewMemory(), n.gen, node.BaseExecutor(n.gen), slog.New(slog.DiscardHandler))
	if err != nil {
		n.t.Fatal(err)
	}
	return c
}

// start runs the node and waits until it answers; it fails the test if the
// node exits or does not answer within 30 s.
func (n *crashNet) start(round int) *client.Client {
	t := n.t
	fmt.Fprintf(n.logf, "=== start %d\n", round)
	cmd := osexec.Command(n.bin, "node", "--config", n.cfgPath)
	cmd.Stdout, cmd.Stderr = n.logf, n.logf
	cmd.Env = append(os.Environ(), "TALLY_PASSWORD=wrong-on-purpose") // the password file must win
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n.proc, n.exited = cmd, make(chan error, 1)
	go func() { n.exited <- cmd.Wait() }()

	// Wait for the listener first: a gRPC client that meets a refused
	// connection backs off for a second before it tries again.
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", n.addr, time.Second)
		if err == nil {
			conn.Close()
			break
		}
		select {
		case werr := <-n.exited:
			n.proc = nil
			t.Fatalf("round %d: node exited during start: %v", round, werr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("round %d: node does not listen after 30 s: %v", round, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	c, err := client.Dial(n.addr, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Status(ctx); err != nil {
		t.Fatalf("round %d: node does not answer: %v", round, err)
	}
	return c
}

// kill SIGKILLs the node and waits for it to be gone.
func (n *crashNet) kill() {
	if n.proc == nil {
		return
	}
	n.proc.Process.Signal(syscall.SIGKILL)
	<-n.exited
	n.proc = nil
}

// stop asks the node to shut down cleanly and checks that it did.
func (n *crashNet) stop() {
	if err := n.proc.Process.Signal(syscall.SIGTERM); err != nil {
		n.t.Fatal(err)
	}
	select {
	case err := <-n.exited:
		n.proc = nil
		if err != nil {
			n.t.Fatalf("node did not stop cleanly on SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		n.kill()
		n.t.Fatal("node did not stop within 30 s of SIGTERM")
	}
}

// worker sends batches of signed Ledger calls and waits for their receipts
// until ctx ends or the node goes away.
type worker struct {
	n     *crashNet
	c     *client.Client
	rng   *rand.Rand
	acked map[common.Hash]*ackedTx
	sent  int
	err   error // an unexpected answer from a live node
}

func (w *worker) run(ctx context.Context) {
	for ctx.Err() == nil {
		head, err := w.c.Head(ctx)
		if err != nil {
			return // the node is gone
		}
		txs := w.batch(head)
		raws := make([][]byte, len(txs))
		for i, tx := range txs {
			raws[i] = tx.Encode()
		}
		res, err := w.c.SendRaw(ctx, raws)
		if err != nil {
			return
		}
		for i, r := range res {
			switch r.Code {
			case pb.ErrorCode_OK:
			case pb.ErrorCode_POOL_FULL:
				continue
			default:
				w.err = fmt.Errorf("tx %d of a fresh batch refused: %s %s", i, r.Code, r.Message)
				return
			}
			w.sent++
			hash := txs[i].Hash(w.n.suite)
			if common.HexToHash(r.Hash) != hash {
				w.err = fmt.Errorf("node names tx %s, client computed %s", r.Hash, hash.Hex())
				return
			}
			rc, err := w.c.RPC().GetReceipt(ctx, &pb.GetByHashRequest{Hash: r.Hash, WaitMs: 10_000})
			if err != nil {
				return
			}
			w.acked[hash] = &ackedTx{raw: raws[i], limit: txs[i].BlockLimit, height: rc.Height, index: rc.Index, receipt: rc.Raw}
		}
	}
}

// batch makes mostly transfers between users (2% of them overdrawn), and
// now and then an issue or a redeem by the admin.
func (w *worker) batch(head uint64) []*types.Tx {
	n := w.n
	users := n.users
	var txs []*types.Tx
	for range crashBatch {
		from := users[w.rng.IntN(len(users))]
		to := users[w.rng.IntN(len(users))].Address()
		amount := big.NewInt(1 + w.rng.Int64N(1000))
		method := "transfer"
		switch p := w.rng.IntN(100); {
		case p < 2:
			amount = big.NewInt(1e15) // more than anyone holds: insufficient balance
		case p < 5:
			from, method = n.admin, "issue"
		case p < 8:
			from, method = n.admin, "redeem" // "to" is the account redeemed from
			amount = big.NewInt(1 + w.rng.Int64N(50_000))
		}
		txs = append(txs, n.signedLedgerTx(from, head+client.BlockLimitAhead, method, crashAsset, to, amount))
	}
	return txs
}

func (n *crashNet) signedLedgerTx(key crypto.PrivateKey, limit uint64, method string, args ...any) *types.Tx {
	data, err := n.ledger.Pack(method, args...)
	if err != nil {
		panic(err)
	}
	to := ledger.Address
	tx := types.NewTx(crashChainID, limit, &to, client.DefaultGas, data)
	if err := tx.Sign(key); err != nil {
		panic(err)
	}
	return tx
}

// load runs the workers until the node is killed at a seeded moment.
func (n *crashNet) loadAndKill(round int, c *client.Client, rng *rand.Rand, runFor time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	workers := make([]*worker, crashWorkers)
	var wg sync.WaitGroup
	for i := range workers {
		workers[i] = &worker{n: n, c: c, rng: rand.New(rand.NewPCG(rng.Uint64(), uint64(i))), acked: make(map[common.Hash]*ackedTx)}
		wg.Add(1)
		go func() { defer wg.Done(); workers[i].run(ctx) }()
	}
	time.Sleep(runFor)
	n.kill()
	cancel()
	wg.Wait()
	for i, w := range workers {
		if w.err != nil {
			n.t.Errorf("round %d worker %d: %v", round, i, w.err)
		}
		for h, a := range w.acked {
			n.acked[h] = a
		}
		n.sent += w.sent
	}
}

// diskHead is what checkDisk found.
type diskHead struct {
	height uint64
	hash   common.Hash
}

// checkDisk opens the database the killed node left behind and checks the
// head and every block below it, and that every acknowledged transaction
// is there with the receipt the client was given. Blocks and receipts that
// an earlier round checked in full are only checked to be unchanged.
func (n *crashNet) checkDisk(round int) diskHead {
	db := n.openDB()
	defer db.Close()
	return n.checkDB(round, db, false)
}

func (n *crashNet) openDB() storage.DB {
	opts := storage.DefaultBadgerOptions()
	opts.Logger = slog.New(slog.DiscardHandler)
	db, err := storage.OpenBadger(n.dbPath, opts)
	if err != nil {
		n.t.Fatalf("open the crashed node's database: %v", err)
	}
	return db
}

func mustGet(t *testing.T, db storage.Reader, key []byte, what string) []byte {
	t.Helper()
	v, err := db.Get(key)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func (n *crashNet) checkDB(round int, db storage.DB, full bool) diskHead {
	t := n.t
	t.Helper()
	s := n.suite
	height, headHash, err := storage.DecodeHead(mustGet(t, db, storage.KeyHead, "head record"))
	if err != nil {
		t.Fatalf("round %d: %v", round, err)
	}
	if k := len(n.verified); k > 0 && height < uint64(k-1) {
		t.Fatalf("round %d: the head went back from %d to %d", round, k-1, height)
	}
	if g := mustGet(t, db, storage.KeyGenesis, "genesis record"); common.BytesToHash(g) != n.genHash {
		t.Fatalf("round %d: genesis record %x, want %x", round, g, n.genHash)
	}
	var prev common.Hash
	for h := uint64(0); h <= height; h++ {
		hdr, err := types.DecodeHeader(mustGet(t, db, storage.HeaderKey(h), fmt.Sprintf("round %d: header %d of head %d", round, h, height)))
		if err != nil {
			t.Fatalf("round %d: header %d: %v", round, h, err)
		}
		hash := hdr.Hash(s)
		if !full && h < uint64(len(n.verified)) {
			if hash != n.verified[h] {
				t.Fatalf("round %d: committed block %d changed from %x to %x", round, h, n.verified[h], hash)
			}
			prev = hash
			continue
		}
		switch {
		case hdr.Height != h:
			t.Fatalf("round %d: header stored at %d says height %d", round, h, hdr.Height)
		case h == 0 && hash != n.genHash:
			t.Fatalf("round %d: genesis header hashes to %x, want %x", round, hash, n.genHash)
		case h > 0 && hdr.ParentHash != prev:
			t.Fatalf("round %d: block %d's parent %x is not block %d (%x)", round, h, hdr.ParentHash, h-1, prev)
		}
		if v := mustGet(t, db, storage.HashKey(hash), fmt.Sprintf("hash index of block %d", h)); !bytes.Equal(v, storage.EncodeHeight(h)) {
			t.Fatalf("round %d: hash index of block %d says %x", round, h, v)
		}
		txs, err := types.DecodeTxs(mustGet(t, db, storage.BodyKey(h), fmt.Sprintf("round %d: body %d", round, h)))
		if err != nil {
			t.Fatalf("round %d: body %d: %v", round, h, err)
		}
		rs, err := types.DecodeReceipts(mustGet(t, db, storage.ReceiptsKey(h), fmt.Sprintf("round %d: receipts %d", round, h)))
		if err != nil {
			t.Fatalf("round %d: receipts %d: %v", round, h, err)
		}
		if uint64(len(txs)) != hdr.TxCount || len(rs) != len(txs) {
			t.Fatalf("round %d: block %d has %d txs and %d receipts, header says %d", round, h, len(txs), len(rs), hdr.TxCount)
		}
		txLeaves, rLeaves := make([][]byte, len(txs)), make([][]byte, len(rs))
		for i := range txs {
			txLeaves[i], rLeaves[i] = txs[i].Encode(), rs[i].Encode()
			th := txs[i].Hash(s)
			if rs[i].TxHash != th {
				t.Fatalf("round %d: block %d receipt %d is for %x, tx is %x", round, h, i, rs[i].TxHash, th)
			}
			if v := mustGet(t, db, storage.TxKey(th), fmt.Sprintf("tx index of %x", th)); !bytes.Equal(v, storage.EncodeTxLoc(h, uint32(i))) {
				t.Fatalf("round %d: tx index of %x says %x, want block %d index %d", round, th, v, h, i)
			}
			if txs[i].BlockLimit > height {
				if ok, _ := db.Has(storage.NonceKey(txs[i].BlockLimit, txs[i].Nonce)); !ok {
					t.Fatalf("round %d: committed nonce of %x in its window has no record", round, th)
				}
			}
		}
		if h > 0 { // genesis roots are fixed by the genesis document
			if root := merkle.Root(s.Hash, txLeaves); root != hdr.TxRoot {
				t.Fatalf("round %d: block %d tx root %x, body gives %x", round, h, hdr.TxRoot, root)
			}
			if root := merkle.Root(s.Hash, rLeaves); root != hdr.ReceiptRoot {
				t.Fatalf("round %d: block %d receipt root %x, receipts give %x", round, h, hdr.ReceiptRoot, root)
			}
			cert, err := types.DecodeCertificate(mustGet(t, db, storage.CertKey(h), fmt.Sprintf("round %d: certificate %d", round, h)))
			if err != nil {
				t.Fatalf("round %d: certificate %d: %v", round, h, err)
			}
			if err := types.VerifyCertificate(s, n.vs, types.QuorumBFT, hdr, cert); err != nil {
				t.Fatalf("round %d: certificate of block %d: %v", round, h, err)
			}
		}
		prev = hash
		if h == uint64(len(n.verified)) {
			n.verified = append(n.verified, hash)
		} else if n.verified[h] != hash {
			t.Fatalf("round %d: committed block %d changed from %x to %x", round, h, n.verified[h], hash)
		}
	}
	if prev != headHash {
		t.Fatalf("round %d: head record names %x, header %d hashes to %x", round, headHash, height, prev)
	}
	for _, k := range [][]byte{storage.HeaderKey(height + 1), storage.BodyKey(height + 1), storage.ReceiptsKey(height + 1), storage.CertKey(height + 1)} {
		if ok, _ := db.Has(k); ok {
			t.Fatalf("round %d: a record of block %d above the head %d exists (%q)", round, height+1, height, k[:1])
		}
	}
	for hash, a := range n.acked {
		v, err := db.Get(storage.TxKey(hash))
		if err != nil {
			t.Fatalf("round %d: acknowledged tx %x is gone: %v", round, hash, err)
		}
		if !bytes.Equal(v, storage.EncodeTxLoc(a.height, a.index)) {
			t.Fatalf("round %d: acknowledged tx %x moved from block %d index %d", round, hash, a.height, a.index)
		}
		if a.height > height {
			t.Fatalf("round %d: acknowledged tx %x in block %d above the head %d", round, hash, a.height, height)
		}
	}
	// Receipts: group by height so each receipt list decodes once.
	byHeight := make(map[uint64][]*ackedTx)
	for _, a := range n.acked {
		if full || !a.checked {
			byHeight[a.height] = append(byHeight[a.height], a)
		}
	}
	for h, as := range byHeight {
		rs, _ := types.DecodeReceipts(mustGet(t, db, storage.ReceiptsKey(h), "receipts"))
		for _, a := range as {
			if int(a.index) >= len(rs) || !bytes.Equal(rs[a.index].Encode(), a.receipt) {
				t.Fatalf("round %d: acknowledged receipt at block %d index %d changed", round, h, a.index)
			}
			a.checked = true
		}
	}
	return diskHead{height, headHash}
}

// checkLive checks the restarted node against the disk: same head, the
// acknowledged receipts served unchanged, and replays of them refused.
func (n *crashNet) checkLive(round int, c *client.Client, disk diskHead, rng *rand.Rand) {
	t := n.t
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatalf("round %d: status: %v", round, err)
	}
	cs := st.Chains[0]
	if cs.Height != disk.height || common.HexToHash(cs.HeadHash) != disk.hash || cs.Halted {
		t.Fatalf("round %d: restarted node reports head %d %s (halted %v), disk has %d %s",
			round, cs.Height, cs.HeadHash, cs.Halted, disk.height, disk.hash.Hex())
	}
	if common.HexToHash(cs.GenesisHash) != n.genHash {
		t.Fatalf("round %d: genesis hash %s, want %s", round, cs.GenesisHash, n.genHash.Hex())
	}
	// A sample of acknowledged transactions: the receipt as first served,
	// and a replay of the transaction refused as a used nonce.
	hashes := make([]common.Hash, 0, len(n.acked))
	for h := range n.acked {
		hashes = append(hashes, h)
	}
	sortHashes(hashes)
	rng.Shuffle(len(hashes), func(i, j int) { hashes[i], hashes[j] = hashes[j], hashes[i] })
	var replays [][]byte
	for _, h := range hashes[:min(len(hashes), 40)] {
		a := n.acked[h]
		r, err := c.RPC().GetReceipt(ctx, &pb.GetByHashRequest{Hash: h.Hex()})
		if err != nil {
			t.Fatalf("round %d: receipt of acknowledged %s: %v", round, h.Hex(), err)
		}
		if !bytes.Equal(r.Raw, a.receipt) || r.Height != a.height || r.Index != a.index {
			t.Fatalf("round %d: receipt of %s changed across the restart", round, h.Hex())
		}
		if a.limit > disk.height {
			replays = append(replays, a.raw)
		}
	}
	if len(replays) > 0 {
		res, err := c.SendRaw(ctx, replays)
		if err != nil {
			t.Fatalf("round %d: replay: %v", round, err)
		}
		for _, r := range res {
			if r.Code != pb.ErrorCode_NONCE_USED {
				t.Fatalf("round %d: replay of committed tx %s after restart: %s %s, want NONCE_USED", round, r.Hash, r.Code, r.Message)
			}
		}
	}
}

func sortHashes(hs []common.Hash) {
	slices.SortFunc(hs, func(a, b common.Hash) int { return bytes.Compare(a[:], b[:]) })
}

func TestCrashRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the tally binary 20 times")
	}
	seed := uint64(20261121)
	if s := os.Getenv(crashSeedEnv); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", crashSeedEnv, s, err)
		}
		seed = v
	}
	t.Logf("seed %d (replay with %s=%d)", seed, crashSeedEnv, seed)
	// The kill schedule and the workers' seeds are drawn up front, so they
	// depend on the seed alone; sample draws from its own stream.
	rng := rand.New(rand.NewPCG(seed, 1))
	killAfter := make([]time.Duration, crashKills)
	for i := range killAfter {
		killAfter[i] = time.Duration(50+rng.IntN(1200)) * time.Millisecond
	}
	sample := rand.New(rand.NewPCG(seed, 2))
	n := newCrashNet(t, seed)
	start := time.Now()

	var heads []uint64
	var disk diskHead // what the last kill left on disk
	for round := range crashKills {
		c := n.start(round)
		if round > 0 {
			n.checkLive(round, c, disk, sample)
		}
		runFor := killAfter[round]
		n.loadAndKill(round, c, rand.New(rand.NewPCG(seed, uint64(100+round))), runFor)
		c.Close()
		if t.Failed() {
			t.FailNow()
		}
		disk = n.checkDisk(round)
		heads = append(heads, disk.height)
		t.Logf("round %d: killed after %v: head %d, %d acknowledged, %d admitted so far",
			round, runFor, disk.height, len(n.acked), n.sent)
	}

	// A clean stop, then the whole history replayed from genesis.
	c := n.start(crashKills)
	n.checkLive(crashKills, c, disk, sample)
	c.Close()
	n.stop()
	db := n.openDB()
	defer db.Close()
	final := n.checkDB(crashKills, db, true)
	n.checkReplay(db, final)
	n.audit(db, final)

	if len(n.acked) < crashKills*10 || final.height < crashKills {
		t.Fatalf("the load hardly ran: %d acknowledged transactions, head %d", len(n.acked), final.height)
	}
	t.Logf("%d kills, heads %v, %d admitted, %d acknowledged, took %v", crashKills, heads, n.sent, len(n.acked), time.Since(start).Round(time.Millisecond))
}

// checkReplay re-executes every committed block from genesis on a fresh
// in-memory chain and compares receipts, the head state root and every
// state key with the crashed-and-restarted database.
func (n *crashNet) checkReplay(db storage.DB, head diskHead) {
	t := n.t
	memDB := storage.NewMemory()
	mem, err := chain.Open(memDB, n.gen, node.BaseExecutor(n.gen), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for h := uint64(1); h <= head.height; h++ {
		hdr, _ := types.DecodeHeader(mustGet(t, db, storage.HeaderKey(h), "header"))
		txs, _ := types.DecodeTxs(mustGet(t, db, storage.BodyKey(h), "body"))
		cert, _ := types.DecodeCertificate(mustGet(t, db, storage.CertKey(h), "certificate"))
		e, err := mem.Verify(&types.Block{Header: hdr, Txs: txs})
		if err != nil {
			t.Fatalf("replay of block %d: %v", h, err)
		}
		if got, want := types.EncodeReceipts(e.Receipts), mustGet(t, db, storage.ReceiptsKey(h), "receipts"); !bytes.Equal(got, want) {
			t.Fatalf("replay of block %d gives other receipts", h)
		}
		if err := mem.Commit(e, cert); err != nil {
			t.Fatalf("commit replayed block %d: %v", h, err)
		}
	}
	nodeHead, _ := types.DecodeHeader(mustGet(t, db, storage.HeaderKey(head.height), "head header"))
	if got, want := mem.Head().StateRoot, nodeHead.StateRoot; got != want {
		t.Fatalf("replayed state root %x, node's %x", got, want)
	}
	if got := mem.Head().Hash(n.suite); got != head.hash {
		t.Fatalf("replayed head %x, node's head %x", got, head.hash)
	}
	disk, replay := stateOf(t, db), stateOf(t, memDB)
	if len(disk) != len(replay) {
		t.Errorf("node's state has %d keys, the replay %d", len(disk), len(replay))
	}
	for k, v := range replay {
		if dv, ok := disk[k]; !ok || !bytes.Equal(dv, v) {
			t.Errorf("state key %q: node has %x (present %v), replay %x", k, dv, ok, v)
		}
	}
	for k, v := range disk {
		if _, ok := replay[k]; !ok {
			t.Errorf("state key %q = %x only in the node's database", k, v)
		}
	}
}

func stateOf(t *testing.T, db storage.Reader) map[string][]byte {
	t.Helper()
	out := make(map[string][]byte)
	err := db.Iterate(storage.PrefixState, nil, func(k, v []byte) error {
		out[string(k)] = bytes.Clone(v)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// audit rebuilds the ledger from the committed transactions alone, by its
// own rules, and checks every receipt's outcome, every balance and the
// supply against the node's state: no money is made or lost.
func (n *crashNet) audit(db storage.DB, head diskHead) {
	t := n.t
	s := n.suite
	bal := make(map[common.Address]*big.Int)
	get := func(a common.Address) *big.Int {
		if bal[a] == nil {
			bal[a] = new(big.Int)
		}
		return bal[a]
	}
	issued, redeemed := new(big.Int), new(big.Int)
	for _, u := range n.users {
		get(u.Address()).SetInt64(crashUserFunds)
		issued.Add(issued, big.NewInt(crashUserFunds))
	}
	abi := ledger.New().ABI()
	counts := make(map[string]int)
	for h := uint64(1); h <= head.height; h++ {
		txs, _ := types.DecodeTxs(mustGet(t, db, storage.BodyKey(h), "body"))
		rs, _ := types.DecodeReceipts(mustGet(t, db, storage.ReceiptsKey(h), "receipts"))
		for i, tx := range txs {
			from, err := tx.Sender(s)
			if err != nil {
				t.Fatalf("block %d tx %d: %v", h, i, err)
			}
			m, err := abi.MethodById(tx.Data[:4])
			if err != nil {
				t.Fatalf("block %d tx %d: %v", h, i, err)
			}
			args, err := m.Inputs.Unpack(tx.Data[4:])
			if err != nil {
				t.Fatalf("block %d tx %d: %v", h, i, err)
			}
			who, amt := args[1].(common.Address), args[2].(*big.Int)
			want := types.StatusOK
			switch m.Name {
			case "transfer":
				if get(from).Cmp(amt) < 0 {
					want = types.StatusInsufficientBalance
				} else {
					get(from).Sub(get(from), amt)
					get(who).Add(get(who), amt)
				}
			case "issue":
				get(who).Add(get(who), amt)
				issued.Add(issued, amt)
			case "redeem":
				if get(who).Cmp(amt) < 0 {
					want = types.StatusInsufficientBalance
				} else {
					get(who).Sub(get(who), amt)
					redeemed.Add(redeemed, amt)
				}
			default:
				t.Fatalf("block %d tx %d: unexpected method %s", h, i, m.Name)
			}
			if rs[i].Status != want {
				t.Fatalf("block %d tx %d (%s of %s): status %v, the audit expects %v", h, i, m.Name, amt, rs[i].Status, want)
			}
			counts[m.Name+"/"+want.String()]++
		}
	}
	state := chainState{db}
	total := new(uint256.Int)
	err := db.Iterate(storage.StateKey([]byte("ledger/b/"+crashAsset+"/")), nil, func(k, v []byte) error {
		total.Add(total, new(uint256.Int).SetBytes(v))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for a, want := range bal {
		if got := ledger.Balance(state, crashAsset, a).ToBig(); got.Cmp(want) != 0 {
			t.Errorf("balance of %s: node %s, audit %s", a.Hex(), got, want)
		}
	}
	is, re := ledger.Supply(state, crashAsset)
	if is.ToBig().Cmp(issued) != 0 || re.ToBig().Cmp(redeemed) != 0 {
		t.Errorf("supply: node issued %s redeemed %s, audit %s and %s", is, re, issued, redeemed)
	}
	if want := new(uint256.Int).Sub(is, re); !total.Eq(want) {
		t.Errorf("sum of balances %s != issued - redeemed %s", total, want)
	}
	t.Logf("audit of %d blocks: %v; supply %s", head.height, counts, total)
}

// chainState reads committed state straight from a database.
type chainState struct{ db storage.Reader }

func (s chainState) Get(key []byte) []byte {
	v, err := s.db.Get(storage.StateKey(key))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		panic(err)
	}
	return v
}
