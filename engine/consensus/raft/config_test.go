package raft

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	hraft "github.com/hashicorp/raft"
)

func TestConfigWithDefaults(t *testing.T) {
	d := DefaultConfig()
	if got := (Config{}).WithDefaults(); got != d {
		t.Fatalf("zero config: %+v, want %+v", got, d)
	}
	if err := d.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	// Set fields are kept, each one alone.
	set := Config{HeartbeatMs: 11, ElectionMs: 12, CommitMs: 13, MaxAppendEntries: 14, SnapshotThreshold: 15,
		SnapshotIntervalMs: 16, TrailingLogs: 17, RPCTimeoutMs: 18, BatchMs: 19}
	if got := set.WithDefaults(); got != set {
		t.Fatalf("full config changed: %+v", got)
	}
	// Each zero field, alone, takes its default; the others are kept.
	for i, f := range []struct {
		zero func(*Config)
		def  func(c *Config, d Config)
	}{
		{func(c *Config) { c.HeartbeatMs = 0 }, func(c *Config, d Config) { c.HeartbeatMs = d.HeartbeatMs }},
		{func(c *Config) { c.ElectionMs = 0 }, func(c *Config, d Config) { c.ElectionMs = max(d.ElectionMs, c.HeartbeatMs) }},
		{func(c *Config) { c.CommitMs = 0 }, func(c *Config, d Config) { c.CommitMs = min(d.CommitMs, c.HeartbeatMs) }},
		{func(c *Config) { c.MaxAppendEntries = 0 }, func(c *Config, d Config) { c.MaxAppendEntries = d.MaxAppendEntries }},
		{func(c *Config) { c.SnapshotThreshold = 0 }, func(c *Config, d Config) { c.SnapshotThreshold = d.SnapshotThreshold }},
		{func(c *Config) { c.SnapshotIntervalMs = 0 }, func(c *Config, d Config) { c.SnapshotIntervalMs = d.SnapshotIntervalMs }},
		{func(c *Config) { c.TrailingLogs = 0 }, func(c *Config, d Config) { c.TrailingLogs = d.TrailingLogs }},
		{func(c *Config) { c.RPCTimeoutMs = 0 }, func(c *Config, d Config) { c.RPCTimeoutMs = d.RPCTimeoutMs }},
		{func(c *Config) { c.BatchMs = 0 }, func(c *Config, d Config) { c.BatchMs = d.BatchMs }},
	} {
		c := set
		f.zero(&c)
		want := set
		f.def(&want, d)
		if got := c.WithDefaults(); got != want {
			t.Errorf("field %d: %+v, want %+v", i, got, want)
		}
	}
	// A heartbeat set alone carries the other timeouts' defaults with it.
	for _, hb := range []int{10, 5000, 60_000} {
		if err := (Config{HeartbeatMs: hb}).WithDefaults().Validate(); err != nil {
			t.Errorf("heartbeat_ms %d alone: %v", hb, err)
		}
	}
}

// fastest is the quickest configuration Validate accepts.
func fastest() Config {
	return Config{HeartbeatMs: 10, ElectionMs: 10, CommitMs: 1, MaxAppendEntries: 1, SnapshotThreshold: 1,
		SnapshotIntervalMs: 10, TrailingLogs: 1, RPCTimeoutMs: 100, BatchMs: 1}
}

// slowest is the slowest configuration Validate accepts.
func slowest() Config {
	return Config{HeartbeatMs: 60_000, ElectionMs: 120_000, CommitMs: 60_000, MaxAppendEntries: 64, SnapshotThreshold: 1 << 40,
		SnapshotIntervalMs: 1 << 30, TrailingLogs: 1 << 40, RPCTimeoutMs: 1 << 30, BatchMs: 10_000}
}

func TestConfigValidate(t *testing.T) {
	for name, c := range map[string]Config{"defaults": DefaultConfig(), "fastest": fastest(), "slowest": slowest()} {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Each case puts one field just out of range of a valid base.
	for name, tc := range map[string]struct {
		base Config
		f    func(*Config)
	}{
		"heartbeat below 10":       {fastest(), func(c *Config) { c.HeartbeatMs = 9 }},
		"heartbeat negative":       {fastest(), func(c *Config) { c.HeartbeatMs = -1 }},
		"heartbeat over 60000":     {slowest(), func(c *Config) { c.HeartbeatMs = 60_001 }},
		"election below heartbeat": {DefaultConfig(), func(c *Config) { c.ElectionMs = c.HeartbeatMs - 1 }},
		"election over 120000":     {slowest(), func(c *Config) { c.ElectionMs = 120_001 }},
		"commit 0":                 {fastest(), func(c *Config) { c.CommitMs = 0 }},
		"commit over heartbeat":    {slowest(), func(c *Config) { c.CommitMs = c.HeartbeatMs + 1 }},
		"max append 0":             {fastest(), func(c *Config) { c.MaxAppendEntries = 0 }},
		"max append 65":            {slowest(), func(c *Config) { c.MaxAppendEntries = 65 }},
		"snapshot interval 9":      {fastest(), func(c *Config) { c.SnapshotIntervalMs = 9 }},
		"rpc timeout 99":           {fastest(), func(c *Config) { c.RPCTimeoutMs = 99 }},
		"rpc timeout negative":     {fastest(), func(c *Config) { c.RPCTimeoutMs = -5 }},
		"batch 0":                  {fastest(), func(c *Config) { c.BatchMs = 0 }},
		"batch too long":           {fastest(), func(c *Config) { c.BatchMs = 10_001 }},
	} {
		if err := tc.base.Validate(); err != nil {
			t.Fatalf("%s: base invalid: %v", name, err)
		}
		c := tc.base
		tc.f(&c)
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: got %v, want ErrConfig", name, err)
		}
	}
	// Zero fields are filled before validating; unfilled they are refused.
	if err := (Config{}).Validate(); !errors.Is(err, ErrConfig) {
		t.Errorf("unfilled zero config: %v", err)
	}
}

// Every configuration Validate accepts is one hashicorp accepts.
func TestConfigRaftValid(t *testing.T) {
	self := common.HexToAddress("0x00000000000000000000000000000000000000Ab")
	log := slog.New(slog.DiscardHandler)
	cases := map[string]Config{"defaults": DefaultConfig(), "fastest": fastest(), "slowest": slowest(),
		"heartbeat 11": func() Config { c := fastest(); c.HeartbeatMs, c.ElectionMs = 11, 11; return c }()}
	for name, c := range cases {
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rc := c.Raft(self, log)
		if err := hraft.ValidateConfig(rc); err != nil {
			t.Errorf("%s: hashicorp refuses it: %v", name, err)
		}
		ms := time.Millisecond
		if rc.LocalID != ServerID(self) || rc.HeartbeatTimeout != time.Duration(c.HeartbeatMs)*ms ||
			rc.ElectionTimeout != time.Duration(c.ElectionMs)*ms || rc.CommitTimeout != time.Duration(c.CommitMs)*ms ||
			rc.MaxAppendEntries != c.MaxAppendEntries || rc.SnapshotThreshold != c.SnapshotThreshold ||
			rc.SnapshotInterval != time.Duration(c.SnapshotIntervalMs)*ms || rc.TrailingLogs != c.TrailingLogs {
			t.Errorf("%s: hashicorp config %+v does not carry %+v", name, rc, c)
		}
		if rc.LeaderLeaseTimeout > rc.HeartbeatTimeout || rc.LeaderLeaseTimeout < 5*ms {
			t.Errorf("%s: lease %v for heartbeat %v", name, rc.LeaderLeaseTimeout, rc.HeartbeatTimeout)
		}
		if c.RPCTimeout() != time.Duration(c.RPCTimeoutMs)*ms {
			t.Errorf("%s: RPCTimeout %v", name, c.RPCTimeout())
		}
	}
	if string(ServerID(self)) != strings.ToLower(self.Hex()) {
		t.Fatalf("ServerID %q", ServerID(self))
	}
	if a, err := AddressOf(string(ServerID(self))); err != nil || a != self {
		t.Fatalf("AddressOf: %v, %v", a, err)
	}
	for _, bad := range []string{"", "node-1", "0x1234", self.Hex() + "00"} {
		if _, err := AddressOf(bad); err == nil {
			t.Errorf("AddressOf(%q) accepted", bad)
		}
	}
}

// hashicorp's log lines land in slog at their own level.
func TestHCLogger(t *testing.T) {
	var buf bytes.Buffer
	h := slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	l := HCLogger(slog.New(h))
	l.Info("hello", "k", 1)
	l.Warn("careful")
	l.Error("broken")
	l.Debug("hidden") // hclog level is Info
	out := buf.String()
	for _, want := range []string{"level=INFO", "hello", "level=WARN", "careful", "level=ERROR", "broken", "component=raft"} {
		if !strings.Contains(out, want) {
			t.Errorf("log output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hidden") {
		t.Errorf("debug line logged:\n%s", out)
	}
	// A quiet logger (warnings and up) drops hashicorp's info lines.
	buf.Reset()
	quiet := HCLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})))
	quiet.Info("chatter")
	quiet.Warn("heeded")
	if strings.Contains(buf.String(), "chatter") || !strings.Contains(buf.String(), "heeded") {
		t.Errorf("quiet logger:\n%s", buf.String())
	}
	// slogWriter maps levels by tag.
	var recs []slog.Level
	w := slogWriter{slog.New(levelRecorder{&recs})}
	for _, line := range []string{"[ERROR] a", "[WARN]  b", "[DEBUG] c", "[TRACE] d", "[INFO]  e", "plain"} {
		w.Write([]byte(line + "\n"))
	}
	want := []slog.Level{slog.LevelError, slog.LevelWarn, slog.LevelDebug, slog.LevelDebug, slog.LevelInfo, slog.LevelInfo}
	if len(recs) != len(want) {
		t.Fatalf("%d records", len(recs))
	}
	for i := range want {
		if recs[i] != want[i] {
			t.Errorf("line %d at %v, want %v", i, recs[i], want[i])
		}
	}
}

type levelRecorder struct{ levels *[]slog.Level }

func (levelRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r levelRecorder) Handle(_ context.Context, rec slog.Record) error {
	*r.levels = append(*r.levels, rec.Level)
	return nil
}
func (r levelRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r levelRecorder) WithGroup(string) slog.Handler      { return r }
