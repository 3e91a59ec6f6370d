package ca

import "errors"

// Reasons a certificate is refused. The p2p layer logs which one applied.
var (
	// ErrNoCertificate: the peer presented no certificate.
	ErrNoCertificate = errors.New("no certificate presented")
	// ErrUnknownAuthority: the consortium CA did not sign the certificate.
	ErrUnknownAuthority = errors.New("certificate not signed by the consortium CA")
	// ErrExpired: the certificate is outside its validity period.
	ErrExpired = errors.New("certificate expired or not yet valid")
	// ErrRevoked: the CA revoked the certificate.
	ErrRevoked = errors.New("certificate revoked")
	// ErrInvalidCertificate: anything else wrong with the certificate (usage, key type).
	ErrInvalidCertificate = errors.New("invalid certificate")
	// ErrCRL: a revocation list that is unsigned, foreign or older than the current one.
	ErrCRL = errors.New("invalid revocation list")
	// ErrUnknownSerial: Revoke was asked for a serial this CA never issued.
	ErrUnknownSerial = errors.New("serial not issued by this CA")
	// ErrExists: InitCA would overwrite an existing CA, or IssueNode an existing key.
	ErrExists = errors.New("already exists")
)
