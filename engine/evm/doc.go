// Package evm is the embedded Ethereum Virtual Machine: go-ethereum's
// core/vm over the engine's key-value state.
//
// VM implements exec.VM. Each Apply builds a fresh vm.EVM for one
// transaction over a stateDB, the vm.StateDB adapter that keeps accounts,
// code and storage in the transaction's state.TxView (keys in keys.go) and
// journals everything else the EVM needs per transaction (access list,
// transient storage, refund, logs, self-destructs) so that EVM snapshots
// revert both together.
//
// Tally has no native coin: every balance is zero and a value transfer fails
// the way an Ethereum transfer with an empty balance fails. Only the
// creation of a contract bumps an account's nonce, because Tally
// transactions carry random nonces of their own; CREATE addresses therefore
// count the creations of their sender.
//
// The chain's precompiles (exec.Contract) are installed in every EVM, so
// Solidity calls them at their fixed addresses. Such a call runs with the
// calling contract as exec.Env.Caller, writes through the same TxView (an
// EVM revert undoes it) and emits its logs into the EVM's log journal (a
// revert drops them). STATICCALL reaches only view methods; DELEGATECALL
// and CALLCODE are refused, because the callee's identity would be
// ambiguous.
//
// Gas follows Ethereum where Tally has no rule of its own: a creation pays
// Ethereum's creation surcharge and init-code words on top of
// exec.IntrinsicGas and is bounded by EIP-3860; a successful transaction
// gets the EIP-3529 refund. A transaction that fails changes nothing (the
// executor drops its view), so a failed creation does not advance its
// sender's nonce either. A call to an address with neither code nor a
// precompile fails with StatusNoContract: with no coin there is nothing
// such a call could do.
//
// The rules are go-ethereum's Osaka; keys.go documents the state layout.
package evm
