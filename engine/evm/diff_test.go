package evm

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	gstate "github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/tracing"
	gethtypes "github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/holiman/uint256"

	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/types"
)

// recordingDB is go-ethereum's StateDB noting every account and slot the
// EVM writes, so the test can compare all of them with ours.
type recordingDB struct {
	*gstate.StateDB
	accts map[common.Address]struct{}
	slots map[slotRef]struct{}
}

func (r *recordingDB) SetNonce(a common.Address, n uint64, why tracing.NonceChangeReason) {
	r.accts[a] = struct{}{}
	r.StateDB.SetNonce(a, n, why)
}

func (r *recordingDB) SetCode(a common.Address, c []byte, why tracing.CodeChangeReason) []byte {
	r.accts[a] = struct{}{}
	return r.StateDB.SetCode(a, c, why)
}

func (r *recordingDB) SetState(a common.Address, k, v common.Hash) common.Hash {
	r.accts[a] = struct{}{}
	r.slots[slotRef{a, k}] = struct{}{}
	return r.StateDB.SetState(a, k, v)
}

// reference runs Tally's transaction rules on go-ethereum's own state:
// written from the rules (docs/engine.md, this package's doc), not from
// VM.Apply, so that the two can disagree.
type reference struct {
	db    *recordingDB
	cfg   *params.ChainConfig
	rules params.Rules
	warm  []common.Address
	txi   int
}

func newReference(t testing.TB, warm []common.Address) *reference {
	sdb, err := gstate.New(gethtypes.EmptyRootHash, gstate.NewDatabaseForTesting())
	check(t, err)
	cfg := *params.AllDevChainProtocolChanges
	cfg.ChainID, cfg.BogotaTime = ChainIDOf("t"), nil
	r := &reference{db: &recordingDB{StateDB: sdb, accts: map[common.Address]struct{}{}, slots: map[slotRef]struct{}{}}, cfg: &cfg, warm: warm}
	r.rules = cfg.Rules(common.Big1, true, 1)
	return r
}

func (r *reference) blockContext(bc *exec.BlockContext) vm.BlockContext {
	return vm.BlockContext{
		CanTransfer: func(db vm.StateDB, a common.Address, v *uint256.Int) bool { return db.GetBalance(a).Cmp(v) >= 0 },
		Transfer: func(db vm.StateDB, from, to common.Address, v *uint256.Int, _ *params.Rules) {
			db.SubBalance(from, v, tracing.BalanceChangeTransfer)
			db.AddBalance(to, v, tracing.BalanceChangeTransfer)
		},
		GetHash:  func(uint64) common.Hash { return common.Hash{} },
		Coinbase: bc.Proposer, GasLimit: 4_000_000_000, BlockNumber: new(big.Int).SetUint64(bc.Height),
		Time: bc.Timestamp / 1000, Difficulty: new(big.Int), BaseFee: new(big.Int), BlobBaseFee: new(big.Int),
		Random: &common.Hash{},
	}
}

// apply runs one transaction; a failed one leaves no trace.
func (r *reference) apply(bc *exec.BlockContext, tx *types.Tx, from common.Address) *types.Receipt {
	rc := &types.Receipt{TxHash: tx.Hash(bc.Suite)}
	gas := tx.Gas - exec.IntrinsicGas(tx.Data)
	if tx.To == nil {
		extra := 32000 + 2*uint64((len(tx.Data)+31)/32)
		if gas < extra {
			rc.Status, rc.GasUsed, rc.Output = types.StatusOutOfGas, tx.Gas, exec.RevertData("out of gas")
			return rc
		}
		gas -= extra
	} else if _, pre := vm.ActivePrecompiledContracts(r.rules)[*tx.To]; !pre && len(r.db.GetCode(*tx.To)) == 0 {
		rc.Status, rc.GasUsed = types.StatusNoContract, tx.Gas-gas
		rc.Output = exec.RevertData(fmt.Sprintf("no contract at %s", tx.To))
		return rc
	}
	r.txi++
	r.db.SetTxContext(rc.TxHash, r.txi, 0)
	snap := r.db.Snapshot()
	r.db.Prepare(r.rules, from, bc.Proposer, tx.To, r.warm, nil)
	evm := vm.NewEVM(r.blockContext(bc), r.db, r.cfg, vm.Config{NoBaseFee: true})
	evm.SetTxContext(vm.TxContext{Origin: from, GasPrice: new(uint256.Int)})
	budget := vm.NewGasBudget(gas, 0)
	var ret []byte
	var left vm.GasBudget
	var err error
	if tx.To == nil {
		_, rc.ContractAddress, left, err = evm.Create(from, tx.Data, budget, new(uint256.Int))
	} else {
		ret, left, err = evm.Call(from, *tx.To, tx.Data, budget, new(uint256.Int))
	}
	rc.GasUsed = tx.Gas - left.ExecutionGas
	if err != nil {
		r.db.RevertToSnapshot(snap)
		r.db.Finalise(r.rules)
		rc.ContractAddress = common.Address{}
		rc.Status, rc.Output = refFailure(err, ret)
		return rc
	}
	rc.GasUsed -= min(r.db.GetRefund(), rc.GasUsed/5)
	rc.Output = ret
	for _, l := range r.db.GetLogs(rc.TxHash, 0, common.Hash{}, 0) {
		rc.Logs = append(rc.Logs, &types.Log{Address: l.Address, Topics: l.Topics, Data: l.Data})
	}
	r.db.Finalise(r.rules)
	return rc
}

func refFailure(err error, ret []byte) (types.Status, []byte) {
	switch {
	case errors.Is(err, vm.ErrExecutionReverted):
		if len(ret) == 0 {
			ret = exec.RevertData("execution reverted")
		}
		return types.StatusReverted, ret
	case errors.Is(err, vm.ErrOutOfGas), errors.Is(err, vm.ErrCodeStoreOutOfGas), errors.Is(err, vm.ErrGasUintOverflow):
		return types.StatusOutOfGas, exec.RevertData("out of gas")
	}
	return types.StatusEVMError, exec.RevertData(err.Error())
}

// diffRun is one random scenario on both sides.
type diffRun struct {
	t    *testing.T
	seed uint64
	rng  *rand.Rand
	w    *world
	ref  *reference
	gen  *progGen
	ours map[common.Address]struct{} // accounts our side wrote
	slot map[slotRef]struct{}        // slots our side wrote
}

// newDiffRun sets up one scenario; odd seeds run our side traced, so both
// of go-ethereum's interpreter loops are compared with the reference.
func newDiffRun(t *testing.T, seed uint64) *diffRun {
	w := newWorld(t, Options{})
	if seed%2 == 1 {
		m := New(w.contracts(), Options{})
		m.traceAll = true
		w.x = exec.NewExecutor(m, w.contracts()...)
	}
	d := &diffRun{t: t, seed: seed, rng: rand.New(rand.NewPCG(seed, 42)), w: w, ref: newReference(t, New(w.contracts(), Options{}).warm),
		ours: map[common.Address]struct{}{}, slot: map[slotRef]struct{}{}}
	d.gen = &progGen{rng: d.rng, targets: diffTargets(4)}
	return d
}

// diffTargets lists what generated code calls: the first n contracts the
// deployer creates, their first CREATE children, empty accounts and
// standard precompiles.
func diffTargets(n int) []common.Address {
	var out []common.Address
	for i := range n {
		c := crypto.CreateAddress(deployer, uint64(i))
		out = append(out, c, c, c, crypto.CreateAddress(c, 1), crypto.CreateAddress(c, 2))
	}
	for _, b := range []byte{1, 2, 4, 0x0a} {
		out = append(out, common.BytesToAddress([]byte{b}))
	}
	return append(out, bob, common.HexToAddress("0xdead"), common.HexToAddress("0xc0ffee")) // the last is the coinbase
}

func (w *world) contracts() []*exec.Contract {
	var cs []*exec.Contract
	for _, c := range w.x.Contracts() {
		cs = append(cs, c)
	}
	return cs
}

// step runs one random transaction on both sides and compares receipts.
func (d *diffRun) step(i int, tx *types.Tx, from common.Address) {
	blk := state.NewBlock(d.w.base)
	got, err := d.w.x.ApplyTx(d.w.bc, blk, tx, from)
	check(d.t, err)
	want := d.ref.apply(d.w.bc, tx, from)
	if !bytes.Equal(got.Encode(), want.Encode()) {
		d.t.Fatalf("seed %d tx %d (to %v, gas %d, data %x):\n ours   %s\n go-eth %s", d.seed, i, tx.To, tx.Gas, tx.Data, describe(got), describe(want))
	}
	d.note(blk.Changes())
	d.w.base.apply(blk.Changes())
	d.w.bc.Height++
	d.w.bc.Timestamp += 1000
}

func describe(r *types.Receipt) string {
	reason, _ := exec.RevertReason(r.Output)
	return fmt.Sprintf("status %v gas %d out %x (%s) logs %d created %s", r.Status, r.GasUsed, r.Output, reason, len(r.Logs), r.ContractAddress)
}

// note records the EVM keys our side wrote.
func (d *diffRun) note(changes []state.Change) {
	for _, c := range changes {
		k := string(c.Key)
		switch {
		case len(k) == len(prefixAccount)+20 && k[:len(prefixAccount)] == prefixAccount:
			d.ours[common.BytesToAddress(c.Key[len(prefixAccount):])] = struct{}{}
		case len(k) == len(prefixStorage)+52 && k[:len(prefixStorage)] == prefixStorage:
			b := c.Key[len(prefixStorage):]
			d.slot[slotRef{common.BytesToAddress(b[:20]), common.BytesToHash(b[20:])}] = struct{}{}
		}
	}
}

// compareState checks every account and slot either side wrote.
func (d *diffRun) compareState() {
	accts := map[common.Address]struct{}{}
	for _, m := range []map[common.Address]struct{}{d.ours, d.ref.db.accts} {
		for a := range m {
			accts[a] = struct{}{}
		}
	}
	ours := newStateDB(state.NewTxView(state.NewBlock(d.w.base)), &shared{codes: newByteCache[[]byte](1 << 20)})
	for a := range accts {
		g := d.ref.db
		if ours.GetNonce(a) != g.GetNonce(a) || ours.GetCodeHash(a) != g.GetCodeHash(a) ||
			!bytes.Equal(ours.GetCode(a), g.GetCode(a)) || ours.Exist(a) != g.Exist(a) {
			d.t.Fatalf("seed %d: account %s: ours nonce %d hash %x exist %v, go-ethereum nonce %d hash %x exist %v", d.seed, a,
				ours.GetNonce(a), ours.GetCodeHash(a), ours.Exist(a), g.GetNonce(a), g.GetCodeHash(a), g.Exist(a))
		}
	}
	for _, m := range []map[slotRef]struct{}{d.slot, d.ref.db.slots} {
		for r := range m {
			if o, g := ours.GetState(r.addr, r.slot), d.ref.db.GetState(r.addr, r.slot); o != g {
				d.t.Fatalf("seed %d: %s slot %x: ours %x, go-ethereum %x", d.seed, r.addr, r.slot, o, g)
			}
		}
	}
}

// scenario deploys a few random contracts, then calls them at random.
func (d *diffRun) scenario(calls int) {
	for i := range 4 {
		init := d.gen.initFor(d.gen.runtime(0), 0)
		d.step(i, d.w.tx(nil, init, []uint64{3_000_000, 3_000_000, 3_000_000, 60_000}[d.rng.IntN(4)]), deployer)
	}
	d.compareState()
	for i := range calls {
		to := d.callee()
		data := make([]byte, 128)
		for j := range data {
			data[j] = byte(d.rng.Uint32())
		}
		gas := []uint64{2_000_000, 2_000_000, 300_000, 40_000}[d.rng.IntN(4)]
		from := []common.Address{alice, bob}[d.rng.IntN(2)]
		d.step(4+i, d.w.tx(&to, data, gas), from)
		if i%5 == 4 {
			d.compareState()
		}
	}
	d.compareState()
}

// callee picks a transaction's target: mostly a deployed contract.
func (d *diffRun) callee() common.Address {
	if d.rng.IntN(4) == 0 {
		return d.gen.target()
	}
	return crypto.CreateAddress(deployer, uint64(d.rng.IntN(4)))
}

// TestDifferentialAgainstGoEthereum runs random transactions through our
// VM and through go-ethereum's own core/state with the same rules: every
// receipt (status, gas, output, logs, created address) and every written
// account and slot must match.
func TestDifferentialAgainstGoEthereum(t *testing.T) {
	seeds := 300
	if testing.Short() {
		seeds = 40
	}
	for seed := range uint64(seeds) {
		newDiffRun(t, seed).scenario(30)
	}
}
