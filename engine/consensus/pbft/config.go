package pbft

import (
	"fmt"
	"log/slog"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/types"
)

// Signer signs 32-byte digests with this validator's key. crypto.PrivateKey
// satisfies it; an HSM or remote signer can too.
type Signer interface {
	Sign(digest common.Hash) ([]byte, error)
}

// Config is one validator's view of one chain. Time is counted in ticks: the
// node decides how long a tick is (e.g. 100ms) and calls Machine.Tick that often.
type Config struct {
	// ChainID is carried in and checked on every message.
	ChainID string
	// Suite hashes and verifies for this chain.
	Suite crypto.Suite
	// Validators is the chain's validator set; leaders rotate over it by (height+view) mod n.
	Validators *types.ValidatorSet
	// Self is this validator's address; it must be in Validators.
	Self common.Address
	// Signer signs with Self's key.
	Signer Signer
	// BaseTimeoutTicks is how long view 0 of a height may run while work is
	// pending before this validator asks for a view change. Each further view
	// at the same height doubles it, up to MaxTimeoutTicks.
	BaseTimeoutTicks int
	// MaxTimeoutTicks caps the doubled view timeout.
	MaxTimeoutTicks int
	// MaxBlockBytes bounds a proposal's block; larger ones are rejected.
	MaxBlockBytes int
	// MaxViewsAhead bounds memory: votes for views beyond view+MaxViewsAhead are dropped.
	MaxViewsAhead uint64
	// MaxFutureMsgs is how many messages per validator for height+1 are
	// buffered while this validator finishes the current height.
	MaxFutureMsgs int
	// SyncRetryTicks is how often the same sync request may be repeated.
	SyncRetryTicks int
	// ReplyIntervalTicks rate-limits the help (certificate, new-view) sent to
	// one lagging validator.
	ReplyIntervalTicks int
	// Logger gets structured logs with chain, height and view; nil discards them.
	Logger *slog.Logger
}

// DefaultConfig returns the tunables; the caller fills in ChainID, Suite,
// Validators, Self and Signer. Timeouts assume a tick of about 100ms.
func DefaultConfig() Config {
	return Config{
		BaseTimeoutTicks:   30,
		MaxTimeoutTicks:    600,
		MaxBlockBytes:      types.MaxDecodeBytes,
		MaxViewsAhead:      64,
		MaxFutureMsgs:      16,
		SyncRetryTicks:     50,
		ReplyIntervalTicks: 10,
	}
}

// Validate reports the first unusable field.
func (c *Config) Validate() error {
	switch {
	case c.ChainID == "" || len(c.ChainID) > MaxChainIDBytes:
		return fmt.Errorf("%w: chain id must be 1..%d bytes", ErrConfig, MaxChainIDBytes)
	case c.Suite == nil || c.Signer == nil:
		return fmt.Errorf("%w: suite and signer are required", ErrConfig)
	case c.Validators == nil || c.Validators.Len() == 0 || c.Validators.Len() > MaxValidators:
		return fmt.Errorf("%w: need 1..%d validators", ErrConfig, MaxValidators)
	case !c.Validators.Contains(c.Self):
		return fmt.Errorf("%w: self %s is not a validator", ErrConfig, c.Self)
	case c.BaseTimeoutTicks < 1 || c.MaxTimeoutTicks < c.BaseTimeoutTicks:
		return fmt.Errorf("%w: need 1 <= BaseTimeoutTicks <= MaxTimeoutTicks", ErrConfig)
	case c.MaxBlockBytes < 1 || c.MaxBlockBytes > types.MaxDecodeBytes:
		return fmt.Errorf("%w: MaxBlockBytes must be 1..%d", ErrConfig, types.MaxDecodeBytes)
	case c.MaxViewsAhead < 1 || c.MaxFutureMsgs < 0 || c.SyncRetryTicks < 1 || c.ReplyIntervalTicks < 1:
		return fmt.Errorf("%w: MaxViewsAhead, SyncRetryTicks and ReplyIntervalTicks must be positive", ErrConfig)
	}
	return nil
}
