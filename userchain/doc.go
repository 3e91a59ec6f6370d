// Package userchain is the user-chain application: the Shadow precompile
// (0x5002) that holds each hot account's shadow on this chain, settles the
// chain's epoch into an EpochSummary for the hub, sends sweeps to the hub
// and applies the hub's allocations through a light client of the hub.
//
// A payment is a commutative delta on the shadow's pendingIncome, so
// payments from many users to one merchant in one block run in parallel.
// Payouts spend only `available` (allocations plus settled income) and never
// overdraw. settle closes the epoch: it emits one summary whose every entry
// satisfies closing = opening + income + allocIn - payouts - sweepOut, then
// moves pendingIncome into available.
package userchain
