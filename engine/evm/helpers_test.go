package evm

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/core/vm/program"
	"github.com/holiman/uint256"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
)

type mapBackend map[string][]byte

func (m mapBackend) Get(k []byte) []byte { return m[string(k)] }

func (m mapBackend) apply(changes []state.Change) {
	for _, c := range changes {
		if len(c.Value) == 0 {
			delete(m, string(c.Key))
		} else {
			m[string(c.Key)] = c.Value
		}
	}
}

// asm is go-ethereum's program builder with forward labels.
type asm struct {
	*program.Program
	labels map[string]uint64
	fix    map[int]string
}

func newAsm() *asm {
	return &asm{Program: program.New(), labels: make(map[string]uint64), fix: make(map[int]string)}
}

func (a *asm) pushLabel(name string) *asm {
	a.Op(vm.PUSH2)
	a.fix[a.Size()] = name
	a.Append([]byte{0, 0})
	return a
}

func (a *asm) mark(name string) *asm {
	_, pc := a.Jumpdest()
	a.labels[name] = pc
	return a
}

func (a *asm) jump(name string) *asm {
	a.pushLabel(name).Op(vm.JUMP)
	return a
}

func (a *asm) jumpi(name string) *asm {
	a.pushLabel(name).Op(vm.JUMPI)
	return a
}

func (a *asm) code() []byte {
	code := a.Bytes()
	for pos, name := range a.fix {
		pc, ok := a.labels[name]
		if !ok {
			panic("asm: no label " + name)
		}
		code[pos], code[pos+1] = byte(pc>>8), byte(pc)
	}
	return code
}

// initCode returns code that deploys runtime.
func initCode(runtime []byte) []byte { return program.New().ReturnViaCodeCopy(runtime).Bytes() }

// world is a chain in miniature: genesis state in a map, one transaction
// per block, through the real executor.
type world struct {
	t        testing.TB
	base     mapBackend
	x        *exec.Executor
	bc       *exec.BlockContext
	ledger   *exec.Contract
	deployer common.Address
	rng      *rand.Rand
}

var (
	deployer = common.HexToAddress("0xd0d0")
	alice    = common.HexToAddress("0xa11ce")
	bob      = common.HexToAddress("0xb0b")
)

func newWorld(t testing.TB, opts Options) *world {
	l := ledger.New()
	w := &world{t: t, base: mapBackend{}, ledger: l, deployer: deployer, rng: rand.New(rand.NewPCG(7, 7)),
		x:  NewExecutor(opts, system.NewSystemConfig(), system.NewRoles(), l),
		bc: &exec.BlockContext{ChainID: "t", Height: 1, Timestamp: 1_700_000_000_000, Proposer: common.HexToAddress("0xc0ffee"), Suite: crypto.Secp256k1()}}
	blk := state.NewBlock(w.base)
	check(t, system.GrantGenesis(blk, system.RoleDeployer, deployer))
	check(t, system.GrantGenesis(blk, system.RoleAdmin, alice))
	check(t, system.GrantGenesis(blk, system.RoleIssuer, alice))
	check(t, ledger.IssueGenesis(blk, "CNY", alice, uint256.NewInt(1000)))
	w.base.apply(blk.Changes())
	return w
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (w *world) tx(to *common.Address, data []byte, gas uint64) *types.Tx {
	tx := &types.Tx{ChainID: w.bc.ChainID, BlockLimit: 100, To: to, Gas: gas, Data: data}
	for i := range tx.Nonce {
		tx.Nonce[i] = byte(w.rng.Uint32())
	}
	return tx
}

// send runs one transaction as a block of its own and commits it.
func (w *world) send(from common.Address, to *common.Address, data []byte, gas uint64) (*types.Receipt, []state.Change) {
	w.t.Helper()
	blk := state.NewBlock(w.base)
	r, err := w.x.ApplyTx(w.bc, blk, w.tx(to, data, gas), from)
	check(w.t, err)
	ch := blk.Changes()
	w.base.apply(ch)
	w.bc.Height++
	w.bc.Timestamp += 1000
	return r, ch
}

// deploy creates runtime as the deployer and fails the test otherwise.
func (w *world) deploy(runtime []byte) common.Address {
	w.t.Helper()
	r, _ := w.send(w.deployer, nil, initCode(runtime), 3_000_000)
	if r.Status != types.StatusOK {
		reason, _ := exec.RevertReason(r.Output)
		w.t.Fatalf("deploy: %v %s", r.Status, reason)
	}
	return r.ContractAddress
}

func (w *world) call(from, to common.Address, data []byte) *types.Receipt {
	w.t.Helper()
	r, _ := w.send(from, &to, data, 1_000_000)
	return r
}

func word(v uint64) []byte { return common.BigToHash(new(big.Int).SetUint64(v)).Bytes() }

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
