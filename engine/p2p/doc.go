// Package p2p is the node-to-node network: admission by the consortium CA,
// mutual TLS, and one gRPC stream per pair of nodes that carries every
// chain's messages between them.
//
// # Use
//
//	creds, err := p2p.LoadTLS(dir)              // node.crt, node.key, ca.crt, crl.pem
//	net, err := p2p.New(cfg, creds, log)
//	ch, err := net.Join(chainID, members, func(from p2p.NodeID, kind uint32, payload []byte) error {
//		... decode, verify, hand to the consensus loop; an error blames the peer
//	})
//	ch.HandleRequests(serveBlocks)              // optional, for block sync
//	net.Start()
//	ch.Broadcast(kind, bytes); ch.Send(to, kind, bytes)
//	resp, err := ch.Request(ctx, to, kind, bytes)
//	net.Stop()
//
// # Identity and admission
//
// A node's id is the SHA-256 of its certificate's public key (ca.NodeID),
// taken from the TLS handshake, never from a message. A connection is
// refused, and the log says why ("peer refused", cause=unknown-authority,
// revoked, expired, no-certificate, banned, wrong-peer), unless the peer's
// certificate was signed by the consortium CA, is within its validity, and is
// not in the CA's revocation list. Live connections are checked again every
// RevalidateInterval, so revocation and expiry also end existing
// connections. TLS keys are not the chains' signing keys; package ca says
// why. Credentials are injected (the Credentials interface): SM-TLS is a
// later implementation of it, not a change to this package.
//
// # Chains and membership
//
// Every envelope names its chain. Join gives each chain its member ids;
// Send, Broadcast and Request reach members only. An inbound message for a
// chain from a non-member is dropped and counted (Stats.NonMember) but not
// held against the sender, whose member list may lag a validator-set
// change; one for a chain this node has not joined is dropped, counted and
// held against the sender (see InvalidLimit).
//
// # Bounds and misbehaviour
//
//   - Size: payloads above MaxMsgBytes are refused by Send; inbound, gRPC
//     refuses a larger frame from its length prefix before allocating it.
//   - Queues: each peer has a send queue bounded in messages and bytes that
//     drops its oldest message when full (see queue). Send never blocks, so a
//     slow peer never stalls consensus; drops are counted. Queues outlive
//     connections, so messages sent during a reconnection are delivered.
//   - A peer that sends a malformed or oversized frame is disconnected and
//     banned for BanDuration at once; one whose messages are invalid
//     (unknown chain, refused by the handler) is after InvalidLimit of them
//     on one connection.
//   - Requests are bounded in size (MaxMsgBytes), time (RequestTimeout) and
//     concurrency per peer (MaxInflightRequests).
//
// # Connections
//
// Every node dials its configured Peers and redials lost ones with
// exponential backoff and seeded jitter. Two nodes that dial each other keep
// one connection, the one dialed by the lower node id; both ends apply the
// same rule, so they agree. Messages from one peer are handled in order.
//
// # Faults
//
// An Interceptor (SetInterceptor) sees every packet at both ends and can
// drop or delay it: the simulator and chaos tests build partitions, loss
// and latency with it.
package p2p
