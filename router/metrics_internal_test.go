package router

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/grpc"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/router/pb"
)

// TestRouterMetrics: requests are counted by method, transport and code,
// lookups by where the answer came from, and /metrics serves them. The hub
// is never reached: the lookups here are answered from the cache, and the
// failing requests fail before any call.
func TestRouterMetrics(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Hub = Endpoint{ChainID: "hub", Node: "127.0.0.1:1"}
	key, err := crypto.Secp256k1().GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(&cfg, key, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	user := common.HexToAddress("0x00000000000000000000000000000000000000aa")
	r.remember(user, "user-1")
	srv := httptest.NewServer(HTTPHandler(NewServer(r)))
	defer srv.Close()
	post := func(method, body string) int {
		resp, err := http.Post(srv.URL+"/v1/"+method, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("Route", `{"user":"`+user.Hex()+`"}`); code != http.StatusOK {
		t.Fatalf("route a cached user: HTTP %d", code)
	}
	if code := post("Route", `{"user":"nope"}`); code != http.StatusBadRequest {
		t.Fatalf("route a bad address: HTTP %d", code)
	}
	if code := post("OpenAccounts", `{"users":[]}`); code != http.StatusBadRequest {
		t.Fatalf("open no accounts: HTTP %d", code)
	}
	// The same over the gRPC interceptor.
	call := func(req any) error {
		_, err := r.UnaryInterceptor()(context.Background(), req, &grpc.UnaryServerInfo{FullMethod: "/tally.router.Router/Route"},
			func(ctx context.Context, req any) (any, error) {
				return NewServer(r).Route(ctx, req.(*pb.RouteRequest))
			})
		return err
	}
	if err := call(&pb.RouteRequest{User: user.Hex()}); err != nil {
		t.Fatal(err)
	}
	if err := call(&pb.RouteRequest{User: "0x12"}); err == nil {
		t.Fatal("a bad address routed")
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`tally_router_requests_total{code="200",method="Route",transport="http"} 1`,
		`tally_router_requests_total{code="400",method="Route",transport="http"} 1`,
		`tally_router_requests_total{code="400",method="OpenAccounts",transport="http"} 1`,
		`tally_router_requests_total{code="OK",method="Route",transport="grpc"} 1`,
		`tally_router_requests_total{code="InvalidArgument",method="Route",transport="grpc"} 1`,
		`tally_router_lookups_total{source="cache"} 2`,
		"tally_router_assigned_users_total 0", "go_goroutines ",
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
}
