package ca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// Validity periods.
const (
	// CAValidity is how long a new CA certificate is valid.
	CAValidity = 10 * 365 * 24 * time.Hour
	// NodeValidity is how long a node certificate is valid by default.
	NodeValidity = 2 * 365 * 24 * time.Hour
	// crlValidity fills the CRL's NextUpdate, which X.509 requires; Tally
	// does not enforce it (see the package doc).
	crlValidity = 365 * 24 * time.Hour
	// clockSkew backdates NotBefore so that nodes with slightly slow clocks
	// accept a fresh certificate.
	clockSkew = time.Hour
)

// Authority is a loaded CA: its certificate, its key and its directory.
type Authority struct {
	Cert *x509.Certificate
	key  *ecdsa.PrivateKey
	dir  string
}

// InitCA creates a new consortium CA in dir: a self-signed ECDSA P-256
// certificate, its key, an empty signed CRL (number 1) and the issued/
// directory. It refuses to overwrite an existing CA key.
func InitCA(dir string) (*Authority, error) {
	if err := os.MkdirAll(filepath.Join(dir, IssuedDir), 0o700); err != nil {
		return nil, fmt.Errorf("ca dir: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	if err := createFile(filepath.Join(dir, CAKeyFile), keyPEM, 0o600); err != nil {
		return nil, fmt.Errorf("ca key: %w", err)
	}
	cert, err := selfSign(key)
	if err != nil {
		return nil, err
	}
	if err := replaceFile(filepath.Join(dir, CACertFile), encodePEM(pemCert, cert.Raw), 0o644); err != nil {
		return nil, err
	}
	a := &Authority{Cert: cert, key: key, dir: dir}
	return a, a.writeCRL(big.NewInt(1), nil)
}

func selfSign(key *ecdsa.PrivateKey) (*x509.Certificate, error) {
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Tally consortium CA", Organization: []string{"Tally"}},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(CAValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true, // nodes are signed directly; no intermediate CAs
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("self-sign CA: %w", err)
	}
	return x509.ParseCertificate(der)
}

// LoadAuthority opens the CA in dir and checks that its key matches its certificate.
func LoadAuthority(dir string) (*Authority, error) {
	cert, err := ReadCert(filepath.Join(dir, CACertFile))
	if err != nil {
		return nil, fmt.Errorf("ca certificate: %w", err)
	}
	key, err := readKey(filepath.Join(dir, CAKeyFile))
	if err != nil {
		return nil, fmt.Errorf("ca key: %w", err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("%s does not belong to %s", CAKeyFile, CACertFile)
	}
	return &Authority{Cert: cert, key: key, dir: dir}, nil
}

// randomSerial is a positive 127-bit serial: unique without a counter file
// that two operators could fork.
func randomSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}
