package raft

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"
)

// Config is a Raft chain's tuning, the [chains.raft] table of a node's
// configuration. Zero fields take the defaults.
type Config struct {
	// HeartbeatMs is how long a follower waits for the leader before it
	// starts an election (hashicorp's HeartbeatTimeout).
	HeartbeatMs int `toml:"heartbeat_ms"`
	// ElectionMs bounds a candidate's election before it tries again.
	ElectionMs int `toml:"election_ms"`
	// CommitMs is the longest the leader waits before telling followers
	// the commit index without a new entry to carry it.
	CommitMs int `toml:"commit_ms"`
	// MaxAppendEntries bounds the blocks one AppendEntries carries.
	MaxAppendEntries int `toml:"max_append_entries"`
	// SnapshotThreshold is how many new log entries (blocks) trigger a
	// snapshot, checked every SnapshotIntervalMs.
	SnapshotThreshold uint64 `toml:"snapshot_threshold"`
	// SnapshotIntervalMs is how often the threshold is checked.
	SnapshotIntervalMs int `toml:"snapshot_interval_ms"`
	// TrailingLogs is how many entries stay in the log after a snapshot,
	// so that a follower slightly behind catches up from the log.
	TrailingLogs uint64 `toml:"trailing_logs"`
	// RPCTimeoutMs bounds one RPC to a peer.
	RPCTimeoutMs int `toml:"rpc_timeout_ms"`
	// BatchMs is how long the leader lets transactions gather after the
	// previous block before it proposes one that is not full: a chain
	// under light load makes a block per BatchMs, not one per transaction.
	BatchMs int `toml:"batch_ms"`
}

// DefaultConfig suits a LAN consortium: a dead leader is replaced in one
// to two seconds, a snapshot is taken every 1024 blocks.
func DefaultConfig() Config {
	return Config{HeartbeatMs: 1000, ElectionMs: 1000, CommitMs: 20, MaxAppendEntries: 16,
		SnapshotThreshold: 1024, SnapshotIntervalMs: 30_000, TrailingLogs: 256, RPCTimeoutMs: 10_000, BatchMs: 50}
}

// WithDefaults fills zero fields from DefaultConfig.
func (c Config) WithDefaults() Config {
	d := DefaultConfig()
	fill := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	fill(&c.HeartbeatMs, d.HeartbeatMs)
	// The defaults of the other timeouts follow a heartbeat set on its own.
	fill(&c.ElectionMs, max(d.ElectionMs, c.HeartbeatMs))
	fill(&c.CommitMs, min(d.CommitMs, c.HeartbeatMs))
	fill(&c.MaxAppendEntries, d.MaxAppendEntries)
	fill(&c.SnapshotIntervalMs, d.SnapshotIntervalMs)
	fill(&c.RPCTimeoutMs, d.RPCTimeoutMs)
	fill(&c.BatchMs, d.BatchMs)
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = d.SnapshotThreshold
	}
	if c.TrailingLogs == 0 {
		c.TrailingLogs = d.TrailingLogs
	}
	return c
}

// ErrConfig wraps every Raft configuration error.
var ErrConfig = errors.New("raft config")

// Validate checks ranges (after WithDefaults).
func (c Config) Validate() error {
	switch {
	case c.HeartbeatMs < 10 || c.HeartbeatMs > 60_000:
		return fmt.Errorf("%w: heartbeat_ms %d out of [10, 60000]", ErrConfig, c.HeartbeatMs)
	case c.ElectionMs < c.HeartbeatMs || c.ElectionMs > 120_000:
		return fmt.Errorf("%w: election_ms %d must be in [heartbeat_ms, 120000]", ErrConfig, c.ElectionMs)
	case c.CommitMs < 1 || c.CommitMs > c.HeartbeatMs:
		return fmt.Errorf("%w: commit_ms %d out of [1, heartbeat_ms]", ErrConfig, c.CommitMs)
	case c.MaxAppendEntries < 1 || c.MaxAppendEntries > 64:
		return fmt.Errorf("%w: max_append_entries %d out of [1, 64] (an entry is a whole block)", ErrConfig, c.MaxAppendEntries)
	case c.SnapshotIntervalMs < 10:
		return fmt.Errorf("%w: snapshot_interval_ms %d below 10", ErrConfig, c.SnapshotIntervalMs)
	case c.RPCTimeoutMs < 100:
		return fmt.Errorf("%w: rpc_timeout_ms %d below 100", ErrConfig, c.RPCTimeoutMs)
	case c.BatchMs < 1 || c.BatchMs > 10_000:
		return fmt.Errorf("%w: batch_ms %d out of [1, 10000]", ErrConfig, c.BatchMs)
	}
	return nil
}

// Raft returns hashicorp's configuration for validator self.
func (c Config) Raft(self common.Address, log *slog.Logger) *hraft.Config {
	rc := hraft.DefaultConfig()
	rc.LocalID = ServerID(self)
	rc.HeartbeatTimeout = time.Duration(c.HeartbeatMs) * time.Millisecond
	rc.ElectionTimeout = time.Duration(c.ElectionMs) * time.Millisecond
	rc.LeaderLeaseTimeout = min(rc.HeartbeatTimeout, max(rc.HeartbeatTimeout/2, 5*time.Millisecond))
	rc.CommitTimeout = time.Duration(c.CommitMs) * time.Millisecond
	rc.MaxAppendEntries = c.MaxAppendEntries
	rc.SnapshotThreshold = c.SnapshotThreshold
	rc.SnapshotInterval = time.Duration(c.SnapshotIntervalMs) * time.Millisecond
	rc.TrailingLogs = c.TrailingLogs
	rc.Logger = HCLogger(log)
	return rc
}

// RPCTimeout is RPCTimeoutMs as a duration.
func (c Config) RPCTimeout() time.Duration { return time.Duration(c.RPCTimeoutMs) * time.Millisecond }

// HCLogger routes hashicorp/raft's logs into slog, one record per line.
func HCLogger(log *slog.Logger) hclog.Logger {
	level := hclog.Info
	if !log.Enabled(context.Background(), slog.LevelInfo) {
		level = hclog.Warn
	}
	return hclog.New(&hclog.LoggerOptions{Name: "raft", Level: level, Output: slogWriter{log}, DisableTime: true})
}

type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	level := slog.LevelInfo
	switch {
	case strings.Contains(line, "[ERROR]"):
		level = slog.LevelError
	case strings.Contains(line, "[WARN]"):
		level = slog.LevelWarn
	case strings.Contains(line, "[DEBUG]"), strings.Contains(line, "[TRACE]"):
		level = slog.LevelDebug
	}
	w.l.Log(context.Background(), level, line, "component", "raft")
	return len(p), nil
}
