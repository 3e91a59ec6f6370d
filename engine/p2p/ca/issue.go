package ca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// NodeSpec describes a node certificate to issue.
type NodeSpec struct {
	// Name is the node's name: the certificate's CommonName and a DNS SAN.
	// 1..64 characters of letters, digits, '-' and '.'.
	Name string
	// Hosts are extra SANs, IP addresses or DNS names. 127.0.0.1 and
	// localhost are always included. The p2p layer does not check host
	// names (a node is its key); the SANs help humans and other tools.
	Hosts []string
	// NotBefore and NotAfter bound validity; zero values mean one hour ago
	// and NodeValidity from now.
	NotBefore, NotAfter time.Time
	// Key re-issues a certificate for an existing key, keeping the node id;
	// nil generates a new P-256 key.
	Key *ecdsa.PrivateKey
}

// Issued is a new node certificate and its key.
type Issued struct {
	ID      NodeID
	Serial  *big.Int
	Cert    *x509.Certificate
	CertPEM []byte
	KeyPEM  []byte
}

// Issue signs a node certificate and records it under issued/.
func (a *Authority) Issue(spec NodeSpec) (*Issued, error) {
	if err := checkName(spec.Name); err != nil {
		return nil, err
	}
	key, err := nodeKey(spec.Key)
	if err != nil {
		return nil, err
	}
	tmpl, err := nodeTemplate(spec)
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.Cert, &key.PublicKey, a.key)
	if err != nil {
		return nil, fmt.Errorf("sign node certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	iss := &Issued{ID: IDOf(cert), Serial: cert.SerialNumber, Cert: cert, CertPEM: encodePEM(pemCert, der), KeyPEM: keyPEM}
	return iss, createFile(a.issuedPath(cert.SerialNumber), iss.CertPEM, 0o644)
}

func nodeKey(k *ecdsa.PrivateKey) (*ecdsa.PrivateKey, error) {
	if k != nil {
		return k, nil
	}
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

func nodeTemplate(spec NodeSpec) (*x509.Certificate, error) {
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: spec.Name, Organization: []string{"Tally"}},
		NotBefore:    orDefault(spec.NotBefore, now.Add(-clockSkew)),
		NotAfter:     orDefault(spec.NotAfter, now.Add(NodeValidity)),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		// Both: every node is a TLS server to some peers and a client to others.
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:    []string{spec.Name, "localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	for _, h := range spec.Hosts {
		addHost(tmpl, h)
	}
	return tmpl, nil
}

func addHost(tmpl *x509.Certificate, h string) {
	if ip := net.ParseIP(h); ip != nil {
		if !ip.Equal(net.IPv4(127, 0, 0, 1)) {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		}
		return
	}
	for _, d := range tmpl.DNSNames {
		if d == h {
			return
		}
	}
	tmpl.DNSNames = append(tmpl.DNSNames, h)
}

func orDefault(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}

func checkName(name string) error {
	if len(name) < 1 || len(name) > 64 || name[0] == '-' || name[0] == '.' {
		return fmt.Errorf("node name %q: want 1..64 letters, digits, '-' or '.', not starting with '-' or '.'", name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return fmt.Errorf("node name %q: character %q not allowed (letters, digits, '-', '.')", name, c)
		}
	}
	return nil
}

func (a *Authority) issuedPath(serial *big.Int) string {
	return filepath.Join(a.dir, IssuedDir, serial.Text(16)+".crt")
}

// IssueNode issues a certificate for a node called name and writes its
// directory: node.key (mode 0600), node.crt, and copies of the CA's ca.crt
// and crl.pem, which is everything p2p.LoadTLS needs. hosts are extra SANs
// (see NodeSpec.Hosts). It refuses to overwrite an existing node.key.
func IssueNode(caDir, outDir, name string, hosts []string) (*Issued, error) {
	a, err := LoadAuthority(caDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(outDir, 0o700); err != nil {
		return nil, fmt.Errorf("node dir: %w", err)
	}
	if _, err := os.Stat(filepath.Join(outDir, NodeKeyFile)); err == nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(outDir, NodeKeyFile), ErrExists)
	}
	iss, err := a.Issue(NodeSpec{Name: name, Hosts: hosts})
	if err != nil {
		return nil, err
	}
	return iss, a.WriteNodeDir(outDir, iss)
}

// WriteNodeDir writes an issued certificate, its key and the CA's public
// files into a node directory.
func (a *Authority) WriteNodeDir(outDir string, iss *Issued) error {
	if err := createFile(filepath.Join(outDir, NodeKeyFile), iss.KeyPEM, 0o600); err != nil {
		return err
	}
	if err := replaceFile(filepath.Join(outDir, NodeCertFile), iss.CertPEM, 0o644); err != nil {
		return err
	}
	if err := replaceFile(filepath.Join(outDir, CACertFile), encodePEM(pemCert, a.Cert.Raw), 0o644); err != nil {
		return err
	}
	crl, err := os.ReadFile(filepath.Join(a.dir, CRLFile))
	if err != nil {
		return err
	}
	return replaceFile(filepath.Join(outDir, CRLFile), crl, 0o644)
}
