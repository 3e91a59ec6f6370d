package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tallyhq/tally/engine/api"
	"github.com/tallyhq/tally/engine/api/pb"
	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/client"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/node"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/txpool"
	"github.com/tallyhq/tally/engine/types"
)

var suites = []crypto.Suite{crypto.Secp256k1(), crypto.SM()}

// TestSendTransactionsRejects sends one bad transaction per case and checks
// its code, and that none of them enters the pool, a block or the state.
func TestSendTransactionsRejects(t *testing.T) {
	for _, s := range suites {
		t.Run(s.Name(), func(t *testing.T) {
			f := newFixture(t, s, txpool.DefaultConfig())
			committed := f.transfer(1, nil)
			if r := f.send(committed.Encode()); r[0].Code != pb.ErrorCode_OK {
				t.Fatalf("valid transfer refused: %s %s", r[0].Code, r[0].Message)
			}
			f.seal()
			pending := f.transfer(2, nil)
			if r := f.send(pending.Encode()); r[0].Code != pb.ErrorCode_OK {
				t.Fatalf("valid transfer refused: %s %s", r[0].Code, r[0].Message)
			}
			head := f.chain.Head()
			cfg := f.chain.Config()

			badSig := f.transfer(3, nil)
			if s.TxCarriesPubKey() {
				badSig.Sig[len(badSig.Sig)-1] ^= 1 // DER: the last byte of S
			} else {
				badSig.Sig[64] = 9 // no such recovery id
			}
			otherKey := f.transfer(3, nil) // sm: someone else's key; secp: a key it must not carry
			otherKey.PubKey = f.bob.PublicKey()
			noKey := f.transfer(3, nil)
			noKey.PubKey = nil

			cases := []struct {
				name string
				raw  []byte
				want pb.ErrorCode
			}{
				{"malformed", []byte{0xde, 0xad, 0xbe, 0xef}, pb.ErrorCode_MALFORMED},
				{"empty", []byte{}, pb.ErrorCode_MALFORMED},
				{"trailing byte", append(f.transfer(3, nil).Encode(), 0), pb.ErrorCode_MALFORMED},
				{"truncated", f.transfer(3, nil).Encode()[:40], pb.ErrorCode_MALFORMED},
				{"bad signature", badSig.Encode(), pb.ErrorCode_BAD_SIGNATURE},
				{"wrong public key", otherKey.Encode(), pb.ErrorCode_BAD_SIGNATURE},
				{"wrong chain", f.transfer(3, func(tx *types.Tx) { tx.ChainID = "other" }).Encode(), pb.ErrorCode_WRONG_CHAIN},
				{"committed tx again", committed.Encode(), pb.ErrorCode_NONCE_USED},
				{"committed nonce", f.transfer(3, func(tx *types.Tx) { tx.Nonce = committed.Nonce }).Encode(), pb.ErrorCode_NONCE_USED},
				{"pending tx again", pending.Encode(), pb.ErrorCode_ALREADY_KNOWN},
				{"pending nonce", f.transfer(3, func(tx *types.Tx) { tx.Nonce = pending.Nonce }).Encode(), pb.ErrorCode_NONCE_USED},
				{"expired block limit", f.transfer(3, func(tx *types.Tx) { tx.BlockLimit = head.Height }).Encode(), pb.ErrorCode_BLOCK_LIMIT_EXPIRED},
				{"block limit too far", f.transfer(3, func(tx *types.Tx) { tx.BlockLimit = head.Height + cfg.TxWindow + 1 }).Encode(), pb.ErrorCode_BLOCK_LIMIT_TOO_FAR},
				{"oversized", f.transfer(3, func(tx *types.Tx) { tx.Data = make([]byte, fxMaxTxBytes) }).Encode(), pb.ErrorCode_TX_TOO_LARGE},
				{"gas below intrinsic", f.transfer(3, func(tx *types.Tx) { tx.Gas = exec21000 }).Encode(), pb.ErrorCode_GAS_TOO_LOW},
				{"gas above limit", f.transfer(3, func(tx *types.Tx) { tx.Gas = cfg.TxGasLimit + 1 }).Encode(), pb.ErrorCode_GAS_TOO_HIGH},
			}
			if s.TxCarriesPubKey() {
				cases = append(cases, struct {
					name string
					raw  []byte
					want pb.ErrorCode
				}{"missing public key", noKey.Encode(), pb.ErrorCode_BAD_SIGNATURE})
			}
			for _, c := range cases {
				r := f.send(c.raw)[0]
				if r.Code != c.want {
					t.Errorf("%s: %s (%s), want %s", c.name, r.Code, r.Message, c.want)
				}
				if r.Message == "" {
					t.Errorf("%s: no message", c.name)
				}
				if f.pool.Len() != 1 || !f.pool.Has(pending.Hash(s)) {
					t.Fatalf("%s: the pool holds %d transactions, want only the pending one", c.name, f.pool.Len())
				}
			}
			if f.chain.Head() != head {
				t.Fatal("a rejected transaction moved the head")
			}
			// What is sealed next is the pending transfer and nothing else.
			e := f.seal()
			if len(e.Block.Txs) != 1 || e.Block.Txs[0].Hash(s) != pending.Hash(s) {
				t.Fatalf("block has %d transactions, want only the pending one", len(e.Block.Txs))
			}
			if got := f.balance(f.alice.Address()); got.Int64() != fxAliceFunds-3 {
				t.Fatalf("alice holds %s, want %d", got, fxAliceFunds-3)
			}
		})
	}
}

// exec21000 is the bare intrinsic gas, below what any call with data costs.
const exec21000 = 21_000

// TestSendTransactionsRequestErrors covers errors of the request as a whole.
func TestSendTransactionsRequestErrors(t *testing.T) {
	f := newFixture(t, crypto.Secp256k1(), txpool.DefaultConfig())
	ctx := context.Background()
	valid := f.transfer(1, nil).Encode()
	_, err := f.srv.SendTransactions(ctx, &pb.SendTransactionsRequest{ChainId: "no-such-chain", Txs: [][]byte{valid}})
	if api.CodeFromStatus(err) != pb.ErrorCode_UNKNOWN_CHAIN || status.Code(err) != codes.NotFound {
		t.Errorf("unknown chain: %v", err)
	}
	many := make([][]byte, api.MaxBatchTxs+1)
	_, err = f.srv.SendTransactions(ctx, &pb.SendTransactionsRequest{Txs: many})
	if api.CodeFromStatus(err) != pb.ErrorCode_TOO_MANY || status.Code(err) != codes.ResourceExhausted {
		t.Errorf("%d transactions: %v", len(many), err)
	}
	if f.pool.Len() != 0 {
		t.Fatalf("a refused request left %d transactions in the pool", f.pool.Len())
	}
	// The chain's own id works as well as "".
	resp, err := f.srv.SendTransactions(ctx, &pb.SendTransactionsRequest{ChainId: f.chain.ID(), Txs: [][]byte{valid}})
	if err != nil || resp.Results[0].Code != pb.ErrorCode_OK {
		t.Fatalf("valid transfer by chain id: %v %v", err, resp)
	}
}

// TestPoolFull fills a small pool by count and by bytes: the next
// transaction is refused with POOL_FULL, the pool does not grow, and the
// same transaction is admitted once room is made.
func TestPoolFull(t *testing.T) {
	probe := newFixture(t, crypto.Secp256k1(), txpool.DefaultConfig())
	size := len(probe.transfer(1, nil).Encode())
	for name, cfg := range map[string]txpool.Config{
		"count": {MaxTxs: 3, MaxBytes: 1 << 20},
		"bytes": {MaxTxs: 100, MaxBytes: 3*size + size/2},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, crypto.Secp256k1(), cfg)
			var raws [][]byte
			for i := range 5 {
				raws = append(raws, f.transfer(int64(i+1), nil).Encode())
			}
			res := f.send(raws...)
			for i, r := range res {
				want := pb.ErrorCode_OK
				if i >= 3 {
					want = pb.ErrorCode_POOL_FULL
				}
				if r.Code != want {
					t.Errorf("tx %d: %s %s, want %s", i, r.Code, r.Message, want)
				}
			}
			if f.pool.Len() != 3 {
				t.Fatalf("pool holds %d, bound is 3", f.pool.Len())
			}
			if r := f.send(raws[4]); r[0].Code != pb.ErrorCode_POOL_FULL || f.pool.Len() != 3 {
				t.Fatalf("full pool again: %s, holds %d", r[0].Code, f.pool.Len())
			}
			f.seal()
			if r := f.send(raws[3], raws[4]); r[0].Code != pb.ErrorCode_OK || r[1].Code != pb.ErrorCode_OK {
				t.Fatalf("after sealing, the refused transactions: %s, %s", r[0].Code, r[1].Code)
			}
		})
	}
}

// TestReceiptFailures admits transactions that are valid to include but
// fail when run; each gets its own receipt status and none changes state.
func TestReceiptFailures(t *testing.T) {
	for _, s := range suites {
		t.Run(s.Name(), func(t *testing.T) {
			f := newFixture(t, s, txpool.DefaultConfig())
			transfer := f.pack("transfer", "CNY", f.bob.Address(), big.NewInt(5))
			cases := []struct {
				name string
				tx   *types.Tx
				want types.Status
			}{
				{"unknown method", f.tx(f.alice, ledger.Address, append([]byte{0xde, 0xad, 0xbe, 0xef}, transfer[4:]...), nil), types.StatusUnknownMethod},
				{"no selector", f.tx(f.alice, ledger.Address, []byte{1, 2}, nil), types.StatusBadInput},
				{"malformed ABI", f.tx(f.alice, ledger.Address, transfer[:len(transfer)-1], nil), types.StatusBadInput},
				{"dirty ABI padding", f.tx(f.alice, ledger.Address, dirty(transfer), nil), types.StatusBadInput},
				{"insufficient balance", f.tx(f.bob, ledger.Address, f.pack("transfer", "CNY", f.alice.Address(), big.NewInt(1)), nil), types.StatusInsufficientBalance},
				{"over the whole balance", f.tx(f.alice, ledger.Address, f.pack("transfer", "CNY", f.bob.Address(), big.NewInt(fxAliceFunds+1)), nil), types.StatusInsufficientBalance},
				{"issue without ISSUER", f.tx(f.alice, ledger.Address, f.pack("issue", "CNY", f.alice.Address(), big.NewInt(1)), nil), types.StatusPermissionDenied},
				{"redeem without ISSUER", f.tx(f.bob, ledger.Address, f.pack("redeem", "CNY", f.alice.Address(), big.NewInt(1)), nil), types.StatusPermissionDenied},
				{"grant without ADMIN", f.tx(f.alice, system.RolesAddress, mustPack(t, system.NewRoles(), "grantRole", system.RoleIssuer, f.alice.Address()), nil), types.StatusPermissionDenied},
				{"config without ADMIN", f.tx(f.alice, system.SystemConfigAddress, mustPack(t, system.NewSystemConfig(), "setValue", system.CfgTxWindow, big.NewInt(10)), nil), types.StatusPermissionDenied},
				{"bad asset code", f.tx(f.alice, ledger.Address, f.pack("transfer", "cny", f.bob.Address(), big.NewInt(1)), nil), types.StatusInvalidArgument},
				{"zero amount", f.tx(f.alice, ledger.Address, f.pack("transfer", "CNY", f.bob.Address(), big.NewInt(0)), nil), types.StatusInvalidArgument},
				{"no precompile", f.tx(f.alice, common.HexToAddress("0x5002"), transfer, nil), types.StatusNoContract},
				{"out of gas", f.tx(f.alice, ledger.Address, transfer, func(tx *types.Tx) { tx.Gas = exec21000 + 2000 }), types.StatusOutOfGas},
			}
			var raws [][]byte
			for _, c := range cases {
				raws = append(raws, c.tx.Encode())
			}
			for i, r := range f.send(raws...) {
				if r.Code != pb.ErrorCode_OK {
					t.Fatalf("%s: refused at admission: %s %s", cases[i].name, r.Code, r.Message)
				}
			}
			parent := f.chain.Head()
			issued, redeemed := ledger.Supply(f.chain.StateReader(), "CNY")
			e := f.seal()
			// An empty change set: the state root only chains forward.
			if want := state.NextRoot(s.Hash, parent.StateRoot, nil); e.Block.Header.StateRoot != want || len(e.Changes) != 0 {
				t.Errorf("failed transactions changed state: %d changes", len(e.Changes))
			}
			for _, c := range cases {
				r, err := f.srv.GetReceipt(context.Background(), &pb.GetByHashRequest{Hash: c.tx.Hash(s).Hex()})
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				if types.Status(r.Status) != c.want || r.StatusText != c.want.String() {
					t.Errorf("%s: status %d %q (%s), want %v", c.name, r.Status, r.StatusText, r.RevertReason, c.want)
				}
				if r.RevertReason == "" || len(r.Logs) != 0 {
					t.Errorf("%s: reason %q, %d logs", c.name, r.RevertReason, len(r.Logs))
				}
			}
			if a, b := f.balance(f.alice.Address()), f.balance(f.bob.Address()); a.Int64() != fxAliceFunds || b.Sign() != 0 {
				t.Errorf("balances moved: alice %s, bob %s", a, b)
			}
			if is, re := ledger.Supply(f.chain.StateReader(), "CNY"); !is.Eq(issued) || !re.Eq(redeemed) {
				t.Errorf("supply moved")
			}
		})
	}
}

func mustPack(t *testing.T, c interface {
	Pack(string, ...any) ([]byte, error)
}, m string, args ...any) []byte {
	b, err := c.Pack(m, args...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dirty sets a padding byte of the call's address argument, which decodes
// to the same address but is not the canonical encoding.
func dirty(call []byte) []byte {
	b := bytes.Clone(call)
	b[4+32] = 1 // word 1 is the address: its first 12 bytes are padding
	return b
}

// httpCall posts body to path and returns the status and decoded JSON.
func httpCall(t *testing.T, srv *httptest.Server, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: body is not JSON: %q", method, path, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	return resp.StatusCode, out
}

func TestHTTPErrors(t *testing.T) {
	f := newFixture(t, crypto.Secp256k1(), txpool.DefaultConfig())
	srv := httptest.NewServer(api.HTTPHandler(f.srv))
	defer srv.Close()
	unknownHash := common.HexToHash("0xabc").Hex()
	cases := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"bad JSON", "POST", "/v1/Status", "{", 400, "INVALID_ARGUMENT"},
		{"JSON of the wrong shape", "POST", "/v1/GetBlock", `{"height":"tall"}`, 400, "INVALID_ARGUMENT"},
		{"unknown field", "POST", "/v1/Status", `{"chain":"x"}`, 400, "INVALID_ARGUMENT"},
		{"GET instead of POST", "GET", "/v1/Status", "", 400, "INVALID_ARGUMENT"},
		{"unknown method", "POST", "/v1/NoSuchMethod", "{}", 404, "NOT_FOUND"},
		{"outside /v1/", "POST", "/Status", "{}", 404, "NOT_FOUND"},
		{"bad hash", "POST", "/v1/GetReceipt", `{"hash":"0x1234"}`, 400, "INVALID_ARGUMENT"},
		{"hash not hex", "POST", "/v1/GetTransaction", `{"hash":"zz"}`, 400, "INVALID_ARGUMENT"},
		{"bad block hash", "POST", "/v1/GetBlock", `{"hash":"0x12"}`, 400, "INVALID_ARGUMENT"},
		{"bad address", "POST", "/v1/Call", `{"to":"0x12"}`, 400, "INVALID_ARGUMENT"},
		{"unknown receipt", "POST", "/v1/GetReceipt", `{"hash":"` + unknownHash + `"}`, 404, "NOT_FOUND"},
		{"block above head", "POST", "/v1/GetBlock", `{"height":"99"}`, 404, "NOT_FOUND"},
		{"unknown chain", "POST", "/v1/Status", `{"chain_id":"nope"}`, 404, "UNKNOWN_CHAIN"},
		{"bad tx bytes", "POST", "/v1/SendTransactions", `{"txs":"not a list"}`, 400, "INVALID_ARGUMENT"},
	}
	for _, c := range cases {
		st, body := httpCall(t, srv, c.method, c.path, c.body)
		if st != c.status || body["code"] != c.code {
			t.Errorf("%s: HTTP %d %v, want %d %s", c.name, st, body, c.status, c.code)
		}
		if msg, _ := body["message"].(string); msg == "" {
			t.Errorf("%s: no message", c.name)
		}
	}
	// A bad transaction is not a bad request: 200, with its code in the result.
	st, body := httpCall(t, srv, "POST", "/v1/SendTransactions", `{"txs":["3q2+7w=="]}`)
	res, _ := body["results"].([]any)
	if st != 200 || len(res) != 1 || res[0].(map[string]any)["code"] != "MALFORMED" {
		t.Errorf("malformed transaction over HTTP: %d %v", st, body)
	}
	st, body = httpCall(t, srv, "POST", "/v1/Status", "")
	if chains, _ := body["chains"].([]any); st != 200 || len(chains) != 1 {
		t.Errorf("status with an empty body: %d %v", st, body)
	}
}

// startNode runs a real in-process node for gen with the fixture's validator.
func startNode(t *testing.T, gen *chain.Genesis) *node.Node {
	t.Helper()
	dir := t.TempDir()
	s := gen.SuiteOf()
	gb, err := gen.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	genPath, keyPath := filepath.Join(dir, "genesis.toml"), filepath.Join(dir, "validator.key")
	if err := os.WriteFile(genPath, gb, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := crypto.SaveKeyFileWithCost(keyPath, fixedKey(t, s, 1), "pw", crypto.LightKDF); err != nil {
		t.Fatal(err)
	}
	cc := node.DefaultChainConfig()
	cc.Genesis, cc.KeyFile = genPath, keyPath
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.API.GRPCAddr, cfg.API.HTTPAddr = filepath.Join(dir, "data"), "127.0.0.1:0", "127.0.0.1:0"
	cfg.Chains = []node.ChainConfig{cc}
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
	t.Cleanup(n.Stop)
	return n
}

// TestNodeOverGRPC runs a real in-process node and checks that error codes
// survive the wire: per-transaction codes, gRPC status details, receipts.
func TestNodeOverGRPC(t *testing.T) {
	s := crypto.Secp256k1()
	alice, bob := fixedKey(t, s, 3), fixedKey(t, s, 4)
	gen := newFixture(t, s, txpool.DefaultConfig()).gen
	delete(gen.Config, system.CfgTxWindow) // the default window, which the client's block limit fits
	n := startNode(t, gen)
	c, err := client.Dial(n.GRPCAddr(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	res, err := c.SendRaw(ctx, [][]byte{{0xc0}})
	if err != nil || res[0].Code != pb.ErrorCode_MALFORMED {
		t.Fatalf("malformed over gRPC: %v %v", err, res)
	}
	other, _ := client.Dial(n.GRPCAddr(), "nope")
	defer other.Close()
	if _, err := other.Head(ctx); api.CodeFromStatus(err) != pb.ErrorCode_UNKNOWN_CHAIN || status.Code(err) != codes.NotFound {
		t.Fatalf("unknown chain over gRPC: %v", err)
	}
	if _, err := c.RPC().GetReceipt(ctx, &pb.GetByHashRequest{Hash: common.HexToHash("0x1").Hex()}); api.CodeFromStatus(err) != pb.ErrorCode_NOT_FOUND {
		t.Fatalf("unknown receipt over gRPC: %v", err)
	}
	if _, err := c.RPC().GetReceipt(ctx, &pb.GetByHashRequest{Hash: "0x1"}); api.CodeFromStatus(err) != pb.ErrorCode_INVALID_ARGUMENT {
		t.Fatalf("bad hash over gRPC: %v", err)
	}
	l := ledger.New()
	to := ledger.Address
	data, _ := l.Pack("transfer", "CNY", bob.Address(), big.NewInt(7))
	acct := &client.Account{Key: alice, Client: c, ChainID: gen.ChainID}
	if r, err := acct.Transact(ctx, &to, data, 0); err != nil || r.Status != 0 {
		t.Fatalf("transfer: %v", err)
	}
	data, _ = l.Pack("transfer", "CNY", alice.Address(), big.NewInt(8))
	bobAcct := &client.Account{Key: bob, Client: c, ChainID: gen.ChainID}
	r, err := bobAcct.Transact(ctx, &to, data, 0)
	if r == nil || types.Status(r.Status) != types.StatusInsufficientBalance || !errors.Is(err, client.ErrFailed) {
		t.Fatalf("overdraft: receipt %v, err %v", r, err)
	}
	resp, err := http.Get("http://" + n.HTTPAddr() + "/metrics")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("metrics: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	// The blocks read the accounts through the chain's state cache, which
	// keeps what they read and wrote.
	entries := regexp.MustCompile(`(?m)^tally_state_cache_entries\{chain="` + gen.ChainID + `"\} ([0-9.e+]+)$`).FindSubmatch(body)
	if entries == nil || string(entries[1]) == "0" || !bytes.Contains(body, []byte("tally_state_cache_misses_total{chain=")) {
		t.Fatalf("no state cache in /metrics:\n%s", body)
	}
}

// TestClientBlockLimitFitsWindow: tx_window is a chain setting (1 to
// 100000), but client.Account sets every block limit to head+500, so on a
// chain with a window under 500 every transaction it signs is refused
// with BLOCK_LIMIT_TOO_FAR — and so is every `tally tx` command.
func TestClientBlockLimitFitsWindow(t *testing.T) {
	s := crypto.Secp256k1()
	gen := newFixture(t, s, txpool.DefaultConfig()).gen // tx_window = 100
	n := startNode(t, gen)
	c, err := client.Dial(n.GRPCAddr(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	to := ledger.Address
	data, _ := ledger.New().Pack("transfer", "CNY", fixedKey(t, s, 4).Address(), big.NewInt(1))
	acct := &client.Account{Key: fixedKey(t, s, 3), Client: c, ChainID: gen.ChainID}
	if _, err := acct.Transact(ctx, &to, data, 0); err != nil {
		t.Fatalf("transfer on a chain with tx_window 100: %v", err)
	}
}
