package export_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl/scram"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/client"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/export"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/node"
	"github.com/tallyhq/tally/engine/storage"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
)

// world is a solo chain on badger with a validator, an issuer and two users.
type world struct {
	t     *testing.T
	s     crypto.Suite
	db    storage.DB
	chain *chain.Chain
	val   crypto.PrivateKey
	admin crypto.PrivateKey
	users []crypto.PrivateKey
}

func key(t *testing.T, s crypto.Suite, n byte) crypto.PrivateKey {
	b := make([]byte, 32)
	b[0], b[31] = 0x22, n
	k, err := s.PrivateKeyFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newWorld(t *testing.T, dir string) *world {
	s := crypto.Secp256k1()
	w := &world{t: t, s: s, val: key(t, s, 1), admin: key(t, s, 2), users: []crypto.PrivateKey{key(t, s, 3), key(t, s, 4)}}
	gen := &chain.Genesis{
		ChainID: "export-test", Suite: s.Name(), Consensus: chain.ConsensusSolo,
		Validators: []chain.GenesisValidator{{PubKey: hexutil.Encode(w.val.PublicKey())}},
		Roles:      map[string][]string{system.RoleAdmin: {w.admin.Address().Hex()}, system.RoleIssuer: {w.admin.Address().Hex()}},
	}
	db, err := storage.OpenBadger(dir, storage.DefaultBadgerOptions())
	if err != nil {
		t.Fatal(err)
	}
	c, err := chain.Open(db, gen, node.BaseExecutor(gen), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	w.db, w.chain = db, c
	return w
}

// block commits one block: an issue to each user, then a transfer between
// them, and one transfer that fails (more than the sender holds).
func (w *world) block() {
	w.t.Helper()
	l := ledger.New()
	head := w.chain.Head().Height
	mk := func(k crypto.PrivateKey, method string, args ...any) *types.Tx {
		data, err := l.Pack(method, args...)
		if err != nil {
			w.t.Fatal(err)
		}
		to := ledger.Address
		tx := types.NewTx(w.chain.ID(), head+50, &to, 200_000, data)
		if err := tx.Sign(k); err != nil {
			w.t.Fatal(err)
		}
		return tx
	}
	a, b := w.users[0], w.users[1]
	txs := []*types.Tx{
		mk(w.admin, "issue", "CNY", a.Address(), big.NewInt(1000)),
		mk(a, "transfer", "CNY", b.Address(), big.NewInt(7)),
		mk(b, "transfer", "CNY", a.Address(), big.NewInt(1_000_000)),
	}
	e, rej, err := w.chain.Build(txs, chain.Proposal{Proposer: w.val.Address(), TimestampMs: 1000 + head})
	if err != nil || len(rej) != 0 {
		w.t.Fatalf("build: %v %v", err, rej)
	}
	h := e.Block.Header
	sig, err := w.val.Sign(types.CommitDigest(w.s, h.ChainID, h.Height, h.Round, h.Hash(w.s)))
	if err != nil {
		w.t.Fatal(err)
	}
	cert := &types.Certificate{ChainID: h.ChainID, Height: h.Height, Round: h.Round, BlockHash: h.Hash(w.s),
		Votes: []types.Vote{{Signer: w.val.Address(), Sig: sig}}}
	if err := w.chain.Commit(e, cert); err != nil {
		w.t.Fatal(err)
	}
}

// freePort is a loopback port nobody listens on.
func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// broker starts a Kafka-protocol broker (kfake) on port, keeping its logs in dir.
func broker(t *testing.T, port int, dir string) *kfake.Cluster {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.DataDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// consumed is what the three topics hold, by key, plus each topic's keys in
// offset order per partition.
type consumed struct {
	blocks   map[string]export.BlockMsg
	receipts map[string]export.ReceiptMsg
	events   map[string]export.EventMsg
	order    map[string][]string // topic/partition -> keys in offset order
	dups     int
}

// readAll reads every partition of the three topics up to its end.
func readAll(t *testing.T, addr string, cfg export.Config) consumed {
	t.Helper()
	out, err := tryReadAll(t, addr, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// tryReadAll is readAll, failing with an error when a topic cannot be
// reached (it may not exist yet).
func tryReadAll(t *testing.T, addr string, cfg export.Config, d *kafka.Dialer) (consumed, error) {
	if d == nil {
		d = &kafka.Dialer{Timeout: 5 * time.Second}
	}
	t.Helper()
	out := consumed{blocks: map[string]export.BlockMsg{}, receipts: map[string]export.ReceiptMsg{}, events: map[string]export.EventMsg{}, order: map[string][]string{}}
	blocks, receipts, events := cfg.Topics()
	for _, topic := range []string{blocks, receipts, events} {
		for p := 0; p < cfg.Partitions; p++ {
			dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
			conn, err := d.DialLeader(dctx, "tcp", addr, topic, p)
			dcancel()
			if err != nil {
				return out, fmt.Errorf("dial %s/%d: %v", topic, p, err)
			}
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			last, err := conn.ReadLastOffset()
			conn.Close()
			if err != nil {
				return out, fmt.Errorf("last offset of %s/%d: %v", topic, p, err)
			}
			if last == 0 {
				continue
			}
			r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, Topic: topic, Partition: p, MaxWait: 100 * time.Millisecond, Dialer: d})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			for {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					t.Fatalf("read %s/%d: %v", topic, p, err)
				}
				k := string(m.Key)
				op := fmt.Sprintf("%s/%d", topic, p)
				out.order[op] = append(out.order[op], k)
				var dup bool
				switch topic {
				case blocks:
					var v export.BlockMsg
					mustJSON(t, m.Value, &v)
					_, dup = out.blocks[k]
					out.blocks[k] = v
				case receipts:
					var v export.ReceiptMsg
					mustJSON(t, m.Value, &v)
					_, dup = out.receipts[k]
					out.receipts[k] = v
				case events:
					var v export.EventMsg
					mustJSON(t, m.Value, &v)
					_, dup = out.events[k]
					out.events[k] = v
				}
				if dup {
					out.dups++
				}
				if m.Offset+1 >= last {
					break
				}
			}
			cancel()
			r.Close()
		}
	}
	return out, nil
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("value %q: %v", b, err)
	}
}

// startExporter runs an exporter of w's chain with cfg; stop ends it and
// waits for it to return.
func startExporter(t *testing.T, cfg export.Config, w *world) (x *export.Exporter, stop func()) {
	t.Helper()
	x, err := export.New(cfg, w.chain, w.db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); x.Run(ctx) }()
	return x, func() { cancel(); <-done }
}

// waitCursor runs until the exporter's cursor reaches h.
func waitCursor(t *testing.T, x *export.Exporter, h uint64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, ok, err := x.Cursor(); err == nil && ok && c >= h {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	c, ok, err := x.Cursor()
	t.Fatalf("cursor at %d (set %v, %v), want %d", c, ok, err, h)
}

// check asserts that heights 1..n of w's chain are in out, complete and in
// order within their partition.
func check(t *testing.T, w *world, out consumed, n uint64) {
	t.Helper()
	id := w.chain.ID()
	if len(out.blocks) != int(n) {
		t.Fatalf("%d blocks exported, want %d", len(out.blocks), n)
	}
	for h := uint64(1); h <= n; h++ {
		bm, ok := out.blocks[id+"/"+strconv.FormatUint(h, 10)]
		if !ok {
			t.Fatalf("block %d missing", h)
		}
		hd, _ := w.chain.HeaderByHeight(h)
		if bm.Hash != hd.Hash(w.s).Hex() || bm.Height != h || bm.Certificate == "" || len(bm.TxHashes) != 3 {
			t.Fatalf("block %d: %+v", h, bm)
		}
		rs, _ := w.chain.Receipts(h)
		for i, txh := range bm.TxHashes {
			rm, ok := out.receipts[id+"/"+txh]
			if !ok || rm.Height != h || rm.Index != i || rm.Status != uint64(rs[i].Status) || len(rm.Logs) != len(rs[i].Logs) {
				t.Fatalf("receipt %d/%d: %+v (ok %v)", h, i, rm, ok)
			}
			for j := range rs[i].Logs {
				if _, ok := out.events[fmt.Sprintf("%s/%d/%d/%d", id, h, i, j)]; !ok {
					t.Fatalf("event %d/%d/%d missing", h, i, j)
				}
			}
		}
		// The failed transfer has a reason and no events.
		if rm := out.receipts[id+"/"+bm.TxHashes[2]]; rm.Status == 0 || rm.RevertReason == "" {
			t.Fatalf("failing transfer exported as %+v", rm)
		}
	}
	// The transfer of block 1 is decoded with the Ledger's ABI.
	ev := out.events[id+"/1/1/0"]
	if ev.Contract != "Ledger" || ev.Event != "Transfer" || ev.Args["amount"] != "7" || ev.Args["asset"] != "CNY" ||
		!strings.EqualFold(ev.Args["from"], w.users[0].Address().Hex()) || !strings.EqualFold(ev.Args["to"], w.users[1].Address().Hex()) {
		t.Fatalf("transfer event: %+v", ev)
	}
	// One chain, one partition per topic; blocks in height order.
	blocksTopic, _, _ := export.DefaultConfig().Topics()
	var parts int
	for op, keys := range out.order {
		if !strings.HasPrefix(op, blocksTopic+"/") {
			continue
		}
		parts++
		prev := uint64(0)
		for _, k := range keys {
			h, _ := strconv.ParseUint(strings.TrimPrefix(k, id+"/"), 10, 64)
			if h < prev {
				t.Fatalf("block %d after %d in %s", h, prev, op)
			}
			prev = h
		}
	}
	if parts != 1 {
		t.Fatalf("a chain's blocks in %d partitions", parts)
	}
}

// TestExportToKafka runs the exporter against a real Kafka-protocol broker:
// every block, receipt and Ledger event arrives under its key, in order; a
// restarted exporter resumes after its cursor without sending anything
// twice; with the broker down the exporter waits, and when the broker
// returns it publishes what was committed meanwhile, skipping nothing.
func TestExportToKafka(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	kdir := t.TempDir()
	k := broker(t, port, kdir)
	addr := k.ListenAddrs()[0]

	w := newWorld(t, dir+"/chain")
	defer w.db.Close()
	for range 5 {
		w.block()
	}
	cfg := export.DefaultConfig()
	cfg.Enabled, cfg.Brokers, cfg.MaxBlocks = true, []string{addr}, 2
	x, stop := startExporter(t, cfg, w)
	waitCursor(t, x, 5)
	w.block() // followed live
	waitCursor(t, x, 6)
	stop()
	check(t, w, readAll(t, addr, cfg), 6)

	// Restart: resume after the cursor, nothing twice. Writes are capped
	// to one block each here (every block passes the cap).
	defer export.SetMaxWriteBytes(1)()
	w.block()
	w.block()
	x, stop = startExporter(t, cfg, w)
	waitCursor(t, x, 8)
	out := readAll(t, addr, cfg)
	check(t, w, out, 8)
	if out.dups != 0 {
		t.Fatalf("a restart sent %d messages again", out.dups)
	}

	// Broker down: blocks keep committing; the exporter retries.
	k.Close()
	w.block()
	w.block()
	time.Sleep(300 * time.Millisecond)
	if c, _, _ := x.Cursor(); c != 8 {
		t.Fatalf("cursor moved to %d with the broker down", c)
	}
	k = broker(t, port, kdir) // the same broker, from its data directory
	defer k.Close()
	waitCursor(t, x, 10)
	stop()
	check(t, w, readAll(t, addr, cfg), 10)
}

// TestExportRewind: a rewound cursor has the exporter publish the blocks
// from the given height again, each once more, and follow on from there;
// a height outside the chain is refused and leaves the cursor alone.
func TestExportRewind(t *testing.T) {
	k := broker(t, freePort(t), t.TempDir())
	defer k.Close()
	addr := k.ListenAddrs()[0]
	w := newWorld(t, t.TempDir())
	defer w.db.Close()
	var prev uint64
	var ok bool
	empty, err := storage.OpenBadger(t.TempDir(), storage.DefaultBadgerOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	if _, _, err := export.Rewind(empty, 1); err == nil || !strings.Contains(err.Error(), "no blocks") {
		t.Fatalf("rewound a database with no chain: %v", err)
	}
	if _, _, err := export.Rewind(w.db, 2); err == nil { // the genesis block only
		t.Fatal("rewound past the head of a new chain")
	}
	for range 6 {
		w.block()
	}
	cfg := export.DefaultConfig()
	cfg.Enabled, cfg.Brokers = true, []string{addr}
	x, stop := startExporter(t, cfg, w)
	waitCursor(t, x, 6)
	stop()
	for _, bad := range []uint64{0, 8} {
		if _, _, err := export.Rewind(w.db, bad); err == nil || !strings.Contains(err.Error(), "from 1 to 6") {
			t.Fatalf("rewind to %d: %v", bad, err)
		}
	}
	prev, ok, err = export.Rewind(w.db, 3)
	if err != nil || !ok || prev != 6 {
		t.Fatalf("rewind: %d %v %v", prev, ok, err)
	}
	if c, ok, err := export.ReadCursor(w.db); err != nil || !ok || c != 2 {
		t.Fatalf("cursor after the rewind: %d %v %v", c, ok, err)
	}
	w.block()
	x, stop = startExporter(t, cfg, w)
	waitCursor(t, x, 7)
	stop()
	out := readAll(t, addr, cfg)
	blocksTopic, _, _ := cfg.Topics()
	var heights []string
	for op, keys := range out.order {
		if strings.HasPrefix(op, blocksTopic+"/") {
			for _, key := range keys {
				heights = append(heights, strings.TrimPrefix(key, w.chain.ID()+"/"))
			}
			out.order[op] = keys[min(6, len(keys)):] // from the second 3 on, for check
		}
	}
	if got, want := strings.Join(heights, ","), "1,2,3,4,5,6,3,4,5,6,7"; got != want {
		t.Fatalf("blocks published in the order %s, want %s", got, want)
	}
	check(t, w, out, 7)
	// Rewinding to one past the head sends nothing again.
	if _, _, err := export.Rewind(w.db, 8); err != nil {
		t.Fatal(err)
	}
	if c, _, _ := export.ReadCursor(w.db); c != 7 {
		t.Fatalf("cursor %d after a rewind to the next height", c)
	}
}

// TestExportConfig: bad settings get a clear error; the default is off.
func TestExportConfig(t *testing.T) {
	def := export.DefaultConfig()
	if def.Enabled || def.Validate() != nil {
		t.Fatalf("default: enabled %v, %v", def.Enabled, def.Validate())
	}
	bad := []func(*export.Config){
		func(c *export.Config) { c.Enabled = true },
		func(c *export.Config) { c.Brokers = []string{"localhost"} },
		func(c *export.Config) { c.Brokers = []string{":9092"} },
		func(c *export.Config) { c.Brokers = []string{"h:99999"} },
		func(c *export.Config) { c.TopicPrefix = "" },
		func(c *export.Config) { c.TopicPrefix = "a b" },
		func(c *export.Config) { c.TopicPrefix = strings.Repeat("x", 201) },
		func(c *export.Config) { c.Partitions = 0 },
		func(c *export.Config) { c.Replication = 0 },
		func(c *export.Config) { c.MaxBlocks = 0 },
		func(c *export.Config) { c.FromHeight = 0 },
	}
	for i, mod := range bad {
		c := export.DefaultConfig()
		mod(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "export.kafka") {
			t.Errorf("case %d: %+v accepted (%v)", i, c, err)
		}
	}
}

// TestNodeExportsToKafka: a node whose configuration enables the exporter
// publishes what its chain commits, and reports the exported height in its
// metrics.
func TestNodeExportsToKafka(t *testing.T) {
	k := broker(t, freePort(t), t.TempDir())
	defer k.Close()
	addr := k.ListenAddrs()[0]
	dir := t.TempDir()
	w := newWorld(t, dir+"/scratch") // for its keys and genesis
	gen := w.chain.Genesis()
	w.db.Close()
	gb, err := gen.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	genPath, keyPath := dir+"/genesis.toml", dir+"/validator.key"
	if err := os.WriteFile(genPath, gb, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := crypto.SaveKeyFileWithCost(keyPath, w.val, "pw", crypto.LightKDF); err != nil {
		t.Fatal(err)
	}
	cfg := node.DefaultConfig()
	cc := node.DefaultChainConfig()
	cc.Genesis, cc.KeyFile = genPath, keyPath
	cfg.DataDir, cfg.API.GRPCAddr, cfg.API.HTTPAddr = dir+"/data", "127.0.0.1:0", "127.0.0.1:0"
	cfg.Chains = []node.ChainConfig{cc}
	cfg.Export.Kafka.Enabled, cfg.Export.Kafka.Brokers = true, []string{addr}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	n, err := node.New(&cfg, node.Options{Logger: slog.New(slog.DiscardHandler), Password: func(node.ChainConfig) (string, error) { return "pw", nil }})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		n.Stop()
		t.Fatal(err)
	}
	defer n.Stop()
	c, err := client.Dial(n.GRPCAddr(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	acct := &client.Account{Key: w.admin, Client: c, ChainID: gen.ChainID}
	to := ledger.Address
	data, _ := ledger.New().Pack("issue", "CNY", w.users[0].Address(), big.NewInt(5))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := acct.Transact(ctx, &to, data, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The block with the issue reaches Kafka.
	deadline := time.Now().Add(30 * time.Second)
	for {
		// The topics are not ordered with each other: wait for both.
		out, err := tryReadAll(t, addr, cfg.Export.Kafka, nil)
		if rm, ok := out.receipts[gen.ChainID+"/"+r.TxHash]; err == nil && ok && len(out.blocks) >= int(r.Height) {
			if rm.Height != r.Height || rm.Status != 0 {
				t.Fatalf("receipt %+v", rm)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the issue never reached Kafka (%d blocks there, %v)", len(out.blocks), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	resp, err := http.Get("http://" + n.HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `tally_export_kafka_height{chain="`+gen.ChainID+`"}`) {
		t.Fatal("no tally_export_kafka_height in /metrics")
	}
}

// TestNodeConfigExportTable: node.toml's [export.kafka] table loads, and
// garbage in it is refused with a clear error.
func TestNodeConfigExportTable(t *testing.T) {
	dir := t.TempDir()
	write := func(extra string) string {
		p := dir + "/node.toml"
		body := "data_dir = \"data\"\n[[chains]]\ngenesis = \"g.toml\"\nkey_file = \"v.key\"\n" + extra
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg, err := node.LoadConfig(write(""))
	if err != nil || cfg.Export.Kafka.Enabled || cfg.Export.Kafka.TopicPrefix != "tally" {
		t.Fatalf("no table: %+v, %v", cfg.Export.Kafka, err)
	}
	cfg, err = node.LoadConfig(write("[export.kafka]\nenabled = true\nbrokers = [\"10.0.0.5:9092\"]\ntopic_prefix = \"bank.settle\"\npartitions = 6\n"))
	if err != nil {
		t.Fatal(err)
	}
	k := cfg.Export.Kafka
	if !k.Enabled || k.Brokers[0] != "10.0.0.5:9092" || k.TopicPrefix != "bank.settle" || k.Partitions != 6 || k.Replication != 1 || k.MaxBlocks != 64 {
		t.Fatalf("loaded %+v", k)
	}
	for _, bad := range []string{
		"[export.kafka]\nenabled = true\n",
		"[export.kafka]\nbrokers = [\"nope\"]\n",
		"[export.kafka]\npartitions = -1\n",
		"[export.kafka]\nenabled = \"yes\"\n",
		"[export.kafka]\nbrokerz = [\"h:1\"]\n",
	} {
		if _, err := node.LoadConfig(write(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

// selfSigned writes a CA-signed certificate for 127.0.0.1 and returns the
// server's TLS configuration and the CA's PEM file.
func selfSigned(t *testing.T, dir string) (*tls.Config, string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test kafka CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srvTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caPath := dir + "/ca.pem"
	if err := os.WriteFile(caPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}}, MinVersion: tls.VersionTLS12}, caPath
}

// TestExportTLSAndSASL: the exporter reaches a broker that takes only TLS
// connections with SCRAM-SHA-256 logins; with a wrong password it publishes
// nothing and its cursor stays put.
func TestExportTLSAndSASL(t *testing.T) {
	dir := t.TempDir()
	srvTLS, caPath := selfSigned(t, dir)
	k, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(freePort(t)), kfake.TLS(srvTLS),
		kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "tally", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	addr := k.ListenAddrs()[0]
	for _, pw := range []string{"wrong", "s3cret\n"} {
		if err := os.WriteFile(dir+"/pw-"+strings.TrimSpace(pw), []byte(pw), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	w := newWorld(t, dir+"/chain")
	defer w.db.Close()
	w.block()
	w.block()
	cfg := export.DefaultConfig()
	cfg.Enabled, cfg.Brokers = true, []string{addr}
	cfg.TLS, cfg.CAFile, cfg.SASL, cfg.Username = true, caPath, "scram-sha-256", "tally"
	start := func(pwFile string) (*export.Exporter, func()) {
		c := cfg
		c.PasswordFile = pwFile
		return startExporter(t, c, w)
	}

	x, stop := start(dir + "/pw-wrong")
	time.Sleep(1500 * time.Millisecond)
	stop()
	if _, ok, err := x.Cursor(); ok || err != nil {
		t.Fatalf("a wrong password exported something (cursor set %v, %v)", ok, err)
	}

	x, stop = start(dir + "/pw-s3cret")
	waitCursor(t, x, 2)
	stop()
	pool := x509.NewCertPool()
	caPEM, _ := os.ReadFile(caPath)
	pool.AppendCertsFromPEM(caPEM)
	mech, err := scram.Mechanism(scram.SHA256, "tally", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	d := &kafka.Dialer{Timeout: 5 * time.Second, TLS: &tls.Config{RootCAs: pool}, SASLMechanism: mech}
	out, err := tryReadAll(t, addr, cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	check(t, w, out, 2)

	// Without TLS the broker is not reachable at all.
	if _, err := tryReadAll(t, addr, cfg, &kafka.Dialer{Timeout: 2 * time.Second, SASLMechanism: mech}); err == nil {
		t.Fatal("read the topics over plaintext")
	}
}

// TestExportSecurityConfig: TLS and SASL settings that cannot work are
// refused; files that cannot be read fail the exporter's start.
func TestExportSecurityConfig(t *testing.T) {
	bad := []func(*export.Config){
		func(c *export.Config) { c.CAFile = "ca.pem" },
		func(c *export.Config) { c.TLS, c.CertFile = true, "c.pem" },
		func(c *export.Config) { c.SASL = "gssapi"; c.Username, c.PasswordFile = "u", "p" },
		func(c *export.Config) { c.SASL = "plain"; c.Username = "u" },
		func(c *export.Config) { c.Username = "u" },
	}
	for i, mod := range bad {
		c := export.DefaultConfig()
		mod(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("case %d: %+v accepted", i, c)
		}
	}
	dir := t.TempDir()
	w := newWorld(t, dir+"/chain")
	defer w.db.Close()
	if os.WriteFile(dir+"/notpem", []byte("garbage"), 0o600) != nil || os.WriteFile(dir+"/empty", nil, 0o600) != nil {
		t.Fatal("write fixtures")
	}
	for i, mod := range []func(*export.Config){
		func(c *export.Config) { c.TLS, c.CAFile = true, dir+"/missing.pem" },
		func(c *export.Config) { c.TLS, c.CAFile = true, dir+"/notpem" },
		func(c *export.Config) { c.TLS, c.CertFile, c.KeyFile = true, dir+"/notpem", dir+"/notpem" },
		func(c *export.Config) { c.SASL, c.Username, c.PasswordFile = "plain", "u", dir+"/missing" },
		func(c *export.Config) { c.SASL, c.Username, c.PasswordFile = "scram-sha-512", "u", dir+"/empty" },
	} {
		c := export.DefaultConfig()
		c.Enabled, c.Brokers = true, []string{"127.0.0.1:1"}
		mod(&c)
		if _, err := export.New(c, w.chain, w.db, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "export.kafka") {
			t.Errorf("case %d: started with %+v (%v)", i, c, err)
		}
	}
}
