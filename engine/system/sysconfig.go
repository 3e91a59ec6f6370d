package system

import (
	"fmt"
	"sort"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/types"
)

// SystemConfigAddress is the SystemConfig precompile's fixed address.
var SystemConfigAddress = common.HexToAddress("0x1000")

// Configuration keys. A change takes effect from the block after the one
// that commits it: the pool and the block builder read the head's state.
const (
	CfgTxGasLimit      = "tx_gas_limit"      // gas one transaction may declare
	CfgBlockGasLimit   = "block_gas_limit"   // sum of declared gas in one block
	CfgBlockTxLimit    = "block_tx_limit"    // transactions in one block
	CfgTxWindow        = "tx_window"         // blocks: valid while head < blockLimit <= head + window
	CfgMaxTxBytes      = "max_tx_bytes"      // canonical size of one transaction
	CfgEpochIntervalMs = "epoch_interval_ms" // user chains: how often the relay settles
)

type cfgRange struct{ min, max, def uint64 }

var cfgKeys = map[string]cfgRange{
	CfgTxGasLimit:      {exec.TxGas, 1 << 32, 10_000_000},
	CfgBlockGasLimit:   {1_000_000, 1 << 42, 4_000_000_000},
	CfgBlockTxLimit:    {1, 100_000, 20_000},
	CfgTxWindow:        {1, 100_000, 600},
	CfgMaxTxBytes:      {1024, 8 << 20, 128 << 10},
	CfgEpochIntervalMs: {100, 86_400_000, 1000},
}

// ConfigKeys lists the known keys, sorted.
func ConfigKeys() []string {
	out := make([]string, 0, len(cfgKeys))
	for k := range cfgKeys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func cfgStateKey(k string) string { return "sys/cfg/" + k }

// CheckConfig validates a key and value.
func CheckConfig(key string, v uint64) error {
	r, ok := cfgKeys[key]
	if !ok {
		return fmt.Errorf("unknown config key %q (known: %v)", key, ConfigKeys())
	}
	if v < r.min || v > r.max {
		return fmt.Errorf("%s = %d out of range [%d, %d]", key, v, r.min, r.max)
	}
	return nil
}

// Config is a snapshot of the chain's configuration.
type Config struct {
	TxGasLimit, BlockGasLimit, BlockTxLimit, TxWindow, MaxTxBytes, EpochIntervalMs uint64
}

// GetConfig reads key from r, or its default when never set.
func GetConfig(r state.Reader, key string) uint64 {
	if v := r.Get([]byte(cfgStateKey(key))); v != nil {
		return state.DecodeUint(v).Uint64()
	}
	return cfgKeys[key].def
}

// ReadConfig reads every key.
func ReadConfig(r state.Reader) Config {
	return Config{
		TxGasLimit: GetConfig(r, CfgTxGasLimit), BlockGasLimit: GetConfig(r, CfgBlockGasLimit),
		BlockTxLimit: GetConfig(r, CfgBlockTxLimit), TxWindow: GetConfig(r, CfgTxWindow),
		MaxTxBytes: GetConfig(r, CfgMaxTxBytes), EpochIntervalMs: GetConfig(r, CfgEpochIntervalMs),
	}
}

// SetConfigGenesis writes a key directly (genesis only).
func SetConfigGenesis(w state.Writer, key string, v uint64) error {
	if err := CheckConfig(key, v); err != nil {
		return err
	}
	w.Set([]byte(cfgStateKey(key)), state.EncodeUint(uint256New(v)))
	return nil
}

var evConfigChanged = exec.NewABIEvent("ConfigChanged", exec.Args("string key", "uint256 value"))

// NewSystemConfig builds the SystemConfig precompile.
func NewSystemConfig() *exec.Contract {
	return exec.NewContract(SystemConfigAddress, "SystemConfig", []*exec.Method{
		{ABI: exec.NewABIMethod("setValue", false, exec.Args("string key", "uint256 value"), nil), Gas: 20000,
			Keys: func(caller common.Address, a []any) []exec.Access {
				return []exec.Access{{Key: RoleKey(RoleAdmin, caller), Mode: exec.Read}, {Key: cfgStateKey(a[0].(string)), Mode: exec.Write}}
			},
			Run: setValue},
		{ABI: exec.NewABIMethod("getValue", true, exec.Args("string key"), exec.Args("uint256")), Gas: 2000,
			Keys: func(_ common.Address, a []any) []exec.Access {
				return []exec.Access{{Key: cfgStateKey(a[0].(string)), Mode: exec.Read}}
			},
			Run: func(env *exec.Env, a []any) ([]any, error) {
				key := a[0].(string)
				if _, ok := cfgKeys[key]; !ok {
					return nil, exec.Fail(types.StatusNotFound, "unknown config key %q", key)
				}
				return []any{uint256New(GetConfig(env.State, key)).ToBig()}, nil
			}},
	}, evConfigChanged)
}

func setValue(env *exec.Env, a []any) ([]any, error) {
	if err := RequireRole(env, RoleAdmin); err != nil {
		return nil, err
	}
	key, v := a[0].(string), exec.Amount(a[1])
	if !v.IsUint64() {
		return nil, exec.Fail(types.StatusInvalidArgument, "%s: value too large", key)
	}
	if err := CheckConfig(key, v.Uint64()); err != nil {
		return nil, exec.Fail(types.StatusInvalidArgument, "%v", err)
	}
	env.State.Set([]byte(cfgStateKey(key)), state.EncodeUint(v))
	data, _ := evConfigChanged.Inputs.Pack(key, v.ToBig())
	env.Emit(SystemConfigAddress, evConfigChanged, nil, data)
	return nil, nil
}

func uint256New(v uint64) *uint256.Int { return uint256.NewInt(v) }
