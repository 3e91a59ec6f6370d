// Package ca is the consortium's certificate authority (准入): it creates the
// CA, issues node certificates, revokes them, and verifies a peer's
// certificate chain for the p2p layer.
//
// # Keys
//
// The CA and node keys are ECDSA P-256, used only for TLS between nodes.
// They are deliberately separate from a chain's signing keys (secp256k1 or
// SM2):
//   - one node process hosts several chains, possibly with different crypto
//     suites, but has one network identity;
//   - crypto/tls cannot use secp256k1 certificates, and SM2 certificates need
//     SM-TLS (a later option, see package p2p);
//   - a validator key may live in an HSM or remote signer, while the TLS key
//     must be online in the network stack: a leaked TLS key lets an attacker
//     join the network, not sign blocks;
//   - admission (this CA) and the validator set (on-chain governance) change
//     independently: revoking a machine does not rewrite a validator set,
//     and rotating a TLS key does not change who votes.
//
// # Files
//
// A CA directory holds ca.key (PKCS#8, mode 0600), ca.crt, crl.pem and
// issued/<serial>.crt, a copy of every certificate issued (so that Revoke
// can refuse serials this CA never issued). A node directory written by
// IssueNode holds node.key, node.crt, and copies of ca.crt and crl.pem.
//
// # Revocation
//
// Revocation is a standard X.509 CRL (RFC 5280) signed by the CA key, with a
// CRL number that grows by one on every revocation. Verifiers accept a new
// CRL only if the CA signed it and its number is not lower than the one they
// hold, so an old list cannot be replayed to un-revoke a node. The CRL is the
// complete list: operators copy crl.pem to every node; NextUpdate is not
// enforced, because an out-of-date list must not partition the consortium.
//
// # Node identity
//
// A node's id (NodeID) is the SHA-256 of its certificate's
// SubjectPublicKeyInfo. It is derived from the key the peer proved it holds
// in the TLS handshake, never from anything a message claims; re-issuing a
// certificate for the same key keeps the id.
package ca
