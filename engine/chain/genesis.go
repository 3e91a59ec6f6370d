package chain

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"os"
	"sort"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/holiman/uint256"
	"github.com/pelletier/go-toml/v2"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
)

// Consensus kinds a genesis may name.
const (
	ConsensusSolo = "solo"
	ConsensusPBFT = "pbft"
	ConsensusRaft = "raft"
)

// Genesis is a chain's founding document, read from TOML.
type Genesis struct {
	// ChainID names the chain; every transaction and message carries it.
	ChainID string `toml:"chain_id"`
	// Suite is "secp256k1" or "sm".
	Suite string `toml:"suite"`
	// Consensus is "solo", "pbft" or "raft".
	Consensus string `toml:"consensus"`
	// App names the application the chain runs on top of the engine:
	// "" (base precompiles only), "user" (a user chain) or "hub".
	App string `toml:"app,omitempty"`
	// TimestampMs is the genesis block's time (Unix milliseconds).
	TimestampMs uint64 `toml:"timestamp_ms"`
	// Validators certify blocks; solo has exactly one.
	Validators []GenesisValidator `toml:"validators"`
	// Roles maps a role name to the accounts holding it.
	Roles map[string][]string `toml:"roles"`
	// Balances are initial holdings, counted as issued.
	Balances []GenesisBalance `toml:"balances"`
	// Config overrides SystemConfig defaults (keys as in system.ConfigKeys).
	Config map[string]uint64 `toml:"config"`
	// Setup calls run at genesis, in order, after roles and balances: how a
	// consortium's genesis registers light clients, merchants and the
	// directory through the applications' own precompiles. Each must succeed.
	Setup []GenesisCall `toml:"setup,omitempty"`
}

// GenesisCall is one precompile call made at genesis.
type GenesisCall struct {
	// From is the caller (it must hold whatever role the call needs).
	From string `toml:"from"`
	// To is the precompile's address.
	To string `toml:"to"`
	// Data is the hex ABI-encoded call.
	Data string `toml:"data"`
	// Note says what the call does, for people reading the file.
	Note string `toml:"note,omitempty"`
}

// GenesisValidator is one validator.
type GenesisValidator struct {
	// PubKey is the hex 65-byte uncompressed public key; the address derives from it.
	PubKey string `toml:"pubkey"`
	// Name is informational (e.g. "node0").
	Name string `toml:"name,omitempty"`
}

// GenesisBalance is one initial holding.
type GenesisBalance struct {
	Asset   string `toml:"asset"`
	Address string `toml:"address"`
	// Amount is a decimal string in minor units.
	Amount string `toml:"amount"`
}

// ErrGenesis wraps every genesis validation failure.
var ErrGenesis = errors.New("genesis")

// LoadGenesis reads and validates a TOML genesis file.
func LoadGenesis(path string) (*Genesis, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseGenesis(b)
}

// ParseGenesis parses and validates TOML; unknown fields are errors.
func ParseGenesis(b []byte) (*Genesis, error) {
	var g Genesis
	dec := toml.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrGenesis, err)
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return &g, nil
}

// Marshal renders the genesis as TOML.
func (g *Genesis) Marshal() ([]byte, error) { return toml.Marshal(g) }

// Validate checks the whole document.
func (g *Genesis) Validate() error {
	if err := validateChainID(g.ChainID); err != nil {
		return fmt.Errorf("%w: %v", ErrGenesis, err)
	}
	s, err := crypto.ByName(g.Suite)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrGenesis, err)
	}
	if _, err := g.ValidatorSet(s); err != nil {
		return err
	}
	switch g.Consensus {
	case ConsensusSolo:
		if len(g.Validators) != 1 {
			return fmt.Errorf("%w: solo consensus needs exactly one validator, got %d", ErrGenesis, len(g.Validators))
		}
	case ConsensusPBFT, ConsensusRaft:
	default:
		return fmt.Errorf("%w: consensus %q: use solo, pbft or raft", ErrGenesis, g.Consensus)
	}
	for i, c := range g.Setup {
		if !common.IsHexAddress(c.From) || !common.IsHexAddress(c.To) {
			return fmt.Errorf("%w: setup[%d]: from and to must be addresses", ErrGenesis, i)
		}
		if _, err := hexutil.Decode(c.Data); err != nil {
			return fmt.Errorf("%w: setup[%d] data: %v", ErrGenesis, i, err)
		}
	}
	switch g.App {
	case AppBase, AppUser, AppHub:
	default:
		return fmt.Errorf("%w: app %q: use \"\", %q or %q", ErrGenesis, g.App, AppUser, AppHub)
	}
	_, err = g.changes(nil)
	return err
}

// Applications a genesis may name.
const (
	AppBase = ""
	AppUser = "user"
	AppHub  = "hub"
)

func validateChainID(id string) error {
	if id == "" || len(id) > 64 {
		return fmt.Errorf("chain id must be 1-64 characters, got %q", id)
	}
	for _, c := range id {
		ok := c == '-' || c == '_' || c == '.' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		if !ok {
			return fmt.Errorf("chain id %q: only letters, digits, '-', '_' and '.'", id)
		}
	}
	return nil
}

// SuiteOf returns the genesis suite.
func (g *Genesis) SuiteOf() crypto.Suite {
	s, err := crypto.ByName(g.Suite)
	if err != nil {
		panic(err) // Validate ran
	}
	return s
}

// ValidatorSet returns the initial validator set.
func (g *Genesis) ValidatorSet(s crypto.Suite) (*types.ValidatorSet, error) {
	vals := make([]types.Validator, 0, len(g.Validators))
	for i, v := range g.Validators {
		pub, err := hexutil.Decode(v.PubKey)
		if err != nil {
			return nil, fmt.Errorf("%w: validator %d pubkey: %v", ErrGenesis, i, err)
		}
		addr, err := s.Address(pub)
		if err != nil {
			return nil, fmt.Errorf("%w: validator %d: %v", ErrGenesis, i, err)
		}
		vals = append(vals, types.Validator{Address: addr, PubKey: pub})
	}
	vs, err := types.NewValidatorSet(s, vals)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrGenesis, err)
	}
	return vs, nil
}

// Hash is the suite hash of the genesis document's canonical form; it is
// the genesis block's parent hash, so two chains with different genesis
// documents never share a block hash.
func (g *Genesis) Hash() common.Hash {
	s := g.SuiteOf()
	type kv struct{ K, V string }
	var roles []kv
	for r, accts := range g.Roles {
		for _, a := range accts {
			roles = append(roles, kv{r, common.HexToAddress(a).Hex()})
		}
	}
	sort.Slice(roles, func(i, j int) bool { return roles[i].K+roles[i].V < roles[j].K+roles[j].V })
	var cfg []kv
	for _, k := range system.ConfigKeys() {
		if v, ok := g.Config[k]; ok {
			cfg = append(cfg, kv{k, fmt.Sprint(v)})
		}
	}
	enc, err := rlp.EncodeToBytes([]any{"tally/genesis", g.ChainID, g.Suite, g.Consensus, g.App, g.TimestampMs, g.Validators, roles, g.Balances, cfg, g.Setup})
	if err != nil {
		panic(err)
	}
	return s.Hash(enc)
}

// changes computes the genesis state; with an executor it also runs the
// setup calls (without one, as in Validate, it checks the rest).
func (g *Genesis) changes(x *exec.Executor) ([]state.Change, error) {
	blk := state.NewBlock(emptyBackend{})
	if err := g.apply(blk); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrGenesis, err)
	}
	if x != nil {
		if err := g.runSetup(x, blk); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrGenesis, err)
		}
	}
	return blk.Changes(), nil
}

func (g *Genesis) runSetup(x *exec.Executor, blk *state.Block) error {
	bc := &exec.BlockContext{ChainID: g.ChainID, Height: 0, Timestamp: g.TimestampMs, Suite: g.SuiteOf()}
	for i, c := range g.Setup {
		to := common.HexToAddress(c.To)
		data, _ := hexutil.Decode(c.Data)
		tx := &types.Tx{ChainID: g.ChainID, To: &to, Gas: 1 << 32, Data: data}
		tx.Nonce = g.SuiteOf().Hash([]byte("tally/genesis-setup"), []byte{byte(i >> 8), byte(i)})
		r, err := x.ApplyTx(bc, blk, tx, common.HexToAddress(c.From))
		if err != nil {
			return err
		}
		if r.Status != types.StatusOK {
			reason, _ := exec.RevertReason(r.Output)
			return fmt.Errorf("setup[%d] (%s) failed: %v: %s", i, c.Note, r.Status, reason)
		}
	}
	return nil
}

func (g *Genesis) apply(w state.Writer) error {
	s := g.SuiteOf()
	vs, err := g.ValidatorSet(s)
	if err != nil {
		return err
	}
	w.Set([]byte(KeyValidators), vs.Encode())
	w.Set([]byte(KeyConsensus), []byte(g.Consensus))
	for _, k := range sortedKeys(g.Config) {
		if err := system.SetConfigGenesis(w, k, g.Config[k]); err != nil {
			return err
		}
	}
	for _, role := range sortedKeys(g.Roles) {
		for _, a := range g.Roles[role] {
			if !common.IsHexAddress(a) {
				return fmt.Errorf("role %s: %q is not an address", role, a)
			}
			if err := system.GrantGenesis(w, role, common.HexToAddress(a)); err != nil {
				return err
			}
		}
	}
	return g.applyBalances(w)
}

func (g *Genesis) applyBalances(w state.Writer) error {
	for i, b := range g.Balances {
		amt, ok := new(big.Int).SetString(b.Amount, 10)
		if !ok || amt.Sign() <= 0 {
			return fmt.Errorf("balance %d: amount %q is not a positive integer of minor units", i, b.Amount)
		}
		x, overflow := uint256.FromBig(amt)
		if overflow || !common.IsHexAddress(b.Address) {
			return fmt.Errorf("balance %d: bad amount or address %q", i, b.Address)
		}
		if err := ledger.IssueGenesis(w, b.Asset, common.HexToAddress(b.Address), x); err != nil {
			return fmt.Errorf("balance %d: %v", i, err)
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type emptyBackend struct{}

func (emptyBackend) Get([]byte) []byte { return nil }
