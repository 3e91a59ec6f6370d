package ca

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func newCA(t *testing.T) *Authority {
	t.Helper()
	a, err := InitCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestInitCA(t *testing.T) {
	a := newCA(t)
	if !a.Cert.IsCA || !a.Cert.MaxPathLenZero {
		t.Fatal("CA certificate is not a path-length-0 CA")
	}
	fi, err := os.Stat(filepath.Join(a.dir, CAKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("ca.key: %v, mode %v, want 0600", err, fi.Mode())
	}
	crl, err := a.CRL()
	if err != nil || crl.Number.Int64() != 1 || len(crl.RevokedCertificateEntries) != 0 {
		t.Fatalf("initial CRL: %v %+v", err, crl)
	}
	if _, err := InitCA(a.dir); !errors.Is(err, ErrExists) {
		t.Fatalf("InitCA over an existing CA: %v, want ErrExists", err)
	}
	b, err := LoadAuthority(a.dir)
	if err != nil || !b.Cert.Equal(a.Cert) {
		t.Fatalf("LoadAuthority: %v", err)
	}
}

func TestIssueNode(t *testing.T) {
	a := newCA(t)
	out := filepath.Join(t.TempDir(), "n1")
	iss, err := IssueNode(a.dir, out, "node-1", []string{"10.0.0.7", "n1.example"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{NodeKeyFile, NodeCertFile, CACertFile, CRLFile} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Fatalf("node dir lacks %s", f)
		}
	}
	cert, err := ReadCert(filepath.Join(out, NodeCertFile))
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "node-1" || !slices.Contains(cert.DNSNames, "node-1") ||
		!slices.Contains(cert.DNSNames, "localhost") || !slices.Contains(cert.DNSNames, "n1.example") {
		t.Fatalf("names: CN %q, DNS %v", cert.Subject.CommonName, cert.DNSNames)
	}
	if len(cert.IPAddresses) != 2 || !cert.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)) || !cert.IPAddresses[1].Equal(net.ParseIP("10.0.0.7")) {
		t.Fatalf("IPs %v", cert.IPAddresses)
	}
	if iss.ID != sha256.Sum256(cert.RawSubjectPublicKeyInfo) {
		t.Fatal("node id is not the SHA-256 of the SubjectPublicKeyInfo")
	}
	if _, err := os.Stat(a.issuedPath(cert.SerialNumber)); err != nil {
		t.Fatal("issued certificate not recorded")
	}
	if _, err := IssueNode(a.dir, out, "node-1", nil); !errors.Is(err, ErrExists) {
		t.Fatalf("IssueNode over an existing key: %v, want ErrExists", err)
	}
	for _, bad := range []string{"", "-x", "a b", "ü", strings.Repeat("a", 65)} {
		if _, err := a.Issue(NodeSpec{Name: bad}); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
}

func TestReissueKeepsID(t *testing.T) {
	a := newCA(t)
	first, err := a.Issue(NodeSpec{Name: "n"})
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(first.KeyPEM)
	key, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	second, err := a.Issue(NodeSpec{Name: "n", Key: key.(*ecdsa.PrivateKey)})
	if err != nil {
		t.Fatal(err)
	}
	if second.ID != first.ID || second.Serial.Cmp(first.Serial) == 0 {
		t.Fatalf("re-issue: ids %s/%s serials %s/%s", first.ID.Short(), second.ID.Short(), first.Serial, second.Serial)
	}
}

func TestVerify(t *testing.T) {
	a := newCA(t)
	other := newCA(t)
	now := time.Now()
	good := issueCert(t, a, NodeSpec{Name: "good"})
	revoked := issueCert(t, a, NodeSpec{Name: "revoked"})
	if err := a.Revoke(revoked.SerialNumber); err != nil {
		t.Fatal(err)
	}
	crl, err := a.CRL()
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(a.Cert, crl, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		cert *x509.Certificate
		want error
	}{
		{"good", good, nil},
		{"other CA", issueCert(t, other, NodeSpec{Name: "x"}), ErrUnknownAuthority},
		{"expired", issueCert(t, a, NodeSpec{Name: "old", NotBefore: now.Add(-2 * time.Hour), NotAfter: now.Add(-time.Hour)}), ErrExpired},
		{"not yet valid", issueCert(t, a, NodeSpec{Name: "new", NotBefore: now.Add(time.Hour)}), ErrExpired},
		{"revoked", revoked, ErrRevoked},
		{"CA as leaf", a.Cert, ErrInvalidCertificate},
		{"server-only usage", signRaw(t, a, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}), ErrInvalidCertificate},
		{"self-signed", other.Cert, ErrUnknownAuthority},
	}
	for _, tc := range cases {
		id, err := v.Verify([]*x509.Certificate{tc.cert})
		switch {
		case tc.want == nil && (err != nil || id != IDOf(tc.cert)):
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := v.Verify(nil); !errors.Is(err, ErrNoCertificate) {
		t.Errorf("no certificate: %v", err)
	}
	// An intermediate signed by nobody we trust cannot launder a leaf.
	if _, err := v.Verify([]*x509.Certificate{issueCert(t, other, NodeSpec{Name: "y"}), a.Cert}); !errors.Is(err, ErrUnknownAuthority) {
		t.Errorf("foreign leaf with our CA appended: %v", err)
	}
}

func TestRevoke(t *testing.T) {
	a := newCA(t)
	out := filepath.Join(t.TempDir(), "n")
	iss, err := IssueNode(a.dir, out, "n", nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := a.Issue(NodeSpec{Name: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Revoke(a.dir, filepath.Join(out, NodeCertFile)); err != nil || got.Cmp(iss.Serial) != 0 {
		t.Fatalf("revoke by file: %v %v", got, err)
	}
	hex := colonHex(second.Serial)
	if got, err := Revoke(a.dir, hex); err != nil || got.Cmp(second.Serial) != 0 {
		t.Fatalf("revoke by serial %s: %v %v", hex, got, err)
	}
	crl, _ := a.CRL()
	if crl.Number.Int64() != 3 || len(crl.RevokedCertificateEntries) != 2 {
		t.Fatalf("CRL number %s with %d entries, want 3 and 2", crl.Number, len(crl.RevokedCertificateEntries))
	}
	if _, err := Revoke(a.dir, iss.Serial.Text(16)); err != nil {
		t.Fatal(err)
	}
	if crl, _ := a.CRL(); crl.Number.Int64() != 3 {
		t.Fatal("revoking twice changed the CRL")
	}
	if _, err := Revoke(a.dir, "0xabcdef"); !errors.Is(err, ErrUnknownSerial) {
		t.Fatalf("unknown serial: %v, want ErrUnknownSerial", err)
	}
	foreign := filepath.Join(t.TempDir(), "f")
	if _, err := IssueNode(newCA(t).dir, foreign, "f", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Revoke(a.dir, filepath.Join(foreign, NodeCertFile)); !errors.Is(err, ErrUnknownAuthority) {
		t.Fatalf("foreign certificate: %v, want ErrUnknownAuthority", err)
	}
	if _, err := Revoke(a.dir, "not-a-serial"); err == nil {
		t.Fatal("garbage serial accepted")
	}
}

// A verifier takes newer CRLs from its CA only: an older one would
// un-revoke, a foreign one was never the consortium's.
func TestSetCRL(t *testing.T) {
	a := newCA(t)
	old, _ := a.CRL()
	n := issueCert(t, a, NodeSpec{Name: "n"})
	if err := a.Revoke(n.SerialNumber); err != nil {
		t.Fatal(err)
	}
	cur, _ := a.CRL()
	v, err := NewVerifier(a.Cert, cur, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.SetCRL(old); !errors.Is(err, ErrCRL) {
		t.Fatalf("older CRL: %v, want ErrCRL", err)
	}
	if err := v.SetCRL(cur); err != nil {
		t.Fatalf("same CRL again: %v", err)
	}
	foreign, _ := newCA(t).CRL()
	if err := v.SetCRL(foreign); !errors.Is(err, ErrCRL) {
		t.Fatalf("foreign CRL: %v, want ErrCRL", err)
	}
	if _, err := v.Verify([]*x509.Certificate{n}); !errors.Is(err, ErrRevoked) {
		t.Fatalf("revocation lost: %v", err)
	}
}

func TestNodeID(t *testing.T) {
	id := IDOf(newCA(t).Cert)
	back, err := ParseNodeID(id.String())
	if err != nil || back != id || len(id.Short()) != 16 {
		t.Fatalf("round trip: %v %v", back, err)
	}
	for _, bad := range []string{"", "ab", strings.Repeat("zz", 32), strings.Repeat("ab", 33)} {
		if _, err := ParseNodeID(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func issueCert(t *testing.T, a *Authority, spec NodeSpec) *x509.Certificate {
	t.Helper()
	iss, err := a.Issue(spec)
	if err != nil {
		t.Fatal(err)
	}
	return iss.Cert
}

// signRaw signs a node certificate with chosen usages, as a CA that
// issued something odd would.
func signRaw(t *testing.T, a *Authority, usage []x509.ExtKeyUsage) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(77), Subject: pkix.Name{CommonName: "odd"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: usage}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.Cert, &a.key.PublicKey, a.key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func colonHex(n *big.Int) string {
	h := n.Text(16)
	if len(h)%2 == 1 {
		h = "0" + h
	}
	var parts []string
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, strings.ToUpper(h[i:i+2]))
	}
	return strings.Join(parts, ":")
}
