// Package chain is one chain's ledger of record: it opens the database at a
// consistent head (writing genesis on first start), validates transactions
// for inclusion (FISCO-style block-limit window and nonce uniqueness),
// builds and verifies blocks by executing them, commits a block with its
// receipts, certificate, indexes and state changes in one atomic batch, and
// answers queries with Merkle proofs.
//
// Consensus engines drive a Chain; a Chain knows nothing of consensus except
// the certificate it stores beside each block. A failed durable write puts
// the Chain in a failed state: every later call returns ErrHalted, so nothing
// carries on with state that differs from disk.
package chain
