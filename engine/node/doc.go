// Package node wires a Tally node: for each hosted chain (group) it opens
// the badger database, the chain, the transaction pool and the consensus
// driver; it serves the client API over gRPC and HTTP/JSON and Prometheus
// metrics. A failed durable write anywhere stops the node (Fatal).
package node
