// Package wire is a canonical binary codec for the RPC messages of
// github.com/hashicorp/raft (v1.8.0). It is the message layer underneath a
// raft.Transport that carries raft traffic over the node's own p2p network.
//
// # Format
//
// An encoded message is one Kind byte followed by exactly one RLP item
// (github.com/ethereum/go-ethereum/rlp), a list whose elements are, in order
// (the first three come from raft.RPCHeader in every message):
//
//	all messages:          ProtocolVersion uint, ID bytes, Addr bytes, ...
//	AppendEntriesRequest:  ..., Term, Leader bytes, PrevLogEntry, PrevLogTerm,
//	                       Entries [Log...], LeaderCommitIndex
//	AppendEntriesResponse: ..., Term, LastLog, Success bool, NoRetryBackoff bool
//	RequestVoteRequest:    ..., Term, Candidate bytes, LastLogIndex, LastLogTerm,
//	                       LeadershipTransfer bool
//	RequestVoteResponse:   ..., Term, Peers bytes, Granted bool
//	RequestPreVoteRequest: ..., Term, LastLogIndex, LastLogTerm
//	RequestPreVoteResponse:..., Term, Granted bool
//	InstallSnapshotRequest:..., SnapshotVersion uint, Term, Leader bytes,
//	                       LastLogIndex, LastLogTerm, Peers bytes,
//	                       Configuration bytes, ConfigurationIndex, Size uint,
//	                       Snapshot bytes
//	InstallSnapshotResponse:..., Term, Success bool
//	TimeoutNowRequest:     (header only)
//	TimeoutNowResponse:    (header only)
//
//	Log: [Index, Term, Type uint8, Data bytes, Extensions bytes,
//	      HasAppendedAt bool, AppendedAt uint]
//
// Unlabelled fields are RLP unsigned integers (uint64).
//
// Representation choices:
//
//   - Log.AppendedAt is carried as a presence flag plus Unix nanoseconds (an
//     int64 stored as its two's-complement uint64). A zero time.Time is
//     HasAppendedAt=false, AppendedAt=0 and decodes to a zero time.Time; any
//     other time is HasAppendedAt=true and decodes to time.Unix(0, ns).UTC().
//     The location and monotonic clock reading are therefore not carried. A
//     non-zero time outside the int64 nanosecond range (before 1678 or after
//     2262) cannot be encoded.
//   - ProtocolVersion, SnapshotVersion (ints in raft) and
//     InstallSnapshotRequest.Size (an int64) are carried as unsigned
//     integers; negative values cannot be encoded and decoded values that do
//     not fit the Go type are rejected.
//   - InstallSnapshotRequest carries the snapshot bytes in the message itself
//     and Size must equal their length, on both encode and decode. Messages
//     are bounded by MaxMessageBytes, which therefore bounds snapshot size.
//
// # Normalisation
//
// RLP does not distinguish nil from empty. Decoding returns nil for every
// empty byte slice (RPCHeader.ID/Addr, Leader, Candidate, Peers,
// Configuration, Log.Data, Log.Extensions, the snapshot) and a nil Entries
// slice when there are no entries. raft treats nil and empty identically for
// all of these. Decoded messages never alias the input buffer.
//
// # Canonical encoding
//
// Every value has exactly one encoding: decoding then re-encoding yields the
// input bytes. Decoding rejects, with an error wrapping ErrMalformed, input
// larger than MaxMessageBytes (also wrapping ErrTooLarge, checked before any
// parsing), empty input, unknown kinds, a response of a kind other than the
// one expected, non-canonical RLP (leading zero bytes in integers or sizes,
// long-form sizes where the short form fits, single bytes wrapped in a
// string header, booleans other than 0x80/0x01), lists with too few or too
// many elements, trailing bytes, out-of-range integers (including a Size that
// would be negative as an int64), a present-flag of false with a non-zero
// AppendedAt, and a Size that disagrees with the snapshot length. Decoding
// never panics.
package wire
