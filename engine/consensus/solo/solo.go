// Package solo is single-validator consensus for development chains: the one
// validator seals a block when enough transactions wait or when the oldest
// has waited an interval, signs the header (a one-signature finality
// certificate) and never produces an empty block.
//
// Like every consensus package it is a pure state machine: no clock, network
// or disk. The node feeds it Tick and the pool's size and acts on its answer.
package solo

// Config sets when to seal.
type Config struct {
	// IntervalTicks is how many ticks the first pending transaction may wait.
	IntervalTicks int `toml:"interval_ticks"`
	// BatchTxs seals at once when this many transactions wait.
	BatchTxs int `toml:"batch_txs"`
}

// Validate checks the config.
func (c Config) Validate() error {
	if c.IntervalTicks < 1 || c.BatchTxs < 1 {
		return errConfig
	}
	return nil
}

type configError string

func (e configError) Error() string { return string(e) }

const errConfig = configError("solo: interval_ticks and batch_txs must be at least 1")

// Solo decides when to seal.
type Solo struct {
	cfg     Config
	waiting int // ticks since transactions first waited; 0 when none wait
}

// New makes the state machine.
func New(cfg Config) *Solo { return &Solo{cfg: cfg} }

// Tick advances time by one tick with pending transactions waiting and
// reports whether to seal a block now.
func (s *Solo) Tick(pending int) bool {
	if pending == 0 {
		s.waiting = 0
		return false
	}
	s.waiting++
	return s.ready(pending)
}

// Arrived reports whether new arrivals make a block due before the next tick.
func (s *Solo) Arrived(pending int) bool { return pending > 0 && s.ready(pending) }

func (s *Solo) ready(pending int) bool {
	return pending >= s.cfg.BatchTxs || s.waiting >= s.cfg.IntervalTicks
}

// Sealed resets the wait after a block: leftovers wait afresh, and a full
// batch of them is due at once through Arrived.
func (s *Solo) Sealed() { s.waiting = 0 }
