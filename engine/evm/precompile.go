package evm

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/core/vm"

	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/types"
)

// go-ethereum's PrecompiledContract.Run gets the input alone. A Tally
// precompile needs its caller and must know whether it runs inside a
// STATICCALL, so the session follows the EVM's call frames through the
// tracing hooks (OnEnter/OnExit are called for every frame, precompiles
// included, and always in pairs).
//
// A tracer switches go-ethereum's interpreter from its generated fast loop
// to its table loop, which is markedly slower. So a transaction first runs
// untraced; if it reaches a Tally precompile, that attempt is cancelled,
// its writes are reverted and the transaction runs again, traced. Both
// loops implement the same rules (go-ethereum tests them against each
// other), so the result is the traced run's, whatever the first attempt did.

// frame is one call frame as the tracer reports it.
type frame struct {
	op       vm.OpCode
	from, to common.Address
}

// session is one execution attempt of a transaction, as the precompile
// adapters see it.
type session struct {
	env     *exec.Env
	db      *stateDB
	evm     *vm.EVM
	traced  bool // the hooks are on, so frames is valid
	retrace bool // an untraced attempt reached a Tally precompile
	frames  []frame
	static  int // STATICCALL frames on the stack
}

func (s *session) hooks() *tracing.Hooks {
	return &tracing.Hooks{OnEnter: s.enter, OnExit: s.exit}
}

func (s *session) enter(_ int, typ byte, from, to common.Address, _ []byte, _ uint64, _ *big.Int) {
	f := frame{op: vm.OpCode(typ), from: from, to: to}
	if f.op == vm.STATICCALL {
		s.static++
	}
	s.frames = append(s.frames, f)
}

func (s *session) exit(int, []byte, uint64, error, bool) {
	f := s.frames[len(s.frames)-1]
	if f.op == vm.STATICCALL {
		s.static--
	}
	s.frames = s.frames[:len(s.frames)-1]
}

// methodTable maps selectors to a precompile's methods, for RequiredGas
// and the view check, which come before exec.Contract.Run decodes a call.
type methodTable map[[4]byte]*exec.Method

func newMethodTable(c *exec.Contract) methodTable {
	t := make(methodTable)
	for _, name := range c.MethodNames() {
		m := c.Method(name)
		t[[4]byte(m.ABI.ID)] = m
	}
	return t
}

func (t methodTable) lookup(input []byte) *exec.Method {
	if len(input) < 4 {
		return nil
	}
	return t[[4]byte(input[:4])]
}

func isView(m *exec.Method) bool {
	return m.ABI.StateMutability == "view" || m.ABI.StateMutability == "pure"
}

// precompile adapts an exec.Contract to vm.PrecompiledContract for one
// transaction.
type precompile struct {
	c       *exec.Contract
	methods methodTable
	s       *session
}

func (p *precompile) Name() string { return p.c.Name }

// RequiredGas is the method's fixed gas: the EVM charges it before Run, and
// Run gives the method a meter holding exactly that much, so
// exec.Contract.Run's own charge consumes it and nothing is charged twice.
// An unknown selector costs nothing here: the call fails before any work.
func (p *precompile) RequiredGas(input []byte) uint64 {
	if m := p.methods.lookup(input); m != nil {
		return m.Gas
	}
	return 0
}

// Run executes the call as the calling contract. A business failure
// becomes a revert whose data is the Solidity Error(string) reason, so
// Solidity's try/catch and bubbling see it, and the EVM undoes the call's
// writes and logs.
func (p *precompile) Run(input []byte) ([]byte, error) {
	if !p.s.traced {
		p.s.retrace = true
		p.s.evm.Cancel() // the attempt stops at its next jump and is then discarded
		return nil, vm.ErrExecutionReverted
	}
	f := p.s.frames[len(p.s.frames)-1]
	if f.to != p.c.Addr {
		panic(fmt.Sprintf("evm: precompile %s runs in a frame for %s", p.c.Addr, f.to))
	}
	if f.op != vm.CALL && f.op != vm.STATICCALL {
		return revert(types.StatusPermissionDenied, "%s: call precompiles with CALL or STATICCALL, not %s", p.c.Name, f.op)
	}
	m := p.methods.lookup(input)
	static := p.s.static > 0
	if static && m != nil && !isView(m) {
		return revert(types.StatusPermissionDenied, "%s.%s changes state and cannot run in a static call", p.c.Name, m.ABI.Name)
	}
	return p.run(f.from, m, input, static)
}

func (p *precompile) run(caller common.Address, m *exec.Method, input []byte, static bool) ([]byte, error) {
	var logs []*types.Log
	var gas uint64
	if m != nil {
		gas = m.Gas
	}
	outer := p.s.env
	env := &exec.Env{Block: outer.Block, Origin: outer.Origin, Caller: caller, TxHash: outer.TxHash,
		State: outer.State, Gas: &exec.GasMeter{Limit: gas}, Logs: &logs}
	before := outer.State.Snapshot()
	out, err := p.c.Run(env, input)
	if static && (outer.State.Snapshot() != before || len(logs) > 0) {
		panic(fmt.Sprintf("evm: a view method of %s wrote state or logged", p.c.Name))
	}
	switch {
	case err == nil:
		for _, l := range logs {
			p.s.db.addLog(l)
		}
		return out, nil
	case errors.Is(err, exec.ErrOutOfGas):
		return nil, vm.ErrOutOfGas
	}
	return exec.RevertData(err.Error()), vm.ErrExecutionReverted
}

func revert(status types.Status, format string, a ...any) ([]byte, error) {
	return exec.RevertData(exec.Fail(status, format, a...).Error()), vm.ErrExecutionReverted
}
