package ca

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
)

// NodeID identifies a node: the SHA-256 of its certificate's
// SubjectPublicKeyInfo. The zero value means "no node".
type NodeID [32]byte

// IDOf derives the node id from a certificate's public key.
func IDOf(cert *x509.Certificate) NodeID {
	return sha256.Sum256(cert.RawSubjectPublicKeyInfo)
}

// String is the full lowercase hex id, as configs and the CLI spell it.
func (id NodeID) String() string { return hex.EncodeToString(id[:]) }

// Short is the first 8 bytes in hex, for logs.
func (id NodeID) Short() string { return hex.EncodeToString(id[:8]) }

// IsZero reports whether id is the zero value.
func (id NodeID) IsZero() bool { return id == NodeID{} }

// ParseNodeID reads a 64-character hex id.
func ParseNodeID(s string) (NodeID, error) {
	var id NodeID
	if len(s) != 2*len(id) {
		return id, fmt.Errorf("node id %q: want %d hex characters", s, 2*len(id))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("node id %q: %w", s, err)
	}
	return id, nil
}
