package ca

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// File names inside a CA directory and a node directory.
const (
	CACertFile   = "ca.crt"
	CAKeyFile    = "ca.key"
	CRLFile      = "crl.pem"
	IssuedDir    = "issued"
	NodeCertFile = "node.crt"
	NodeKeyFile  = "node.key"
)

// PEM block types.
const (
	pemCert = "CERTIFICATE"
	pemKey  = "PRIVATE KEY"
	pemCRL  = "X509 CRL"
)

func encodePEM(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return encodePEM(pemKey, der), nil
}

// readPEM returns the DER bytes of the first block of type typ in file.
func readPEM(file, typ string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, fmt.Errorf("%s: no PEM block %q", file, typ)
		}
		if blk.Type == typ {
			return blk.Bytes, nil
		}
	}
}

// ReadCert reads a PEM certificate file.
func ReadCert(file string) (*x509.Certificate, error) {
	der, err := readPEM(file, pemCert)
	if err != nil {
		return nil, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return c, nil
}

// ReadCRL reads a PEM revocation list file. It does not check the
// signature: Verifier.SetCRL and NewVerifier do.
func ReadCRL(file string) (*x509.RevocationList, error) {
	der, err := readPEM(file, pemCRL)
	if err != nil {
		return nil, err
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return rl, nil
}

func readKey(file string) (*ecdsa.PrivateKey, error) {
	der, err := readPEM(file, pemKey)
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: %w: want an ECDSA key, got %T", file, ErrInvalidCertificate, k)
	}
	return ek, nil
}

// createFile writes a file that must not exist yet: private keys are never
// overwritten, so a repeated command cannot destroy an identity.
func createFile(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s: %w", path, ErrExists)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// replaceFile writes path atomically (temp file and rename), so a crash
// never leaves a half-written CRL that every node would then reject.
func replaceFile(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
