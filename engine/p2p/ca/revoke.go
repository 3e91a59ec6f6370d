package ca

import (
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// CRL returns the CA's current revocation list, checked against the CA.
func (a *Authority) CRL() (*x509.RevocationList, error) {
	rl, err := ReadCRL(filepath.Join(a.dir, CRLFile))
	if err != nil {
		return nil, err
	}
	if err := rl.CheckSignatureFrom(a.Cert); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCRL, CRLFile, err)
	}
	return rl, nil
}

// Revoke adds serial to the CRL and re-signs it with the next CRL number.
// Revoking a serial twice changes nothing. The serial must be one this CA
// issued (recorded under issued/), so a typo cannot pass silently.
func (a *Authority) Revoke(serial *big.Int) error {
	if _, err := os.Stat(a.issuedPath(serial)); err != nil {
		return fmt.Errorf("%w: %s", ErrUnknownSerial, serial.Text(16))
	}
	rl, err := a.CRL()
	if err != nil {
		return err
	}
	for _, e := range rl.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(serial) == 0 {
			return nil
		}
	}
	entries := append(rl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: serial, RevocationTime: time.Now()})
	return a.writeCRL(new(big.Int).Add(rl.Number, big.NewInt(1)), entries)
}

func (a *Authority) writeCRL(number *big.Int, entries []x509.RevocationListEntry) error {
	now := time.Now()
	tmpl := &x509.RevocationList{
		Number:                    number,
		ThisUpdate:                now,
		NextUpdate:                now.Add(crlValidity),
		RevokedCertificateEntries: entries,
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, a.Cert, a.key)
	if err != nil {
		return fmt.Errorf("sign CRL: %w", err)
	}
	return replaceFile(filepath.Join(a.dir, CRLFile), encodePEM(pemCRL, der), 0o644)
}

// Revoke revokes a node certificate of the CA in caDir. what is either a
// certificate file or its serial in hex (as IssueNode reports it; colons and
// a 0x prefix are accepted). It returns the revoked serial. Copy the CA's
// new crl.pem to every node afterwards.
func Revoke(caDir, what string) (*big.Int, error) {
	a, err := LoadAuthority(caDir)
	if err != nil {
		return nil, err
	}
	serial, err := a.serialOf(what)
	if err != nil {
		return nil, err
	}
	return serial, a.Revoke(serial)
}

func (a *Authority) serialOf(what string) (*big.Int, error) {
	if _, err := os.Stat(what); err == nil {
		cert, err := ReadCert(what)
		if err != nil {
			return nil, err
		}
		if cert.CheckSignatureFrom(a.Cert) != nil {
			return nil, fmt.Errorf("%s: %w", what, ErrUnknownAuthority)
		}
		return cert.SerialNumber, nil
	}
	return ParseSerial(what)
}

// ParseSerial reads a hex serial, with optional 0x prefix and colons.
func ParseSerial(s string) (*big.Int, error) {
	h := strings.ReplaceAll(strings.TrimPrefix(strings.ToLower(s), "0x"), ":", "")
	n, ok := new(big.Int).SetString(h, 16)
	if !ok || n.Sign() <= 0 {
		return nil, fmt.Errorf("serial %q: want a certificate file or a hex serial", s)
	}
	return n, nil
}
