// Package relay is the relayer between user chains and the hub. For every
// user chain it follows committed blocks in order and carries each proven
// sweep packet (hub.recvSweep) and epoch summary (hub.book) to the hub; it
// follows the hub and carries each proven allocation to its user chain
// (Shadow.recvAllocation); and every epoch interval it asks each user chain
// to settle. Its cursors (the last fully relayed block of each chain) live
// in badger, so a restart resumes without gaps; the receivers are idempotent
// by packet and epoch seq, so resubmission after a crash, or a second relay
// running side by side, never books anything twice.
package relay
