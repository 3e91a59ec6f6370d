package ca

import (
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Verifier decides whether a peer certificate is admitted: signed by the
// consortium CA, within its validity period, a node certificate, and not
// revoked. It is safe for concurrent use; SetCRL swaps the revocation list
// while connections are being verified.
type Verifier struct {
	root  *x509.Certificate
	roots *x509.CertPool
	now   func() time.Time

	mu  sync.Mutex // serializes SetCRL so the number check and swap are atomic
	crl atomic.Pointer[revocations]
}

type revocations struct {
	number  *big.Int
	serials map[string]struct{} // serial as hex
}

// NewVerifier trusts root, the consortium CA, with crl as the revocation
// list (nil: nothing revoked yet). now is the clock used for validity
// periods; nil means time.Now. Tests inject it.
func NewVerifier(root *x509.Certificate, crl *x509.RevocationList, now func() time.Time) (*Verifier, error) {
	if !root.IsCA || !root.BasicConstraintsValid {
		return nil, fmt.Errorf("%w: %q is not a CA certificate", ErrInvalidCertificate, root.Subject.CommonName)
	}
	if now == nil {
		now = time.Now
	}
	v := &Verifier{root: root, roots: x509.NewCertPool(), now: now}
	v.roots.AddCert(root)
	v.crl.Store(&revocations{number: new(big.Int), serials: map[string]struct{}{}})
	if crl == nil {
		return v, nil
	}
	return v, v.SetCRL(crl)
}

// LoadVerifier reads the CA certificate and CRL files of a node directory.
func LoadVerifier(caCertFile, crlFile string) (*Verifier, error) {
	root, err := ReadCert(caCertFile)
	if err != nil {
		return nil, fmt.Errorf("ca certificate: %w", err)
	}
	crl, err := ReadCRL(crlFile)
	if err != nil {
		return nil, fmt.Errorf("revocation list: %w", err)
	}
	return NewVerifier(root, crl, nil)
}

// SetCRL installs a new revocation list. It must be signed by the CA and
// its number must not be lower than the current one, so that an old list
// cannot be replayed to un-revoke a node.
func (v *Verifier) SetCRL(crl *x509.RevocationList) error {
	if err := crl.CheckSignatureFrom(v.root); err != nil {
		return fmt.Errorf("%w: not signed by the consortium CA: %v", ErrCRL, err)
	}
	if crl.Number == nil {
		return fmt.Errorf("%w: no CRL number", ErrCRL)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if cur := v.crl.Load(); crl.Number.Cmp(cur.number) < 0 {
		return fmt.Errorf("%w: number %s is older than the current %s", ErrCRL, crl.Number, cur.number)
	}
	r := &revocations{number: crl.Number, serials: make(map[string]struct{}, len(crl.RevokedCertificateEntries))}
	for _, e := range crl.RevokedCertificateEntries {
		r.serials[e.SerialNumber.Text(16)] = struct{}{}
	}
	v.crl.Store(r)
	return nil
}

// CRLNumber is the number of the revocation list in force.
func (v *Verifier) CRLNumber() *big.Int { return new(big.Int).Set(v.crl.Load().number) }

// Verify checks a peer's certificate chain (leaf first, as TLS presents it)
// and returns the node id of the leaf. Only the leaf is used: nodes are
// signed by the root directly, so extra certificates cannot widen trust.
// The error wraps ErrNoCertificate, ErrUnknownAuthority, ErrExpired,
// ErrRevoked or ErrInvalidCertificate.
func (v *Verifier) Verify(chain []*x509.Certificate) (NodeID, error) {
	if len(chain) == 0 {
		return NodeID{}, ErrNoCertificate
	}
	leaf := chain[0]
	opts := x509.VerifyOptions{Roots: v.roots, CurrentTime: v.now(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	if _, err := leaf.Verify(opts); err != nil {
		return NodeID{}, classify(err)
	}
	if err := checkNodeCert(leaf); err != nil {
		return NodeID{}, err
	}
	if _, ok := v.crl.Load().serials[leaf.SerialNumber.Text(16)]; ok {
		return NodeID{}, fmt.Errorf("%w: serial %s (%q)", ErrRevoked, leaf.SerialNumber.Text(16), leaf.Subject.CommonName)
	}
	return IDOf(leaf), nil
}

func classify(err error) error {
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua):
		return fmt.Errorf("%w: %v", ErrUnknownAuthority, err)
	case errors.As(err, &ci) && ci.Reason == x509.Expired:
		return fmt.Errorf("%w: %v", ErrExpired, err)
	default:
		return fmt.Errorf("%w: %v", ErrInvalidCertificate, err)
	}
}

// checkNodeCert refuses certificates the CA would not issue to a node: a
// CA certificate presented as a leaf, or one not valid for both TLS roles.
func checkNodeCert(c *x509.Certificate) error {
	if c.IsCA {
		return fmt.Errorf("%w: %q is a CA certificate, not a node's", ErrInvalidCertificate, c.Subject.CommonName)
	}
	for _, u := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if !slices.Contains(c.ExtKeyUsage, u) {
			return fmt.Errorf("%w: %q lacks server and client authentication usage", ErrInvalidCertificate, c.Subject.CommonName)
		}
	}
	return nil
}
