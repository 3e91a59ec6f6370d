// Package types holds the objects that Tally hashes, signs and stores —
// transactions, block headers, blocks, receipts, logs, validator sets and
// finality certificates — with their one canonical encoding (RLP).
//
// Hashes are always computed over the canonical bytes alone, with the chain's
// crypto suite. Decoders accept only canonical input: re-encoding a decoded
// object yields the same bytes, and trailing bytes are an error.
package types
