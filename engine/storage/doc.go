// Package storage is the engine's key-value layer: a small DB/Batch
// interface, a badger/v4 backend on disk, an in-memory backend for tests, and
// one conformance suite that both pass. schema.go documents every key the
// engine writes; no other file invents keys.
package storage
