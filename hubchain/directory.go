package hubchain

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/settlement"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
)

// DirectoryAddress is the Directory precompile's fixed address.
var DirectoryAddress = settlement.DirectoryAddress

// Rule kinds, matched in order before the default.
const (
	RuleInstitution = "institution" // users assigned with this institution
	RulePrefix      = "prefix"      // users whose lower-case hex address starts with Match (after 0x)
)

// Rule sends matching new users to Chain.
type Rule struct {
	Kind  string
	Match string
	Chain string
}

// Rules is a versioned, governed rule list.
type Rules struct {
	Version uint64
	Rules   []Rule
}

// ChainEntry is a user chain in the directory; only open chains take new users.
type ChainEntry struct {
	ID   string
	Open bool
}

// State keys: dir/u/ADDR (assigned chain), dir/chains, dir/rules.
const (
	keyDirChains = "dir/chains"
	keyDirRules  = "dir/rules"
)

func userKey(u common.Address) string { return "dir/u/" + string(u[:]) }

var (
	evAssigned     = exec.NewABIEvent("Assigned", exec.Args("address user", "string chain"), "user")
	evRulesChanged = exec.NewABIEvent("RulesChanged", exec.Args("uint64 version"))
	evChainsChange = exec.NewABIEvent("ChainsChanged", exec.Args("string chain", "bool open"))
)

// MaxAssignBatch bounds one assign call.
const MaxAssignBatch = 1000

// NewDirectory builds the Directory precompile.
func NewDirectory() *exec.Contract {
	return exec.NewContract(DirectoryAddress, "Directory", []*exec.Method{
		{ABI: exec.NewABIMethod("setChainOpen", false, exec.Args("string chain", "bool open"), nil), Gas: GasAdmin, Run: setChainOpen},
		{ABI: exec.NewABIMethod("setRules", false, exec.Args("bytes rules"), exec.Args("uint64")), Gas: GasAdmin, Run: setRules},
		{ABI: exec.NewABIMethod("assign", false, exec.Args("address[] users"), exec.Args("string[]")), Gas: GasView, Run: assign},
		{ABI: exec.NewABIMethod("assignInstitution", false, exec.Args("address[] users", "string institution"), exec.Args("string[]")),
			Gas: GasView, Run: assignInstitution},
		{ABI: exec.NewABIMethod("chainOf", true, exec.Args("address user"), exec.Args("string chain", "bool assigned")), Gas: GasView, Run: chainOf},
		{ABI: exec.NewABIMethod("chains", true, nil, exec.Args("string[] ids", "bool[] open")), Gas: GasView, Run: dirChains},
		{ABI: exec.NewABIMethod("rules", true, nil, exec.Args("uint64 version", "bytes rules")), Gas: GasView, Run: rulesView},
	}, evAssigned, evRulesChanged, evChainsChange)
}

func readDirChains(r state.Reader) []ChainEntry {
	var cs []ChainEntry
	if b := r.Get([]byte(keyDirChains)); b != nil {
		if err := rlp.DecodeBytes(b, &cs); err != nil {
			panic("hubchain: corrupt directory chains: " + err.Error())
		}
	}
	return cs
}

// ReadRules decodes the rule list in r.
func ReadRules(r state.Reader) Rules {
	var rs Rules
	if b := r.Get([]byte(keyDirRules)); b != nil {
		if err := rlp.DecodeBytes(b, &rs); err != nil {
			panic("hubchain: corrupt directory rules: " + err.Error())
		}
	}
	return rs
}

// setChainOpen adds a registered user chain to the directory or opens or
// closes it to new users. Existing users never move.
func setChainOpen(env *exec.Env, a []any) ([]any, error) {
	if err := system.RequireRole(env, system.RoleAdmin); err != nil {
		return nil, err
	}
	id, open := a[0].(string), a[1].(bool)
	if _, err := client(env.State, id); err != nil {
		return nil, err
	}
	cs := readDirChains(env.State)
	found := false
	for i := range cs {
		if cs[i].ID == id {
			cs[i].Open, found = open, true
		}
	}
	if !found {
		cs = append(cs, ChainEntry{ID: id, Open: open})
		sort.Slice(cs, func(i, j int) bool { return cs[i].ID < cs[j].ID })
	}
	enc, _ := rlp.EncodeToBytes(cs)
	env.State.Set([]byte(keyDirChains), enc)
	data, _ := evChainsChange.Inputs.Pack(id, open)
	env.Emit(DirectoryAddress, evChainsChange, nil, data)
	return nil, nil
}

// DecodeRules parses and checks a rule list (without its version).
func DecodeRules(b []byte) ([]Rule, error) {
	var rs []Rule
	if err := rlp.DecodeBytes(b, &rs); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	for i, r := range rs {
		if (r.Kind != RuleInstitution && r.Kind != RulePrefix) || r.Match == "" || r.Chain == "" {
			return nil, fmt.Errorf("rule %d: kind must be %q or %q, with a match and a chain", i, RuleInstitution, RulePrefix)
		}
	}
	return rs, nil
}

func setRules(env *exec.Env, a []any) ([]any, error) {
	if err := system.RequireRole(env, system.RoleAdmin); err != nil {
		return nil, err
	}
	rs, err := DecodeRules(a[0].([]byte))
	if err != nil {
		return nil, exec.Fail(types.StatusInvalidArgument, "%v", err)
	}
	for _, r := range rs {
		if _, err := client(env.State, r.Chain); err != nil {
			return nil, err
		}
	}
	next := Rules{Version: ReadRules(env.State).Version + 1, Rules: rs}
	enc, _ := rlp.EncodeToBytes(next)
	env.State.Set([]byte(keyDirRules), enc)
	data, _ := evRulesChanged.Inputs.Pack(next.Version)
	env.Emit(DirectoryAddress, evRulesChanged, nil, data)
	return []any{next.Version}, nil
}

// Route is where the rules send a new user: the first matching rule, else
// a hash of the address over the open chains (sorted by id).
func Route(suite interface{ Hash(...[]byte) common.Hash }, chains []ChainEntry, rules Rules, user common.Address, institution string) (string, error) {
	hexAddr := strings.ToLower(user.Hex()[2:])
	for _, r := range rules.Rules {
		if (r.Kind == RuleInstitution && institution != "" && r.Match == institution) || (r.Kind == RulePrefix && strings.HasPrefix(hexAddr, strings.ToLower(r.Match))) {
			return r.Chain, nil
		}
	}
	var open []string
	for _, c := range chains {
		if c.Open {
			open = append(open, c.ID)
		}
	}
	if len(open) == 0 {
		return "", exec.Fail(types.StatusNotFound, "no user chain is open to new users")
	}
	h := suite.Hash([]byte("tally/route"), user[:])
	return open[binary.BigEndian.Uint64(h[24:])%uint64(len(open))], nil
}

func assign(env *exec.Env, a []any) ([]any, error) {
	return assignUsers(env, a[0].([]common.Address), "")
}

func assignInstitution(env *exec.Env, a []any) ([]any, error) {
	if err := system.RequireRole(env, system.RoleAdmin); err != nil {
		return nil, err
	}
	return assignUsers(env, a[0].([]common.Address), a[1].(string))
}

// assignUsers gives each user a chain once: an assigned user keeps it.
func assignUsers(env *exec.Env, users []common.Address, institution string) ([]any, error) {
	if len(users) == 0 || len(users) > MaxAssignBatch {
		return nil, exec.Fail(types.StatusInvalidArgument, "assign 1..%d users per call, got %d", MaxAssignBatch, len(users))
	}
	if err := env.Gas.Use(uint64(len(users)) * 5000); err != nil {
		return nil, err
	}
	chains, rules := readDirChains(env.State), ReadRules(env.State)
	out := make([]string, len(users))
	for i, u := range users {
		if cur := env.State.Get([]byte(userKey(u))); cur != nil {
			out[i] = string(cur)
			continue
		}
		c, err := Route(env.Block.Suite, chains, rules, u, institution)
		if err != nil {
			return nil, err
		}
		env.State.Set([]byte(userKey(u)), []byte(c))
		data, _ := evAssigned.Inputs.NonIndexed().Pack(c)
		env.Emit(DirectoryAddress, evAssigned, []common.Hash{common.BytesToHash(u[:])}, data)
		out[i] = c
	}
	return []any{out}, nil
}

func chainOf(env *exec.Env, a []any) ([]any, error) {
	u := exec.AddressArg(a[0])
	if cur := env.State.Get([]byte(userKey(u))); cur != nil {
		return []any{string(cur), true}, nil
	}
	c, err := Route(env.Block.Suite, readDirChains(env.State), ReadRules(env.State), u, "")
	if err != nil {
		return nil, err
	}
	return []any{c, false}, nil
}

func dirChains(env *exec.Env, _ []any) ([]any, error) {
	cs := readDirChains(env.State)
	ids, open := make([]string, len(cs)), make([]bool, len(cs))
	for i, c := range cs {
		ids[i], open[i] = c.ID, c.Open
	}
	return []any{ids, open}, nil
}

func rulesView(env *exec.Env, _ []any) ([]any, error) {
	rs := ReadRules(env.State)
	enc, _ := rlp.EncodeToBytes(rs.Rules)
	if rs.Rules == nil {
		enc, _ = rlp.EncodeToBytes([]Rule{})
	}
	return []any{rs.Version, enc}, nil
}
