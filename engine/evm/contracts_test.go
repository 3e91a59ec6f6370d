package evm

import (
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/core/vm/program"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/ledger"
)

// Hand-assembled test contracts.

// counterCode bumps slot 0, records its caller in slot 1 and returns the
// new count.
func counterCode() []byte {
	p := program.New()
	p.Push(0).Op(vm.SLOAD).Push(1).Op(vm.ADD, vm.DUP1).Push(0).Op(vm.SSTORE)
	p.Op(vm.CALLER).Push(1).Op(vm.SSTORE)
	p.Push(0).Op(vm.MSTORE).Return(0, 32)
	return p.Bytes()
}

var topicA = crypto.Keccak256Hash([]byte("A"))

// loggerCode logs LOG2(topicA, caller) with calldata word 0 as data.
func loggerCode() []byte {
	p := program.New()
	p.Push(0).Op(vm.CALLDATALOAD).Push(0).Op(vm.MSTORE)
	p.Op(vm.CALLER).Push(topicA).Push(32).Push(0).Op(vm.LOG2, vm.STOP)
	return p.Bytes()
}

// revertCode writes slot 0, then reverts with Error(reason).
func revertCode(reason string) []byte {
	data := exec.RevertData(reason)
	p := program.New().Sstore(0, 1).Mstore(data, 0)
	p.Push(len(data)).Push(0).Op(vm.REVERT)
	return p.Bytes()
}

// loopCode writes slot 0 and spins until it runs out of gas.
func loopCode() []byte {
	a := newAsm()
	a.Sstore(0, 1)
	a.mark("top").jump("top")
	return a.code()
}

// proxyCode calls target with its own calldata and returns what it got.
func proxyCode(target common.Address) []byte {
	p := program.New()
	p.Op(vm.CALLDATASIZE).Push(0).Push(0).Op(vm.CALLDATACOPY)
	p.Push(32).Push(0).Op(vm.CALLDATASIZE).Push(0).Push(0).Push(target).Op(vm.GAS, vm.CALL)
	p.Push(2).Op(vm.SSTORE) // slot 2: did the inner call succeed
	p.Return(0, 32)
	return p.Bytes()
}

// factoryCode creates a contract from calldata[32:]: with CREATE2 and salt
// calldata[0:32] when create2, else with CREATE. It stores the new address
// (or 0) in slot 0 and the return data size in slot 1, and returns the
// address.
func factoryCode(create2 bool) []byte {
	p := program.New()
	p.Push(32).Op(vm.CALLDATASIZE, vm.SUB) // size
	p.Op(vm.DUP1).Push(32).Push(0).Op(vm.CALLDATACOPY)
	if create2 {
		p.Push(0).Op(vm.CALLDATALOAD, vm.SWAP1) // salt size
	}
	p.Push(0).Push(0) // offset value
	if create2 {
		p.Op(vm.CREATE2)
	} else {
		p.Op(vm.CREATE)
	}
	p.Op(vm.DUP1).Push(0).Op(vm.SSTORE)
	p.Op(vm.RETURNDATASIZE).Push(1).Op(vm.SSTORE)
	p.Push(0).Op(vm.MSTORE).Return(0, 32)
	return p.Bytes()
}

// Forwarder modes: the first calldata word picks how the rest is sent to
// the Ledger precompile.
const (
	fwdCall         = iota // CALL; bubble a failure up
	fwdCallThenFail        // CALL, then revert
	fwdStatic              // STATICCALL; bubble a failure up
	fwdDelegate            // DELEGATECALL; bubble a failure up
	fwdCatch               // CALL; record success in slot 0 and carry on
)

var topicDone = crypto.Keccak256Hash([]byte("done"))

// forwarderCode counts its calls in slot 1, sends calldata[32:] to the
// Ledger as the first word says, logs LOG1(topicDone) and returns the
// Ledger's output. The count comes first, so an abandoned untraced attempt
// (see precompile.go) would show in it.
func forwarderCode() []byte {
	a := newAsm()
	a.Push(1).Op(vm.SLOAD).Push(1).Op(vm.ADD).Push(1).Op(vm.SSTORE)
	a.Push(32).Op(vm.CALLDATASIZE, vm.SUB).Op(vm.DUP1).Push(32).Push(0).Op(vm.CALLDATACOPY) // [size]
	for _, m := range []struct {
		mode  int
		label string
	}{{fwdCallThenFail, "call"}, {fwdCatch, "call"}, {fwdStatic, "static"}, {fwdDelegate, "delegate"}} {
		a.Push(m.mode).Push(0).Op(vm.CALLDATALOAD, vm.EQ)
		a.jumpi(m.label)
	}
	a.mark("call")
	a.Push(0).Push(0).Op(vm.DUP3).Push(0).Push(0).Push(ledger.Address).Op(vm.GAS, vm.CALL)
	a.jump("after")
	a.mark("static")
	a.Push(0).Push(0).Op(vm.DUP3).Push(0).Push(ledger.Address).Op(vm.GAS, vm.STATICCALL)
	a.jump("after")
	a.mark("delegate")
	a.Push(0).Push(0).Op(vm.DUP3).Push(0).Push(ledger.Address).Op(vm.GAS, vm.DELEGATECALL)
	a.mark("after") // [size ok]
	a.Push(fwdCatch).Push(0).Op(vm.CALLDATALOAD, vm.EQ)
	a.jumpi("catch")
	a.Op(vm.ISZERO)
	a.jumpi("bubble")
	a.Push(fwdCallThenFail).Push(0).Op(vm.CALLDATALOAD, vm.EQ)
	a.jumpi("fail")
	a.mark("done")
	a.Push(topicDone).Push(0).Push(0).Op(vm.LOG1)
	a.Op(vm.RETURNDATASIZE).Push(0).Push(0).Op(vm.RETURNDATACOPY).Op(vm.RETURNDATASIZE).Push(0).Op(vm.RETURN)
	a.mark("catch")
	a.Push(0).Op(vm.SSTORE)
	a.jump("done")
	a.mark("bubble")
	a.Op(vm.RETURNDATASIZE).Push(0).Push(0).Op(vm.RETURNDATACOPY).Op(vm.RETURNDATASIZE).Push(0).Op(vm.REVERT)
	a.mark("fail")
	a.Push(0).Push(0).Op(vm.REVERT)
	return a.code()
}

// returnSizeInit is init code returning n zero bytes as the runtime code.
func returnSizeInit(n int) []byte { return program.New().Return(0, n).Bytes() }

// selfDestructInit writes slot 5 and self-destructs in its constructor.
func selfDestructInit() []byte {
	return program.New().Sstore(5, 7).Selfdestruct(common.HexToAddress("0xdead")).Bytes()
}
