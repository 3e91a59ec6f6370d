package p2p_test

import (
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/credentials"

	"github.com/tallyhq/tally/engine/p2p"
	"github.com/tallyhq/tally/engine/p2p/ca"
)

// A node refuses a peer whose certificate another CA signed, whichever side
// dials, and logs why.
func TestRefuseForeignCA(t *testing.T) {
	good := startNode(t, "good", issue(t, newCA(t), "good"), nil)
	rogue := startWith(t, "rogue", newLaxCreds(t, issue(t, newCA(t), "rogue")), nil)
	mustOK(t, rogue.net.AddPeer(good.net.Addr()))
	good.log.waitLog(t, "peer refused", map[string]string{"dir": "in", "stage": "handshake", "cause": "unknown-authority", "reason": "not signed by the consortium CA"})
	mustOK(t, good.net.AddPeer(rogue.net.Addr()))
	good.log.waitLog(t, "peer refused", map[string]string{"dir": "out", "cause": "unknown-authority"})
	if c := good.net.Connected(); len(c) != 0 {
		t.Fatalf("good connected to %v", c)
	}
	if c := rogue.net.Connected(); len(c) != 0 {
		t.Fatalf("rogue connected to %v", c)
	}
	if s := good.net.Stats(); s.Refused < 2 {
		t.Fatalf("Refused = %d, want at least 2", s.Refused)
	}
}

// A TLS client without a certificate gets no further than the handshake.
func TestRefuseNoCertificate(t *testing.T) {
	good := startNode(t, "good", issue(t, newCA(t), "good"), nil)
	conn, err := tls.Dial("tcp", good.net.Addr(), &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}, MinVersion: tls.VersionTLS13})
	if err == nil {
		defer conn.Close()
		// TLS 1.3 clients finish first; the server's refusal arrives on read.
		_, err = conn.Read(make([]byte, 1))
	}
	if err == nil {
		t.Fatal("a client without a certificate was served")
	}
	good.log.waitLog(t, "peer refused", map[string]string{"dir": "in", "reason": "certificate"})
}

// Revoking a connected node's certificate and installing the new CRL cuts
// the connection at the next revalidation, and the node's redials are
// refused. The revoked node cannot start with the new CRL either.
func TestRefuseRevoked(t *testing.T) {
	caDir := newCA(t)
	aDir, bDir := issue(t, caDir, "a"), issue(t, caDir, "b")
	a := startNode(t, "a", aDir, nil)
	b := startNode(t, "b", bDir, nil)
	connect(t, b, a)

	if _, err := ca.Revoke(caDir, filepath.Join(bDir, ca.NodeCertFile)); err != nil {
		t.Fatal(err)
	}
	copyFile(t, filepath.Join(caDir, ca.CRLFile), filepath.Join(aDir, ca.CRLFile))
	if cut := a.net.Revalidate(); cut != 1 {
		t.Fatalf("Revalidate cut %d connections, want 1", cut)
	}
	a.log.waitLog(t, "peer refused", map[string]string{"stage": "revalidate", "cause": "revoked", "reason": "certificate revoked"})
	// b redials (it does not know it was revoked) and is refused at the handshake.
	a.log.waitLog(t, "peer refused", map[string]string{"dir": "in", "stage": "handshake", "cause": "revoked"})
	eventually(t, "b disconnected", func() bool { return !isConnected(a, b.id) && !isConnected(b, a.id) })
	copyFile(t, filepath.Join(caDir, ca.CRLFile), filepath.Join(bDir, ca.CRLFile))
	if _, err := p2p.LoadTLS(bDir); !errors.Is(err, ca.ErrRevoked) {
		t.Fatalf("LoadTLS with own certificate revoked: %v, want ErrRevoked", err)
	}
}

// A node refuses a peer whose certificate has expired: one presented
// expired at the handshake, and one that expires while connected.
func TestRefuseExpired(t *testing.T) {
	caDir := newCA(t)
	auth, err := ca.LoadAuthority(caDir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var clock atomic.Int64 // good's clock, so the test can move it on
	clock.Store(now.UnixNano())
	goodCreds := credsAt(t, issue(t, caDir, "good"), func() time.Time { return time.Unix(0, clock.Load()) })
	good := startWith(t, "good", goodCreds, nil)

	// old's certificate expired a day ago; old does not check its own.
	oldDir := filepath.Join(t.TempDir(), "old")
	writeNode(t, auth, oldDir, ca.NodeSpec{Name: "old", NotBefore: now.Add(-72 * time.Hour), NotAfter: now.Add(-24 * time.Hour)})
	old := startWith(t, "old", newLaxCreds(t, oldDir), nil)
	mustOK(t, old.net.AddPeer(good.net.Addr()))
	good.log.waitLog(t, "peer refused", map[string]string{"dir": "in", "stage": "handshake", "cause": "expired"})
	mustOK(t, good.net.AddPeer(old.net.Addr()))
	good.log.waitLog(t, "peer refused", map[string]string{"dir": "out", "stage": "handshake", "cause": "expired"})

	// fresh is valid now and connects; then good's clock passes its expiry.
	fresh := startNode(t, "fresh", issue(t, caDir, "fresh"), nil)
	connect(t, fresh, good)
	clock.Store(now.Add(ca.NodeValidity + time.Hour).UnixNano())
	if cut := good.net.Revalidate(); cut != 1 {
		t.Fatalf("Revalidate cut %d connections, want 1", cut)
	}
	good.log.waitLog(t, "peer refused", map[string]string{"stage": "revalidate", "cause": "expired"})
	// fresh redials and is refused: its certificate has expired by good's clock.
	eventually(t, "fresh's redial refused", func() bool {
		return len(good.log.find("peer refused", map[string]string{"dir": "in", "stage": "handshake", "cause": "expired"})) >= 2
	})
	eventually(t, "no connection to an expired peer", func() bool { return len(good.net.Connected()) == 0 })
}

// A peer pinned by id in the peer list must present that id.
func TestRefuseWrongPinnedPeer(t *testing.T) {
	caDir := newCA(t)
	a := startNode(t, "a", issue(t, caDir, "a"), nil)
	b := startNode(t, "b", issue(t, caDir, "b"), nil)
	c := startNode(t, "c", issue(t, caDir, "c"), nil)
	mustOK(t, a.net.AddPeer(c.id.String()+"@"+b.net.Addr()))
	a.log.waitLog(t, "peer refused", map[string]string{"dir": "out", "cause": "wrong-peer"})
	if isConnected(a, b.id) {
		t.Fatal("a connected to b although it pinned c at b's address")
	}
}

// credsAt loads a node directory with a verifier that reads the given clock.
func credsAt(t testing.TB, dir string, now func() time.Time) *p2p.TLS {
	t.Helper()
	root, err := ca.ReadCert(filepath.Join(dir, ca.CACertFile))
	mustOK(t, err)
	crl, err := ca.ReadCRL(filepath.Join(dir, ca.CRLFile))
	mustOK(t, err)
	v, err := ca.NewVerifier(root, crl, now)
	mustOK(t, err)
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, ca.NodeCertFile), filepath.Join(dir, ca.NodeKeyFile))
	mustOK(t, err)
	creds, err := p2p.NewTLS(cert, v)
	mustOK(t, err)
	return creds
}

func writeNode(t testing.TB, auth *ca.Authority, dir string, spec ca.NodeSpec) *ca.Issued {
	t.Helper()
	iss, err := auth.Issue(spec)
	mustOK(t, err)
	mustOK(t, os.MkdirAll(dir, 0o700))
	mustOK(t, auth.WriteNodeDir(dir, iss))
	return iss
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	mustOK(t, err)
	mustOK(t, os.WriteFile(to, b, 0o644))
}

// laxCreds present a certificate and accept any peer: an intruder's
// credentials, or those of a node whose own checks are broken. Only the
// honest node's checks stand between it and the network.
type laxCreds struct {
	cert tls.Certificate
	id   p2p.NodeID
}

func newLaxCreds(t testing.TB, dir string) *laxCreds {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, ca.NodeCertFile), filepath.Join(dir, ca.NodeKeyFile))
	mustOK(t, err)
	return &laxCreds{cert: cert, id: ca.IDOf(cert.Leaf)}
}

func (l *laxCreds) Self() p2p.NodeID { return l.id }

func (l *laxCreds) config() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{l.cert}, InsecureSkipVerify: true,
		ClientAuth: tls.RequireAnyClientCert, MinVersion: tls.VersionTLS13}
}

func (l *laxCreds) ServerCredentials() credentials.TransportCredentials {
	return credentials.NewTLS(l.config())
}

func (l *laxCreds) ClientCredentials() credentials.TransportCredentials {
	return credentials.NewTLS(l.config())
}

func (l *laxCreds) Verify(ai credentials.AuthInfo) (p2p.NodeID, error) {
	ti, ok := ai.(credentials.TLSInfo)
	if !ok || len(ti.State.PeerCertificates) == 0 {
		return p2p.NodeID{}, ca.ErrNoCertificate
	}
	return ca.IDOf(ti.State.PeerCertificates[0]), nil
}
