package evm

import (
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
)

// A minimal ERC-20 core, hand-assembled: balances is a mapping at slot 0
// (key keccak256(address . 0), as solc lays it out); transfer(address,uint256)
// checks the balance, moves it, emits Transfer(from, to, value) and returns
// true; balanceOf(address) returns a balance. The constructor credits its
// creator with the whole supply (tokenInit).

var (
	selTransfer  = crypto.Keccak256([]byte("transfer(address,uint256)"))[:4]
	selBalanceOf = crypto.Keccak256([]byte("balanceOf(address)"))[:4]
	topicXfer    = crypto.Keccak256Hash([]byte("Transfer(address,address,uint256)"))
)

// balanceKey leaves keccak256(word . 0), the slot of balances[word], on
// the stack; word is already on the stack.
func balanceKey(a *asm) {
	a.Push(0).Op(vm.MSTORE).Push(0).Push(32).Op(vm.MSTORE)
	a.Push(64).Push(0).Op(vm.KECCAK256)
}

func tokenRuntime() []byte {
	a := newAsm()
	a.Push(0).Op(vm.CALLDATALOAD).Push(0xe0).Op(vm.SHR)
	a.Op(vm.DUP1).Push(selTransfer).Op(vm.EQ)
	a.jumpi("transfer")
	a.Push(selBalanceOf).Op(vm.EQ)
	a.jumpi("balanceOf")
	a.Push(0).Op(vm.DUP1, vm.REVERT)

	a.mark("balanceOf")
	a.Push(4).Op(vm.CALLDATALOAD)
	balanceKey(a)
	a.Op(vm.SLOAD).Push(0).Op(vm.MSTORE).Return(0, 32)

	a.mark("transfer")
	a.Op(vm.CALLER)
	balanceKey(a)                                          // [kf]
	a.Op(vm.DUP1, vm.SLOAD).Push(0x24).Op(vm.CALLDATALOAD) // [kf bf amt]
	a.Op(vm.DUP1, vm.DUP3, vm.LT)                          // bf < amt
	a.jumpi("fail")
	a.Op(vm.SWAP1, vm.SUB, vm.SWAP1, vm.SSTORE) // balances[from] = bf - amt
	a.Push(4).Op(vm.CALLDATALOAD)
	balanceKey(a) // [kt]
	a.Op(vm.DUP1, vm.SLOAD).Push(0x24).Op(vm.CALLDATALOAD, vm.ADD, vm.SWAP1, vm.SSTORE)
	a.Push(0x24).Op(vm.CALLDATALOAD).Push(0).Op(vm.MSTORE)
	a.Push(4).Op(vm.CALLDATALOAD, vm.CALLER).Push(topicXfer).Push(32).Push(0).Op(vm.LOG3)
	a.Push(1).Push(0).Op(vm.MSTORE).Return(0, 32)

	a.mark("fail")
	a.Push(0).Op(vm.DUP1, vm.REVERT)
	return a.code()
}

// tokenInit credits the creator with supply and deploys tokenRuntime.
func tokenInit(supply *big.Int) []byte {
	a := newAsm()
	a.Push(supply).Op(vm.CALLER)
	balanceKey(a)
	a.Op(vm.SSTORE)
	a.ReturnViaCodeCopy(tokenRuntime())
	return a.code()
}

func transferData(to common.Address, amount uint64) []byte {
	return concat(selTransfer, common.BytesToHash(to[:]).Bytes(), word(amount))
}

func balanceOfData(who common.Address) []byte {
	return concat(selBalanceOf, common.BytesToHash(who[:]).Bytes())
}
