package evm

import (
	"fmt"
	"math/rand/v2"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/core/vm/program"
	"github.com/ethereum/go-ethereum/params"
)

// progGen writes random but well-formed EVM programs for the differential
// test: stack-balanced snippets over a small slot space, with branches on
// calldata bits so that one contract behaves differently per call, and
// every kind of failure the EVM has (revert, invalid opcode, bad jump,
// stack underflow, out of gas, return data out of bounds, call depth,
// create collisions, oversize code, write protection).
type progGen struct {
	rng     *rand.Rand
	targets []common.Address // what calls and queries aim at
	labels  int
}

// diffSlots bounds the storage slots programs touch, so the test can list
// every slot either side may have written.
const diffSlots = 6

func (g *progGen) n(k int) int { return g.rng.IntN(k) }

func (g *progGen) target() common.Address { return g.targets[g.n(len(g.targets))] }

func (g *progGen) slot() int { return g.n(diffSlots) }

func (g *progGen) label() string {
	g.labels++
	return fmt.Sprintf("l%d", g.labels)
}

// runtime returns a contract body of a few snippets that returns 64 bytes.
// A third of them recurse into themselves and fail in nested frames after
// their side effects, which is where journals are put to work.
func (g *progGen) runtime(depth int) []byte {
	a := newAsm()
	g.snippets(a, depth, 1+g.n(8))
	if g.n(3) == 0 {
		g.call(a, true)
		g.snippets(a, depth, 1+g.n(4))
		g.inner(a, func() { g.failure(a) })
		g.snippets(a, depth, g.n(3))
	}
	a.Return(0, 64)
	return a.code()
}

func (g *progGen) snippets(a *asm, depth, n int) {
	for range n {
		g.snippet(a, depth)
	}
}

// initFor returns init code: a few constructor snippets, then runtime.
func (g *progGen) initFor(runtime []byte, depth int) []byte {
	a := newAsm()
	g.snippets(a, depth+1, g.n(3))
	a.ReturnViaCodeCopy(runtime)
	return a.code()
}

var envOps = []vm.OpCode{vm.ADDRESS, vm.CALLER, vm.ORIGIN, vm.NUMBER, vm.TIMESTAMP, vm.CHAINID, vm.COINBASE,
	vm.GASLIMIT, vm.BASEFEE, vm.PREVRANDAO, vm.SELFBALANCE, vm.GAS, vm.CALLVALUE, vm.MSIZE, vm.CODESIZE,
	vm.CALLDATASIZE, vm.RETURNDATASIZE, vm.BLOBBASEFEE, vm.GASPRICE}

func (g *progGen) snippet(a *asm, depth int) {
	switch k := g.n(20); {
	case k < 3:
		vals := []any{0, 1, g.rng.Uint64()}
		a.Sstore(g.slot(), vals[g.n(3)])
	case k < 4:
		a.Push(32 * g.n(4)).Op(vm.CALLDATALOAD).Push(g.slot()).Op(vm.SSTORE)
	case k < 5:
		a.Push(g.slot()).Op(vm.SLOAD).Push(g.slot()).Op(vm.SSTORE)
	case k < 6 && g.n(8) == 0:
		a.Push(1).Op(vm.NUMBER, vm.SUB, vm.BLOCKHASH).Push(g.slot()).Op(vm.SSTORE)
	case k < 6:
		a.Op(envOps[g.n(len(envOps))]).Push(g.slot()).Op(vm.SSTORE)
	case k < 7:
		ops := []vm.OpCode{vm.EXTCODEHASH, vm.EXTCODESIZE, vm.BALANCE}
		a.Push(g.target()).Op(ops[g.n(len(ops))]).Push(g.slot()).Op(vm.SSTORE)
	case k < 8:
		k := g.n(3) // count per frame, so that a reverted frame's write shows
		a.Push(k).Op(vm.TLOAD).Push(1).Op(vm.ADD).Push(k).Op(vm.TSTORE)
		a.Push(g.n(3)).Op(vm.TLOAD).Push(g.slot()).Op(vm.SSTORE)
	case k < 10:
		g.log(a)
	case k < 13:
		g.call(a, false)
	case k < 14:
		g.when(a, func() { g.failure(a) })
	case k < 15:
		g.inner(a, func() { g.failure(a) })
	case k < 16:
		g.call(a, true)
	case k < 17 && depth < 2:
		g.create(a, depth)
	case k < 18:
		g.when(a, func() { a.Push(g.target()).Op(vm.SELFDESTRUCT) })
	default:
		a.Mstore(common.BigToHash(common.Big257).Bytes(), 0)
		a.Push(64).Push(0).Op(vm.KECCAK256).Push(g.slot()).Op(vm.SSTORE)
	}
}

// when runs body only if a random calldata bit is set.
func (g *progGen) when(a *asm, body func()) {
	skip := g.label()
	a.Push(32*g.n(4)).Op(vm.CALLDATALOAD).Push(g.n(256)).Op(vm.SHR).Push(1).Op(vm.AND, vm.ISZERO)
	a.jumpi(skip)
	body()
	a.mark(skip)
}

// inner runs body only in a nested frame (the caller is a contract), so
// that inner frames fail after their side effects while outer ones go on.
func (g *progGen) inner(a *asm, body func()) {
	skip := g.label()
	a.Op(vm.CALLER, vm.ORIGIN, vm.EQ)
	a.jumpi(skip)
	body()
	a.mark(skip)
}

func (g *progGen) log(a *asm) {
	a.Push(g.rng.Uint64()).Push(0).Op(vm.MSTORE)
	n := g.n(5)
	for range n {
		if g.n(2) == 0 {
			a.Op(vm.CALLER)
		} else {
			a.Push(g.rng.Uint64())
		}
	}
	a.Push(32 * g.n(3)).Push(0).Op(vm.LOG0 + vm.OpCode(n))
}

// call makes one call of a random kind with the caller's calldata, and
// stores its success and return data size; self calls the contract itself.
func (g *progGen) call(a *asm, self bool) {
	a.Op(vm.CALLDATASIZE).Push(0).Push(0x200).Op(vm.CALLDATACOPY)
	a.Push(32).Push(0) // out size, offset
	a.Op(vm.CALLDATASIZE).Push(0x200)
	op := []vm.OpCode{vm.CALL, vm.CALL, vm.STATICCALL, vm.DELEGATECALL, vm.CALLCODE}[g.n(5)]
	if op == vm.CALL || op == vm.CALLCODE {
		a.Push([]int{0, 0, 0, 1}[g.n(4)]) // value
	}
	if self {
		a.Op(vm.ADDRESS)
	} else {
		a.Push(g.target())
	}
	if gas := []int{-1, -1, 0, 700, 5000, 60000}[g.n(6)]; gas < 0 {
		a.Op(vm.GAS)
	} else {
		a.Push(gas)
	}
	a.Op(op).Push(g.slot()).Op(vm.SSTORE)
	a.Op(vm.RETURNDATASIZE).Push(g.slot()).Op(vm.SSTORE)
}

func (g *progGen) failure(a *asm) {
	switch g.n(7) {
	case 0:
		a.Push(g.rng.Uint64()).Push(0).Op(vm.MSTORE)
		a.Push(32 * g.n(2)).Push(0).Op(vm.REVERT)
	case 1:
		a.Op(vm.INVALID)
	case 2:
		l := g.label()
		a.mark(l).jump(l) // out of gas
	case 3:
		a.Push(3).Op(vm.JUMP) // not a JUMPDEST
	case 4:
		a.Op(vm.POP, vm.POP) // stack underflow
	case 5:
		a.Push(64).Push(0).Push(0).Op(vm.RETURNDATACOPY) // out of bounds unless a call returned 64 bytes
	default:
		a.Push(uint64(1) << 40).Op(vm.MLOAD) // memory beyond any gas
	}
}

// create runs CREATE or CREATE2 on init code from a small library and
// stores the address it got.
func (g *progGen) create(a *asm, depth int) {
	inits := [][]byte{
		g.initFor(g.runtime(depth+1), depth),
		g.initFor(g.runtime(depth+1), depth),
		program.New().Sstore(1, 1).Push(0).Push(0).Op(vm.REVERT).Bytes(),
		loopCode(),
		returnSizeInit(params.MaxCodeSize + 1),
		program.New().Mstore([]byte{0xef}, 0).Return(0, 1).Bytes(),
		program.New().Sstore(2, 9).Selfdestruct(g.target()).Bytes(),
	}
	code := inits[g.n(len(inits))]
	a.Mstore(code, 0x400)
	if g.n(2) == 0 {
		a.Push(g.n(2)).Push(len(code)).Push(0x400).Push(0).Op(vm.CREATE2)
	} else {
		a.Push(len(code)).Push(0x400).Push(0).Op(vm.CREATE)
	}
	a.Push(g.slot()).Op(vm.SSTORE)
}
