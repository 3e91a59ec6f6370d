package p2p

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"path/filepath"

	"google.golang.org/grpc/credentials"

	"github.com/tallyhq/tally/engine/p2p/ca"
)

// NodeID identifies a node by its TLS key (see package ca).
type NodeID = ca.NodeID

// ParseNodeID reads a 64-character hex node id.
func ParseNodeID(s string) (NodeID, error) { return ca.ParseNodeID(s) }

// Credentials authenticate this node to its peers and its peers to it. They
// are injected into New, which is the seam for SM-TLS: an implementation
// over tjfoc's gmtls (gmcredentials.NewTLS, dual SM2 certificates) returns
// its transport credentials here and reads gmcredentials.TLSInfo in Verify;
// nothing else in the package depends on crypto/tls. TLS is the X.509 one.
type Credentials interface {
	// Self is this node's id.
	Self() NodeID
	// ServerCredentials authenticate inbound connections; they must require
	// and verify the client's certificate during the handshake.
	ServerCredentials() credentials.TransportCredentials
	// ClientCredentials authenticate outbound connections, verifying the server.
	ClientCredentials() credentials.TransportCredentials
	// Verify checks a handshake's peer again, now (validity period,
	// revocation), and returns its node id, derived from the authenticated
	// key. The network calls it after every handshake and periodically.
	Verify(credentials.AuthInfo) (NodeID, error)
}

// Refresher is optionally implemented by Credentials whose revocation state
// can be reloaded; the network calls Refresh before each periodic check.
type Refresher interface {
	Refresh() error
}

// TLS is mutual TLS 1.3 with certificates from the consortium CA.
type TLS struct {
	cert     tls.Certificate
	self     NodeID
	verifier *ca.Verifier
	crlFile  string // "" if the CRL was not loaded from a file
}

// NewTLS uses cert as this node's identity and v to admit peers. It checks
// cert with v, so that a node with an expired, revoked or foreign
// certificate fails at start-up rather than being refused by every peer.
func NewTLS(cert tls.Certificate, v *ca.Verifier) (*TLS, error) {
	leaf := cert.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("own certificate: %w", err)
		}
	}
	id, err := v.Verify([]*x509.Certificate{leaf})
	if err != nil {
		return nil, fmt.Errorf("own certificate %q: %w", leaf.Subject.CommonName, err)
	}
	return &TLS{cert: cert, self: id, verifier: v}, nil
}

// LoadTLS reads a node directory written by ca.IssueNode (node.crt,
// node.key, ca.crt, crl.pem). Refresh rereads crl.pem, so copying the CA's
// new CRL there revokes within Config.RevalidateInterval.
func LoadTLS(dir string) (*TLS, error) {
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, ca.NodeCertFile), filepath.Join(dir, ca.NodeKeyFile))
	if err != nil {
		return nil, fmt.Errorf("node certificate: %w", err)
	}
	crlFile := filepath.Join(dir, ca.CRLFile)
	v, err := ca.LoadVerifier(filepath.Join(dir, ca.CACertFile), crlFile)
	if err != nil {
		return nil, err
	}
	t, err := NewTLS(cert, v)
	if err != nil {
		return nil, err
	}
	t.crlFile = crlFile
	return t, nil
}

// Self implements Credentials.
func (t *TLS) Self() NodeID { return t.self }

// Verifier is the CA verifier in use; SetCRL on it revokes at once (call
// Network.Revalidate to drop live connections too).
func (t *TLS) Verifier() *ca.Verifier { return t.verifier }

// ServerCredentials implements Credentials.
func (t *TLS) ServerCredentials() credentials.TransportCredentials {
	return credentials.NewTLS(t.config())
}

// ClientCredentials implements Credentials.
func (t *TLS) ClientCredentials() credentials.TransportCredentials {
	return credentials.NewTLS(t.config())
}

// config serves both roles. Peer verification is ours, not crypto/tls's
// (hence InsecureSkipVerify): the consortium CA, the CRL, and no host names,
// because a node is its key wherever it runs. VerifyConnection runs on both
// sides of every handshake; session tickets are off so that no resumed
// session skips it.
func (t *TLS) config() *tls.Config {
	return &tls.Config{
		Certificates:           []tls.Certificate{t.cert},
		MinVersion:             tls.VersionTLS13,
		ClientAuth:             tls.RequireAnyClientCert,
		InsecureSkipVerify:     true,
		SessionTicketsDisabled: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			_, err := t.verifier.Verify(cs.PeerCertificates)
			return err
		},
	}
}

// Verify implements Credentials.
func (t *TLS) Verify(ai credentials.AuthInfo) (NodeID, error) {
	ti, ok := ai.(credentials.TLSInfo)
	if !ok {
		return NodeID{}, fmt.Errorf("%w: not a TLS connection (%T)", ca.ErrNoCertificate, ai)
	}
	return t.verifier.Verify(ti.State.PeerCertificates)
}

// Refresh implements Refresher: it rereads crl.pem and installs it if its
// CRL number changed. A bad or older list is refused and the current one
// stays.
func (t *TLS) Refresh() error {
	if t.crlFile == "" {
		return nil
	}
	crl, err := ca.ReadCRL(t.crlFile)
	if err != nil {
		return err
	}
	if crl.Number != nil && crl.Number.Cmp(t.verifier.CRLNumber()) == 0 {
		return nil
	}
	return t.verifier.SetCRL(crl)
}
