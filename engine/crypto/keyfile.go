package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"golang.org/x/crypto/scrypt"
)

// Key file errors callers test for.
var (
	// ErrWrongPassphrase means GCM authentication failed. GCM cannot tell a
	// wrong passphrase from a modified salt, nonce or ciphertext.
	ErrWrongPassphrase = errors.New("crypto: wrong passphrase or corrupted key file")
	// ErrBadKeyFile means the file is not a key file this version can read.
	ErrBadKeyFile = errors.New("crypto: malformed key file")
)

// KDFCost sets how expensive passphrase derivation is. Each suite reads only
// its own fields: scrypt for secp256k1, PBKDF2-HMAC-SM3 for sm.
type KDFCost struct {
	ScryptN, ScryptR, ScryptP int
	PBKDF2Iter                int
}

var (
	// StandardKDF is for real keys: about 0.1 s and 32 MiB for scrypt, and a
	// PBKDF2 iteration count in line with OWASP's advice for HMAC-SHA-256.
	StandardKDF = KDFCost{ScryptN: 1 << 15, ScryptR: 8, ScryptP: 1, PBKDF2Iter: 600_000}
	// LightKDF is for tests and throw-away devnet keys only.
	LightKDF = KDFCost{ScryptN: 1 << 10, ScryptR: 8, ScryptP: 1, PBKDF2Iter: 1_000}
)

const (
	keyFileVersion = 1
	keyFileMaxSize = 64 << 10
	saltLen        = 32
	gcmNonceLen    = 12 // cipher.NewGCM's standard nonce
	gcmTagLen      = 16
	// Limits on what a file may demand, so a hostile file cannot make
	// LoadKeyFile allocate gigabytes or spin for minutes. 128*N*r bytes is
	// scrypt's memory; N*r = 1<<21 is go-ethereum's strongest setting
	// (N=1<<18, r=8), 256 MiB and about a second.
	maxScryptNR   = 1 << 21
	maxScryptWork = 1 << 22 // N*r*p
	maxPBKDF2Iter = 10_000_000
)

// keyFileJSON is the on-disk format. The address is in clear so a key can be
// found without its passphrase; DecryptKey checks it against the key inside.
type keyFileJSON struct {
	Version    int           `json:"version"`
	Suite      string        `json:"suite"`
	Address    string        `json:"address"`
	KDF        string        `json:"kdf"`
	KDFParams  kdfParams     `json:"kdfparams"`
	Cipher     string        `json:"cipher"`
	Salt       hexutil.Bytes `json:"salt"`
	Nonce      hexutil.Bytes `json:"nonce"`
	Ciphertext hexutil.Bytes `json:"ciphertext"`
}

type kdfParams struct {
	N     int    `json:"n,omitempty"`
	R     int    `json:"r,omitempty"`
	P     int    `json:"p,omitempty"`
	Iter  int    `json:"iter,omitempty"`
	PRF   string `json:"prf,omitempty"`
	DKLen int    `json:"dklen"`
}

// keyScheme is one suite's choice of KDF and cipher. Pinning them per suite
// keeps sm keys entirely within the SM algorithms, as GM deployments require.
type keyScheme struct {
	kdf, cipher string
	keyLen      int
	params      func(KDFCost) kdfParams
	check       func(kdfParams) error
	derive      func(pass string, salt []byte, p kdfParams) ([]byte, error)
	newBlock    func(key []byte) (cipher.Block, error)
}

var schemes = map[string]keyScheme{
	SuiteSecp256k1: {
		kdf: "scrypt", cipher: "aes-256-gcm", keyLen: 32,
		params: func(c KDFCost) kdfParams {
			return kdfParams{N: c.ScryptN, R: c.ScryptR, P: c.ScryptP, DKLen: 32}
		},
		check:    checkScrypt,
		derive:   deriveScrypt,
		newBlock: aes.NewCipher,
	},
	SuiteSM: {
		kdf: "pbkdf2", cipher: "sm4-gcm", keyLen: 16,
		params: func(c KDFCost) kdfParams {
			return kdfParams{Iter: c.PBKDF2Iter, PRF: "hmac-sm3", DKLen: 16}
		},
		check:    checkPBKDF2,
		derive:   derivePBKDF2,
		newBlock: sm4.NewCipher,
	},
}

// checkScrypt and checkPBKDF2 also refuse the other KDF's fields: a file
// that mixes them was not written by EncryptKey.
func checkScrypt(p kdfParams) error {
	switch {
	case p.Iter != 0 || p.PRF != "":
		return errors.New("pbkdf2 fields in a scrypt key file")
	case p.N < 2 || p.N&(p.N-1) != 0:
		return fmt.Errorf("scrypt n %d is not a power of two >= 2", p.N)
	case p.R < 1 || p.P < 1:
		return fmt.Errorf("scrypt r %d or p %d below 1", p.R, p.P)
	case p.N > maxScryptNR/p.R:
		return fmt.Errorf("scrypt n %d, r %d need more than %d MiB", p.N, p.R, maxScryptNR*128>>20)
	case p.P > maxScryptWork/(p.N*p.R):
		return fmt.Errorf("scrypt n %d, r %d, p %d cost too much", p.N, p.R, p.P)
	}
	return nil
}

func checkPBKDF2(p kdfParams) error {
	if p.N != 0 || p.R != 0 || p.P != 0 {
		return errors.New("scrypt fields in a pbkdf2 key file")
	}
	if p.PRF != "hmac-sm3" {
		return fmt.Errorf("pbkdf2 prf %q, want hmac-sm3", p.PRF)
	}
	if p.Iter < 1 || p.Iter > maxPBKDF2Iter {
		return fmt.Errorf("pbkdf2 iter %d out of range", p.Iter)
	}
	return nil
}

func deriveScrypt(pass string, salt []byte, p kdfParams) ([]byte, error) {
	return scrypt.Key([]byte(pass), salt, p.N, p.R, p.P, p.DKLen)
}

func derivePBKDF2(pass string, salt []byte, p kdfParams) ([]byte, error) {
	return pbkdf2.Key(sm3.New, pass, salt, p.Iter, p.DKLen)
}

// aad binds the ciphertext to the format version and suite, so a key cannot
// be decrypted as if it belonged to another suite.
func aad(suite string) []byte {
	return []byte(fmt.Sprintf("tally-keyfile/%d/%s", keyFileVersion, suite))
}

// EncryptKey seals key under passphrase with StandardKDF.
func EncryptKey(key PrivateKey, passphrase string) ([]byte, error) {
	return EncryptKeyWithCost(key, passphrase, StandardKDF)
}

// EncryptKeyWithCost seals key under passphrase with the given KDF cost and
// returns the JSON key file.
func EncryptKeyWithCost(key PrivateKey, passphrase string, cost KDFCost) ([]byte, error) {
	suite := key.Suite().Name()
	sc, ok := schemes[suite]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownSuite, suite)
	}
	kf := keyFileJSON{
		Version: keyFileVersion, Suite: suite, Address: key.Address().Hex(),
		KDF: sc.kdf, KDFParams: sc.params(cost), Cipher: sc.cipher,
	}
	if err := sc.check(kf.KDFParams); err != nil {
		return nil, fmt.Errorf("crypto: bad KDF cost: %w", err)
	}
	kf.Salt = make([]byte, saltLen)
	if _, err := rand.Read(kf.Salt); err != nil {
		return nil, err
	}
	aead, err := keyAEAD(sc, passphrase, kf.KDFParams, kf.Salt)
	if err != nil {
		return nil, err
	}
	kf.Nonce = make([]byte, aead.NonceSize())
	if _, err := rand.Read(kf.Nonce); err != nil {
		return nil, err
	}
	plain := key.Bytes()
	defer clear(plain)
	kf.Ciphertext = aead.Seal(nil, kf.Nonce, plain, aad(suite))
	return json.MarshalIndent(&kf, "", "  ")
}

// keyAEAD derives the file key from the passphrase and builds the GCM
// instance; the derived key is wiped once the cipher has expanded it.
func keyAEAD(sc keyScheme, pass string, p kdfParams, salt []byte) (cipher.AEAD, error) {
	dk, err := sc.derive(pass, salt, p)
	if err != nil {
		return nil, fmt.Errorf("crypto: key derivation: %w", err)
	}
	defer clear(dk)
	block, err := sc.newBlock(dk)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// DecryptKey opens a key file made by EncryptKey. Every field is checked
// before use because the file may come from anywhere.
func DecryptKey(data []byte, passphrase string) (PrivateKey, error) {
	var kf keyFileJSON
	if err := json.Unmarshal(data, &kf); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKeyFile, err)
	}
	sc, err := checkKeyFile(&kf)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKeyFile, err)
	}
	aead, err := keyAEAD(sc, passphrase, kf.KDFParams, kf.Salt)
	if err != nil {
		return nil, err
	}
	plain, err := aead.Open(nil, kf.Nonce, kf.Ciphertext, aad(kf.Suite))
	if err != nil {
		return nil, ErrWrongPassphrase
	}
	defer clear(plain)
	return keyMatchingAddress(kf, plain)
}

// checkKeyFile validates everything that can be checked without the
// passphrase, so that a malformed file never reaches the expensive KDF.
func checkKeyFile(kf *keyFileJSON) (keyScheme, error) {
	if kf.Version != keyFileVersion {
		return keyScheme{}, fmt.Errorf("version %d, want %d", kf.Version, keyFileVersion)
	}
	sc, ok := schemes[kf.Suite]
	switch {
	case !ok:
		return keyScheme{}, fmt.Errorf("unknown suite %q", kf.Suite)
	case kf.KDF != sc.kdf || kf.Cipher != sc.cipher:
		return keyScheme{}, fmt.Errorf("%s/%s is not the %s scheme", kf.KDF, kf.Cipher, kf.Suite)
	case kf.KDFParams.DKLen != sc.keyLen:
		return keyScheme{}, fmt.Errorf("dklen %d, want %d", kf.KDFParams.DKLen, sc.keyLen)
	case len(kf.Salt) < 16 || len(kf.Salt) > 64:
		return keyScheme{}, fmt.Errorf("salt is %d bytes", len(kf.Salt))
	case len(kf.Nonce) != gcmNonceLen:
		return keyScheme{}, fmt.Errorf("nonce is %d bytes, want %d", len(kf.Nonce), gcmNonceLen)
	case len(kf.Ciphertext) != 32+gcmTagLen:
		return keyScheme{}, fmt.Errorf("ciphertext is %d bytes, want %d", len(kf.Ciphertext), 32+gcmTagLen)
	case !common.IsHexAddress(kf.Address):
		return keyScheme{}, fmt.Errorf("address %q", kf.Address)
	}
	return sc, sc.check(kf.KDFParams)
}

// keyMatchingAddress parses the decrypted scalar and makes sure it is the key
// the file claims to hold, so an edited address cannot go unnoticed.
func keyMatchingAddress(kf keyFileJSON, plain []byte) (PrivateKey, error) {
	suite, err := ByName(kf.Suite)
	if err != nil {
		return nil, err
	}
	key, err := suite.PrivateKeyFromBytes(plain)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadKeyFile, err)
	}
	if key.Address() != common.HexToAddress(kf.Address) {
		return nil, fmt.Errorf("%w: holds the key of %s, not %s", ErrBadKeyFile, key.Address().Hex(), kf.Address)
	}
	return key, nil
}

// SaveKeyFile writes key, sealed with StandardKDF, to a new file readable by
// its owner only.
func SaveKeyFile(path string, key PrivateKey, passphrase string) error {
	return SaveKeyFileWithCost(path, key, passphrase, StandardKDF)
}

// SaveKeyFileWithCost is SaveKeyFile with a chosen KDF cost. It refuses to
// replace an existing file: overwriting a key file can destroy the only copy
// of a key.
func SaveKeyFileWithCost(path string, key PrivateKey, passphrase string, cost KDFCost) error {
	data, err := EncryptKeyWithCost(key, passphrase, cost)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// LoadKeyFile reads and decrypts a key file written by SaveKeyFile.
func LoadKeyFile(path, passphrase string) (PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, keyFileMaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > keyFileMaxSize {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrBadKeyFile, path, keyFileMaxSize)
	}
	key, err := DecryptKey(data, passphrase)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}
