// Package settlement holds what user chains and the hub share: the epoch
// summary a user chain emits when it settles its shadow accounts, the
// ordered packets that move liquidity between them (sweeps to the hub,
// allocations from it), the proof bundles the relay carries, and the
// arithmetic every entry must satisfy.
//
// userchain and hubchain never import each other; both import this package.
// Everything here has one canonical RLP encoding and is hashed with the
// source chain's suite.
package settlement
