// Package simulation runs a whole Tally consortium — the hub, N user chains,
// the relay and (later) the router — in one process over real gRPC on
// loopback and real badger on disk, drives it with workloads, injects
// faults, and checks the settlement invariants from the chains' own data.
// The same harness runs `tally sim` and the integration tests.
package simulation
