package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/api"
	"github.com/tallyhq/tally/engine/api/pb"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/txpool"
	"github.com/tallyhq/tally/engine/types"
)

// FuzzSendTransactions hands the server arbitrary bytes as transactions.
// It must answer every one: one result each, a defined code that is never
// INTERNAL, a message exactly when refused, and OK only for a transaction
// that is then in the pool under the hash the result names.
func FuzzSendTransactions(f *testing.F) {
	fx := newFixture(f, crypto.Secp256k1(), txpool.Config{MaxTxs: 64, MaxBytes: 1 << 20})
	valid := fx.transfer(1, nil)
	f.Add(valid.Encode(), []byte{})
	f.Add(valid.Encode(), valid.Encode()) // the same twice in one batch
	f.Add(fx.transfer(2, func(tx *types.Tx) { tx.ChainID = "x" }).Encode(), fx.transfer(3, func(tx *types.Tx) { tx.Gas = 1 }).Encode())
	f.Add(fx.transfer(4, func(tx *types.Tx) { tx.BlockLimit = 0 }).Encode(), fx.transfer(5, func(tx *types.Tx) { tx.BlockLimit = 1 << 40 }).Encode())
	f.Add(fx.transfer(6, func(tx *types.Tx) { tx.Data = make([]byte, fxMaxTxBytes) }).Encode(), []byte{0xc0})
	f.Add([]byte{0xf8, 0xff}, []byte{0x80})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if fx.pool.Len() > 32 {
			fx.pool.Remove(fx.pool.Pending(64)) // keep room, so OK stays reachable
		}
		raws := [][]byte{a, b}
		resp, err := fx.srv.SendTransactions(context.Background(), &pb.SendTransactionsRequest{Txs: raws})
		if err != nil {
			t.Fatalf("a batch of two failed as a whole: %v", err)
		}
		if len(resp.Results) != len(raws) {
			t.Fatalf("%d results for %d transactions", len(resp.Results), len(raws))
		}
		for i, r := range resp.Results {
			if _, ok := pb.ErrorCode_name[int32(r.Code)]; !ok || r.Code == pb.ErrorCode_INTERNAL {
				t.Fatalf("tx %d: code %v (%s)", i, r.Code, r.Message)
			}
			if (r.Code == pb.ErrorCode_OK) == (r.Message != "") {
				t.Fatalf("tx %d: code %s with message %q", i, r.Code, r.Message)
			}
			if r.Code == pb.ErrorCode_OK && !fx.pool.Has(common.HexToHash(r.Hash)) {
				t.Fatalf("tx %d admitted as %s, which is not in the pool", i, r.Hash)
			}
			if r.Code != pb.ErrorCode_MALFORMED && r.Hash == "" {
				t.Fatalf("tx %d decoded but its result has no hash", i)
			}
		}
	})
}

var httpMethods = []string{"SendTransactions", "Call", "GetBlock", "GetTransaction", "GetReceipt",
	"GetReceiptProof", "BlockNumber", "Status", "SubscribeBlocks", "Nope"}

// FuzzHTTPRequest posts arbitrary bodies to every HTTP/JSON method. Every
// answer is JSON; a failure carries a defined code, never INTERNAL, and an
// HTTP status that matches it.
func FuzzHTTPRequest(f *testing.F) {
	fx := newFixture(f, crypto.Secp256k1(), txpool.Config{MaxTxs: 64, MaxBytes: 1 << 20})
	fx.send(fx.transfer(1, nil).Encode())
	fx.seal()
	for i := range httpMethods {
		f.Add(byte(i), `{}`)
		f.Add(byte(i), `{"chain_id":"nope"}`)
		f.Add(byte(i), `{"hash":"0x01","height":"1","wait_ms":"5"}`)
	}
	f.Add(byte(0), `{"txs":["3q2+7w==",""]}`)
	f.Add(byte(1), `{"to":"0x0000000000000000000000000000000000005001","data":"qQWcuw==","gas":"99999999999"}`)
	f.Add(byte(2), `{"latest":true}`)
	f.Add(byte(8), `{"from_height":"1"}`)
	handler := api.HTTPHandler(fx.srv)
	codeStatus := map[string]int{
		"MALFORMED": 400, "INVALID_ARGUMENT": 400, "BAD_SIGNATURE": 400, "WRONG_CHAIN": 400, "TX_TOO_LARGE": 400,
		"GAS_TOO_LOW": 400, "GAS_TOO_HIGH": 400, "NOT_FOUND": 404, "UNKNOWN_CHAIN": 404, "TOO_MANY": 429, "POOL_FULL": 429,
		"NONCE_USED": 409, "ALREADY_KNOWN": 409, "BLOCK_LIMIT_EXPIRED": 412, "BLOCK_LIMIT_TOO_FAR": 412, "HALTED": 503,
	}
	f.Fuzz(func(t *testing.T, which byte, body string) {
		method := httpMethods[int(which)%len(httpMethods)]
		// A request's context ends it: receipts wait and subscriptions stream until then.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/"+method, strings.NewReader(body))
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if method == "SubscribeBlocks" && rec.Code == 200 {
			return // newline-delimited JSON, until the context ends
		}
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s: HTTP %d, body is not JSON: %q", method, rec.Code, rec.Body.String())
		}
		if rec.Code == 200 {
			return
		}
		code, _ := out["code"].(string)
		if ctx.Err() != nil && code == "INTERNAL" {
			return // the request's own deadline passed while it waited
		}
		if want, ok := codeStatus[code]; !ok || want != rec.Code {
			t.Fatalf("%s %q: HTTP %d with code %q", method, body, rec.Code, code)
		}
	})
}
