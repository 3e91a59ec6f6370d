// Package state is the engine's key-value world state during execution.
//
// Three layers: a Backend holds committed state (the database at the head);
// a Block overlay collects one block's writes over it and yields the sorted
// change set that storage commits and the state root chains over; a TxView
// is one transaction's writes over the block, with a journal for nested
// snapshots and reverts. A TxView records commutative deltas ("add N to K")
// apart from plain writes, so that the parallel scheduler can run many
// deltas on one key at once and fold them in block order. Block.Fold is
// that fold for a whole wave, spread over cores by key shard.
//
// Keys are namespaced by their owner ("ledger/", "roles/", "sys/", "evm/" …).
// An empty value means absent: Set(k, nil) deletes k.
package state
