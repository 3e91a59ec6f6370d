package ledger_test

import (
	"bytes"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
)

// Accounts of the fuzzed state: an admin (ADMIN and ISSUER), two funded
// users, and an account with nothing.
var (
	admin  = common.HexToAddress("0xad")
	alice  = common.HexToAddress("0xa1")
	bob    = common.HexToAddress("0xb0")
	nobody = common.HexToAddress("0x0b")
	actors = []common.Address{admin, alice, bob, nobody}
	// targets are the precompiles under test, an address with none, and a
	// test precompile that writes and then fails when asked to.
	scribblerAddr = common.HexToAddress("0x7e57")
	targets       = []common.Address{ledger.Address, system.RolesAddress, system.SystemConfigAddress, common.HexToAddress("0x5002"), scribblerAddr}
)

// scribbler writes a key and adds to another, then fails if asked: the
// executor must drop the writes of a failed call, whatever it wrote first.
func scribbler() *exec.Contract {
	return exec.NewContract(scribblerAddr, "Scribbler", []*exec.Method{{
		ABI: exec.NewABIMethod("scribble", false, exec.Args("string key", "bool fail"), nil), Gas: 100,
		Keys: func(_ common.Address, a []any) []exec.Access {
			k := a[0].(string)
			return []exec.Access{{Key: "w/" + k, Mode: exec.Write}, {Key: "d/" + k, Mode: exec.Delta}}
		},
		Run: func(env *exec.Env, a []any) ([]any, error) {
			k := a[0].(string)
			env.State.Set([]byte("w/"+k), []byte{1})
			if err := env.State.AddUint([]byte("d/"+k), uint256.NewInt(1)); err != nil {
				return nil, err
			}
			if a[1].(bool) {
				return nil, exec.Fail(types.StatusReverted, "asked to fail")
			}
			return nil, nil
		},
	}})
}

// mapState is committed state in a map; it records the keys read.
type mapState struct {
	kv    map[string][]byte
	reads map[string]bool
}

func (m *mapState) Get(k []byte) []byte {
	if m.reads != nil {
		m.reads[string(k)] = true
	}
	return m.kv[string(k)]
}

// genesisState builds the base state the way a genesis would.
func genesisState(tb testing.TB) map[string][]byte {
	blk := state.NewBlock(&mapState{kv: map[string][]byte{}})
	must := func(err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(system.GrantGenesis(blk, system.RoleAdmin, admin))
	must(system.GrantGenesis(blk, system.RoleIssuer, admin))
	must(system.GrantGenesis(blk, system.RoleMerchant, bob))
	must(system.SetConfigGenesis(blk, system.CfgTxWindow, 100))
	must(ledger.IssueGenesis(blk, "CNY", alice, uint256.NewInt(1000)))
	must(ledger.IssueGenesis(blk, "CNY", bob, uint256.NewInt(50)))
	must(ledger.IssueGenesis(blk, "USD", alice, ledger.MaxAmount))
	kv := make(map[string][]byte)
	for _, c := range blk.Changes() {
		if len(c.Value) > 0 {
			kv[string(c.Key)] = c.Value
		}
	}
	return kv
}

func newExecutor() *exec.Executor {
	return exec.NewExecutor(nil, system.NewSystemConfig(), system.NewRoles(), ledger.New(), scribbler())
}

// seedCalls packs a valid-looking call for every method, with arguments
// that reach each of its outcomes.
func seedCalls(tb testing.TB) [][2]any { // {target index, call data}
	l, r, c, w := ledger.New(), system.NewRoles(), system.NewSystemConfig(), scribbler()
	pack := func(k *exec.Contract, m string, args ...any) []byte {
		b, err := k.Pack(m, args...)
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	big1, huge := big.NewInt(1), new(big.Int).Lsh(big.NewInt(1), 200)
	max := ledger.MaxAmount.ToBig()
	return [][2]any{
		{0, pack(l, "transfer", "CNY", bob, big.NewInt(10))},
		{0, pack(l, "transfer", "CNY", alice, big.NewInt(10))}, // to oneself
		{0, pack(l, "transfer", "CNY", bob, big.NewInt(5000))}, // more than held
		{0, pack(l, "transfer", "cny", bob, big1)},             // bad asset code
		{0, pack(l, "transfer", "CNY", bob, big.NewInt(0))},
		{0, pack(l, "transfer", "CNY", bob, huge)},
		{0, pack(l, "issue", "CNY", nobody, big.NewInt(7))},
		{0, pack(l, "issue", "USD", alice, max)}, // overflows nothing: balances are uint256
		{0, pack(l, "issue", "NEW1", bob, max)},
		{0, pack(l, "redeem", "CNY", alice, big.NewInt(999))},
		{0, pack(l, "redeem", "CNY", bob, big.NewInt(51))},
		{0, pack(l, "balanceOf", "CNY", alice)},
		{0, pack(l, "totalSupply", "CNY")},
		{1, pack(r, "grantRole", system.RoleIssuer, alice)},
		{1, pack(r, "grantRole", "KING", alice)},
		{1, pack(r, "revokeRole", system.RoleAdmin, admin)}, // the last ADMIN
		{1, pack(r, "revokeRole", system.RoleMerchant, bob)},
		{1, pack(r, "revokeRole", system.RoleSettler, bob)}, // not held
		{1, pack(r, "hasRole", system.RoleAdmin, admin)},
		{2, pack(c, "setValue", system.CfgTxWindow, big.NewInt(300))},
		{2, pack(c, "setValue", system.CfgTxWindow, big.NewInt(0))},
		{2, pack(c, "setValue", "no_such_key", big1)},
		{2, pack(c, "setValue", system.CfgBlockTxLimit, huge)},
		{2, pack(c, "getValue", system.CfgMaxTxBytes)},
		{2, pack(c, "getValue", "no_such_key")},
		{3, pack(l, "transfer", "CNY", bob, big1)}, // no precompile there
		{4, pack(w, "scribble", "k", false)},
		{4, pack(w, "scribble", "k", true)},
		{0, []byte{1, 2, 3}},
		{0, []byte{0xde, 0xad, 0xbe, 0xef}},
		{0, []byte{}},
	}
}

// FuzzLedgerCall feeds arbitrary call data from arbitrary callers to the
// Ledger, Roles and SystemConfig precompiles through the executor. It must
// never panic; a failed call writes nothing; a decodable call touches only
// keys its Conflicts declared (the parallel scheduler's contract), writes
// only keys declared Write and adds only to keys declared Delta or Write;
// and running a call twice gives the same receipt and writes.
func FuzzLedgerCall(f *testing.F) {
	for _, c := range seedCalls(f) {
		data := c[1].([]byte)
		for who := range actors {
			f.Add(byte(c[0].(int)), byte(who), uint32(200_000), data)
		}
		if len(data) > 4 {
			f.Add(byte(c[0].(int)), byte(0), uint32(200_000), data[:len(data)-1])
			f.Add(byte(c[0].(int)), byte(0), uint32(21_000+16*len(data)), data) // out of gas in the call
		}
	}
	base := genesisState(f)
	x := newExecutor()
	s := crypto.Secp256k1()
	f.Fuzz(func(t *testing.T, target, caller byte, gas uint32, data []byte) {
		to := targets[int(target)%len(targets)]
		from := actors[int(caller)%len(actors)]
		tx := &types.Tx{ChainID: "fuzz", BlockLimit: 1, To: &to, Gas: uint64(gas), Data: data}
		bc := &exec.BlockContext{ChainID: "fuzz", Height: 1, Timestamp: 1, Suite: s}

		run := func() (*types.Receipt, []state.Change, map[string]bool) {
			ms := &mapState{kv: base, reads: map[string]bool{}}
			blk := state.NewBlock(ms)
			r, err := x.ApplyTx(bc, blk, tx, from)
			if err != nil {
				t.Fatalf("executor error (the node would stop): %v", err)
			}
			return r, blk.Changes(), ms.reads
		}
		r, changes, reads := run()
		if r.Status.String() == "" || strings.HasPrefix(r.Status.String(), "status(") {
			t.Fatalf("unnamed status %d", r.Status)
		}
		if r.GasUsed > tx.Gas {
			t.Fatalf("gas used %d above the limit %d", r.GasUsed, tx.Gas)
		}
		if r.Status != types.StatusOK && len(changes) > 0 {
			t.Fatalf("failed call (%v) wrote %d keys", r.Status, len(changes))
		}
		r2, changes2, _ := run()
		if !bytes.Equal(r.Encode(), r2.Encode()) || !sameChanges(changes, changes2) {
			t.Fatal("the same call gave two outcomes")
		}

		c := x.Contract(to)
		if c == nil {
			if r.Status != types.StatusNoContract {
				t.Fatalf("call to %s without a precompile: %v", to, r.Status)
			}
			return
		}
		acc, err := c.Conflicts(from, data)
		if err != nil {
			if r.Status != types.StatusBadInput && r.Status != types.StatusUnknownMethod && r.Status != types.StatusOutOfGas {
				t.Fatalf("undecodable call (%v) ran with status %v", err, r.Status)
			}
			return
		}
		mode := make(map[string]exec.AccessMode)
		for _, a := range acc {
			if m, ok := mode[a.Key]; !ok || a.Mode == exec.Write || (m == exec.Read && a.Mode == exec.Delta) {
				mode[a.Key] = a.Mode
			}
		}
		for k := range reads {
			if _, ok := mode[k]; !ok {
				t.Fatalf("%s call read undeclared key %q (declared %v)", c.Name, k, acc)
			}
		}
		for _, ch := range changes {
			if m := mode[string(ch.Key)]; m != exec.Write && m != exec.Delta {
				t.Fatalf("%s call wrote key %q declared %v", c.Name, ch.Key, m)
			}
		}
		// Plain writes and deltas, as the call's own view holds them.
		writes, deltas := runInView(t, c, bc, base, from, data, uint64(gas))
		for k := range writes {
			if mode[k] != exec.Write {
				t.Fatalf("%s call set key %q declared %v", c.Name, k, mode[k])
			}
		}
		for k := range deltas {
			if m := mode[k]; m != exec.Delta && m != exec.Write {
				t.Fatalf("%s call added to key %q declared %v", c.Name, k, m)
			}
		}
	})
}

// runInView runs the call in a view of its own, as the executor does, and
// returns the view's plain writes and deltas.
func runInView(t *testing.T, c *exec.Contract, bc *exec.BlockContext, base map[string][]byte, from common.Address, data []byte, gas uint64) (map[string][]byte, map[string]*uint256.Int) {
	view := state.NewTxView(state.NewBlock(&mapState{kv: base}))
	var logs []*types.Log
	intrinsic := exec.IntrinsicGas(data)
	if gas < intrinsic {
		return nil, nil
	}
	env := &exec.Env{Block: bc, Origin: from, Caller: from, State: view, Gas: &exec.GasMeter{Limit: gas - intrinsic}, Logs: &logs}
	c.Run(env, data) // errors are fine: the view still shows what the call did
	return view.Writes(), view.Deltas()
}

func sameChanges(a, b []state.Change) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i].Key, b[i].Key) || !bytes.Equal(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}

// TestSeedCallOutcomes pins the outcome of each seed call, so the fuzz
// target starts from calls that reach every branch.
func TestSeedCallOutcomes(t *testing.T) {
	want := []types.Status{
		types.StatusOK, types.StatusOK, types.StatusInsufficientBalance, types.StatusInvalidArgument,
		types.StatusInvalidArgument, types.StatusInvalidArgument, types.StatusOK, types.StatusOK, types.StatusOK,
		types.StatusOK, types.StatusInsufficientBalance, types.StatusOK, types.StatusOK,
		types.StatusOK, types.StatusInvalidArgument, types.StatusInvalidArgument, types.StatusOK, types.StatusOK, types.StatusOK,
		types.StatusOK, types.StatusInvalidArgument, types.StatusInvalidArgument, types.StatusInvalidArgument,
		types.StatusOK, types.StatusNotFound,
		types.StatusNoContract, types.StatusOK, types.StatusReverted, types.StatusBadInput, types.StatusUnknownMethod, types.StatusBadInput,
	}
	// Callers: transfers and views from alice, the rest from admin.
	calls := seedCalls(t)
	if len(calls) != len(want) {
		t.Fatalf("%d seed calls, %d expectations", len(calls), len(want))
	}
	base := genesisState(t)
	x := newExecutor()
	labi := ledger.New().ABI()
	for i, c := range calls {
		to := targets[c[0].(int)]
		data := c[1].([]byte)
		from := admin
		if to == ledger.Address && len(data) >= 4 {
			if m, _ := labi.MethodById(data[:4]); m != nil && m.Name == "transfer" {
				from = alice
			}
		}
		tx := &types.Tx{ChainID: "fuzz", BlockLimit: 1, To: &to, Gas: 200_000, Data: data}
		blk := state.NewBlock(&mapState{kv: base})
		r, err := x.ApplyTx(&exec.BlockContext{ChainID: "fuzz", Height: 1, Suite: crypto.Secp256k1()}, blk, tx, from)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != want[i] {
			reason, _ := exec.RevertReason(r.Output)
			t.Errorf("seed %d: status %v (%s), want %v", i, r.Status, reason, want[i])
		}
	}
	// Only the ISSUER issues, only an ADMIN grants.
	for _, m := range []struct {
		to   common.Address
		data []byte
	}{{ledger.Address, calls[6][1].([]byte)}, {system.RolesAddress, calls[13][1].([]byte)}, {system.SystemConfigAddress, calls[19][1].([]byte)}} {
		tx := &types.Tx{ChainID: "fuzz", To: &m.to, Gas: 200_000, Data: m.data}
		blk := state.NewBlock(&mapState{kv: base})
		r, _ := x.ApplyTx(&exec.BlockContext{ChainID: "fuzz", Height: 1, Suite: crypto.Secp256k1()}, blk, tx, nobody)
		if r.Status != types.StatusPermissionDenied || blk.Len() != 0 {
			t.Errorf("call to %s by an account without the role: %v, %d writes", m.to, r.Status, blk.Len())
		}
	}
}
