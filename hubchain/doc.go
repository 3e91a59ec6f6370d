// Package hubchain is the hub application: the Hub precompile (0x5003) keeps
// a light client of every user chain, books each chain's epoch summaries
// exactly once and in order after checking their proofs and arithmetic,
// keeps each hot account's general ledger (totals, per-chain sub-ledgers,
// reserve, in-flight packets, near-real-time balance), receives sweeps and
// sends allocations as ordered packets.
//
// Booking is all or nothing: a bundle that fails any check is rejected with
// a reason and changes no state (the executor discards a failed call's writes).
package hubchain
