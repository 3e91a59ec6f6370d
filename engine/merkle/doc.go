// Package merkle builds binary Merkle trees in the style of RFC 6962 (the
// Certificate Transparency tree) over canonical leaf encodings, with
// domain-separated leaf and node hashes, and proves and verifies inclusion.
//
// A verifier needs only the root from a certified header, the leaf bytes,
// and the Proof: VerifyInclusion is standalone so that light clients (the
// relay, the hub, user chains following the hub) use it directly.
package merkle
