// Package pbft is Tally's PBFT consensus as a pure, deterministic state
// machine, built the way etcd raft is: input through Step, Tick and a few
// application callbacks; output through Ready, which the node persists,
// sends and applies before it calls Advance. The package has no clock,
// network, disk, goroutines or randomness, so a seeded simulation
// (pbftsim) replays any run exactly.
//
// # Protocol
//
// Each height is one PBFT instance over a validator set of n = 3f+1 (more
// is fine; quorums are types.QuorumBFT.Size(n) = n - f). Views start at 0
// for every height; the leader of (height, view) is validator
// (height+view) mod n in address order.
//
//   - pre-prepare: the leader proposes a block (opaque bytes and its header
//     hash). Followers hand it to the application at once (Ready.Validate),
//     so execution overlaps with voting, and prepare only after
//     Validated(ok).
//   - prepare: a follower is prepared once a quorum prepared the hash it
//     validated; it then commits. Votes carry only the hash.
//   - commit: a quorum of commits decides the block. Commit votes sign
//     types.CommitDigest, so the quorum is the block's types.Certificate
//     (Round = the view of the quorum) and types.VerifyCertificate accepts it.
//   - view change: a view times out after BaseTimeoutTicks, doubling per
//     view at the same height. A validator asks for view v+1 with its
//     highest prepared certificate (and that block). f+1 requests for higher
//     views make it join; a quorum lets the leader of v+1 send a new-view
//     that re-proposes the highest prepared block, and followers recompute
//     that choice before they follow. A validator alone in a view change
//     retransmits instead of escalating, so no validator runs ahead.
//   - no empty blocks: a leader is asked for a block (Ready.Propose) only
//     when the application reported HasPending(true), and view timers only
//     run while there is work (pending transactions, a proposal in flight,
//     a prepared block, or f+1 validators proposing or voting in this view
//     or seen at a higher height). View changes alone are no work, so an
//     idle chain sends nothing and does not churn views.
//   - catching up: a validator stuck at an old height that asks for a view
//     change gets the latest certificate from peers; certificates above its
//     height, or f+1 validators two heights ahead, yield Ready.Sync.
//
// # The node's loop
//
//	m, err := pbft.New(cfg, pbft.Start{Height, Hash, Cert, State: walState})
//	for {
//		select {
//		case raw := <-net:   // decode, then verify on any core
//			msg, err := pbft.DecodeMessage(raw)
//			err = pbft.VerifyMessage(suite, validators, msg)
//			m.Step(msg)
//		case <-ticker:       m.Tick()
//		case v := <-app:     m.Validated(v.Height, v.View, v.Hash, v.OK)
//		case b := <-builder: m.Propose(b.Height, b.View, b.Hash, b.Bytes)
//		case s := <-synced:  m.SyncedTo(s.Height, s.Hash, s.Cert)
//		case p := <-txpool:  m.HasPending(p)
//		}
//		for m.HasReady() {
//			rd := m.Ready()
//			// stop on rd.Err; WAL rd.HardState (fsync); apply rd.Committed;
//			// send rd.Messages; start rd.Validate, rd.Propose, rd.Sync.
//			m.Advance()
//		}
//	}
//
// # Trust boundaries
//
// Step trusts signatures — the node calls VerifyMessage, which is
// stateless and parallel, first — and checks everything else: chain id,
// membership, heights and views, sizes, quorums of evidence, who may send
// what. It never panics on any input. Blocks are opaque: the application
// checks that a proposal's bytes hash to its claimed hash and are valid.
//
// # Safety across crashes
//
// Ready.HardState holds every promise made at the current height (the
// view, the hashes pre-prepared, prepared and committed in it, and the
// highest prepared certificate with its block). The node writes it durably
// before it sends that Ready's messages, and New restores from it, so a
// restarted validator never signs two different votes for one
// (height, view). A WAL that is ahead of the durable chain puts the machine
// in a guarded mode: it syncs and signs nothing until it reaches that height.
package pbft
