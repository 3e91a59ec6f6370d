package simulation

import (
	"errors"
	"fmt"
	"time"
)

// Config is one simulation run. Zero values take the defaults of DefaultConfig.
type Config struct {
	// Chains is the number of user chains.
	Chains int `toml:"chains" json:"chains"`
	// Validators per chain (hub included): 1 runs solo; more run PBFT over
	// the simulator's seeded in-process network.
	Validators int `toml:"validators" json:"validators"`
	// UserConsensus is the user chains' consensus when they have several
	// validators: "pbft" (default) or "raft". The hub runs PBFT.
	UserConsensus string `toml:"user_consensus" json:"user_consensus,omitempty"`
	// UserValidators, if > 0, is the user chains' validator count (the hub
	// keeps Validators): e.g. a 4-validator PBFT hub over 3-validator Raft chains.
	UserValidators int `toml:"user_validators" json:"user_validators,omitempty"`
	// Users is the number of users, spread over the chains.
	Users int `toml:"users" json:"users"`
	// Merchants is the number of hot accounts; popularity follows Zipf(ZipfS).
	Merchants int `toml:"merchants" json:"merchants"`
	// ZipfS is the Zipf exponent (> 1); larger makes merchant 0 more dominant.
	ZipfS float64 `toml:"zipf_s" json:"zipf_s"`
	// HotShare, if > 0, sends this fraction of payments to merchant 0 and the rest by Zipf.
	HotShare float64 `toml:"hot_share" json:"hot_share"`
	// RatePerSec is the open-loop offered load; 0 runs closed-loop at maximum.
	RatePerSec int `toml:"rate" json:"rate"`
	// Duration is how long load is offered.
	Duration time.Duration `toml:"duration" json:"duration"`
	// Mix is the share of each operation among generated operations.
	Mix Mix `toml:"mix" json:"mix"`
	// EpochInterval is how often user chains settle.
	EpochInterval time.Duration `toml:"epoch_interval" json:"epoch_interval"`
	// Suite is secp256k1 or sm.
	Suite string `toml:"suite" json:"suite"`
	// Seed makes the workload and faults reproducible.
	Seed uint64 `toml:"seed" json:"seed"`
	// Baseline "single-chain" runs all users and merchants on one chain with
	// payments as plain Ledger transfers to the merchants, and no hub.
	Baseline string `toml:"baseline" json:"baseline"`
	// Faults to inject.
	Faults []Fault `toml:"faults" json:"faults"`
	// TickMs is the consensus tick.
	TickMs int `toml:"tick_ms" json:"tick_ms"`
	// Dir holds the nodes' data; empty uses a temporary directory.
	Dir string `toml:"dir" json:"-"`
}

// Mix weights operations; they need not sum to 1.
type Mix struct {
	Pay      float64 `toml:"pay" json:"pay"`
	Transfer float64 `toml:"transfer" json:"transfer"`
	Payout   float64 `toml:"payout" json:"payout"`
}

// Fault is one injected fault.
type Fault struct {
	// Kind is "restart-node" (a user chain's node crashes and restarts from
	// disk), "crash-relay" (the relay dies and restarts from its cursors),
	// "pause-relay" (the relay is held back for For), "add-chain" (a new
	// user chain joins mid-run, with users of its own), "partition" (a
	// validator of Chain is cut off for For) or "drop-messages" (consensus
	// messages are dropped and delayed for For); the last two need PBFT.
	Kind string `toml:"kind" json:"kind"`
	// At is when, from the start of the load.
	At time.Duration `toml:"at" json:"at"`
	// For is how long the fault lasts (pause-relay; restart-node downtime).
	For time.Duration `toml:"for" json:"for"`
	// Chain is the target user chain's index (restart-node).
	Chain int `toml:"chain" json:"chain"`
}

// DefaultConfig finishes in well under two minutes on two cores.
func DefaultConfig() Config {
	return Config{Chains: 4, Validators: 1, Users: 2000, Merchants: 10, ZipfS: 1.3, RatePerSec: 2000, Duration: 20 * time.Second,
		Mix: Mix{Pay: 0.80, Transfer: 0.15, Payout: 0.05}, EpochInterval: time.Second, Suite: "secp256k1", Seed: 1, TickMs: 10}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Chains < 1 || c.Chains > 64:
		return fmt.Errorf("chains %d: use 1..64", c.Chains)
	case c.Validators < 1 || c.Validators > 16:
		return fmt.Errorf("validators %d: use 1..16", c.Validators)
	case c.Users < c.Chains || c.Users > 1_000_000:
		return fmt.Errorf("users %d: at least one per chain, at most 1000000", c.Users)
	case c.Merchants < 1 || c.Merchants > 1000:
		return fmt.Errorf("merchants %d: use 1..1000", c.Merchants)
	case c.ZipfS <= 1:
		return fmt.Errorf("zipf_s %v must be > 1", c.ZipfS)
	case c.HotShare < 0 || c.HotShare > 1:
		return fmt.Errorf("hot_share %v: use 0..1", c.HotShare)
	case c.RatePerSec < 0 || c.Duration <= 0 || c.Duration > 24*time.Hour:
		return errors.New("rate must be >= 0 and duration in (0, 24h]")
	case c.Mix.Pay < 0 || c.Mix.Transfer < 0 || c.Mix.Payout < 0 || c.Mix.Pay+c.Mix.Transfer+c.Mix.Payout == 0:
		return errors.New("mix weights must be >= 0 and not all zero")
	case c.EpochInterval < 50*time.Millisecond:
		return fmt.Errorf("epoch_interval %s: at least 50ms", c.EpochInterval)
	case c.Baseline != "" && c.Baseline != "single-chain":
		return fmt.Errorf("baseline %q: the only baseline is single-chain", c.Baseline)
	case c.TickMs < 1:
		return errors.New("tick_ms must be >= 1")
	case c.UserConsensus != "" && c.UserConsensus != "pbft" && c.UserConsensus != "raft":
		return fmt.Errorf("user_consensus %q: use pbft or raft", c.UserConsensus)
	case c.UserValidators < 0 || c.UserValidators > 16:
		return fmt.Errorf("user_validators %d: use 0 (as validators) or 1..16", c.UserValidators)
	}
	for i, f := range c.Faults {
		if err := f.validate(c); err != nil {
			return fmt.Errorf("faults[%d]: %w", i, err)
		}
	}
	return nil
}

func (f Fault) validate(c *Config) error {
	switch f.Kind {
	case "restart-node", "crash-relay", "pause-relay", "add-chain":
	case "partition", "drop-messages":
		if need := c.faultTolerantSize(); c.userValidators() < need {
			return fmt.Errorf("%s needs user chains that survive a fault: %d or more validators", f.Kind, need)
		}
	default:
		return fmt.Errorf("kind %q: use restart-node, crash-relay, pause-relay, add-chain, partition or drop-messages", f.Kind)
	}
	if f.At < 0 || f.At > c.Duration || f.For < 0 {
		return fmt.Errorf("at %s must fall inside the load (%s) and for must be >= 0", f.At, c.Duration)
	}
	if f.Chain < 0 || f.Chain >= c.Chains {
		return fmt.Errorf("chain %d: there are %d chains", f.Chain, c.Chains)
	}
	if c.Baseline != "" && f.Kind != "restart-node" {
		return errors.New("the single-chain baseline has no relay to fault")
	}
	return nil
}

// userValidators is the user chains' validator count.
func (c *Config) userValidators() int {
	if c.UserValidators > 0 {
		return c.UserValidators
	}
	return c.Validators
}

// faultTolerantSize is the smallest user chain that survives one faulty
// validator: 4 for PBFT (3f+1), 3 for Raft (2f+1).
func (c *Config) faultTolerantSize() int {
	if c.UserConsensus == "raft" {
		return 3
	}
	return 4
}
