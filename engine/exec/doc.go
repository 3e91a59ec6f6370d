// Package exec runs transactions: the precompiled-contract framework
// (native Go at fixed addresses, Solidity-ABI calls, per-call gas, logs,
// declared conflict keys) and the executor that turns a block's transactions
// into receipts over a state.Block.
//
// A precompile call declares, from its input alone, the state keys it will
// read, write or add to (Access). The parallel scheduler builds its DAG from
// those declarations; an undeclared access is a bug, caught by the scheduler.
//
// Failures are data, not errors: a transaction that breaks a rule gets a
// receipt with a status code and a Solidity Error(string) reason, and its
// writes are discarded. Errors returned by the executor itself mean the node
// cannot go on (a broken invariant or a failed read).
package exec
