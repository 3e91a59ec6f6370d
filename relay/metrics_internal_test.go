package relay

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tallyhq/tally/engine/storage"
)

func testRelay(t *testing.T) *Relay {
	t.Helper()
	users := []*Endpoint{{ChainID: "user-2"}, {ChainID: "user-1"}}
	return New(&Endpoint{ChainID: "hub"}, users, storage.NewMemory(), DefaultOptions())
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(b)
}

// TestRelayMetrics: /metrics reports the counters and every chain's cursor
// (0 before the relay handled a block), /healthz answers; the server stops
// with its context.
func TestRelayMetrics(t *testing.T) {
	r := testRelay(t)
	if err := r.setCursor("user-1", 41); err != nil {
		t.Fatal(err)
	}
	r.count(func(s *Stats) { s.Booked, s.Sweeps, s.Retries = 7, 2, 1 })
	ctx, cancel := context.WithCancel(context.Background())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	failed, err := r.Serve(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	body := get(t, "http://"+addr+"/metrics")
	for _, want := range []string{
		"tally_relay_booked_total 7\n", "tally_relay_sweeps_total 2\n", "tally_relay_retries_total 1\n", "tally_relay_allocations_total 0\n",
		`tally_relay_cursor_height{chain="user-1"} 41` + "\n", `tally_relay_cursor_height{chain="user-2"} 0` + "\n",
		`tally_relay_cursor_height{chain="hub"} 0` + "\n", "tally_relay_cursor_read_errors 0\n", "go_goroutines ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if got := get(t, "http://"+addr+"/healthz"); got != "ok\n" {
		t.Fatalf("/healthz: %q", got)
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the metrics server still listens after its context ended")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case err := <-failed:
		t.Fatalf("server failure reported after a clean stop: %v", err)
	default:
	}
}

// TestRelayServeTakenPort: a taken http_addr fails the start at once.
func TestRelayServeTakenPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := testRelay(t).Serve(context.Background(), l.Addr().String()); err == nil || !strings.Contains(err.Error(), "http_addr") {
		t.Fatalf("serving on a taken port: %v", err)
	}
}

// TestConfigHTTPAddr: http_addr is optional, and must be host:port.
func TestConfigHTTPAddr(t *testing.T) {
	base := "data_dir = \"d\"\nkey_file = \"k\"\n[hub]\nchain_id = \"hub\"\nnode = \"127.0.0.1:1\"\n[[users]]\nchain_id = \"user-1\"\nnode = \"127.0.0.1:2\"\n"
	load := func(extra string) (*Config, error) {
		path := filepath.Join(t.TempDir(), "relay.toml")
		if err := os.WriteFile(path, []byte(extra+base), 0o600); err != nil {
			t.Fatal(err)
		}
		return LoadConfig(path)
	}
	if cfg, err := load(""); err != nil || cfg.HTTPAddr != "" {
		t.Fatalf("no http_addr: %v %+v", err, cfg)
	}
	if cfg, err := load("http_addr = \"127.0.0.1:9100\"\n"); err != nil || cfg.HTTPAddr != "127.0.0.1:9100" {
		t.Fatalf("http_addr: %v %+v", err, cfg)
	}
	for _, bad := range []string{"http_addr = \"9100\"\n", "http_addr = \"localhost\"\n", "http_addr = \"127.0.0.1:\"\n", "http_addr = 9100\n"} {
		if _, err := load(bad); err == nil {
			t.Errorf("%q loaded", bad)
		}
	}
}
