package crypto

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

const testPass = "correct horse battery staple"

func lightKeyFile(t testing.TB, k PrivateKey) []byte {
	t.Helper()
	data, err := EncryptKeyWithCost(k, testPass, LightKDF)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// editKeyFile decodes a key file, applies edit and re-encodes it, so tests
// can damage one field while keeping the JSON valid.
func editKeyFile(t testing.TB, data []byte, edit func(*keyFileJSON)) []byte {
	t.Helper()
	var kf keyFileJSON
	if err := json.Unmarshal(data, &kf); err != nil {
		t.Fatal(err)
	}
	edit(&kf)
	out, err := json.Marshal(&kf)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// doubleCost changes the KDF cost of whichever KDF the file uses.
func doubleCost(k *keyFileJSON) {
	if k.KDFParams.N != 0 {
		k.KDFParams.N *= 2
	} else {
		k.KDFParams.Iter *= 2
	}
}

func TestKeyFileRoundTrip(t *testing.T) {
	forEachSuite(t, func(t *testing.T, s Suite) {
		k := mustKey(t, s)
		data := lightKeyFile(t, k)
		got, err := DecryptKey(data, testPass)
		if err != nil {
			t.Fatal(err)
		}
		if got.Suite().Name() != s.Name() || !bytes.Equal(got.Bytes(), k.Bytes()) || got.Address() != k.Address() {
			t.Fatal("decrypted key differs from the original")
		}
		if bytes.Contains(data, k.Bytes()) {
			t.Fatal("key file contains the raw scalar")
		}
	})
}

func TestKeyFileFormat(t *testing.T) {
	want := map[string][2]string{
		SuiteSecp256k1: {"scrypt", "aes-256-gcm"},
		SuiteSM:        {"pbkdf2", "sm4-gcm"},
	}
	forEachSuite(t, func(t *testing.T, s Suite) {
		k := mustKey(t, s)
		var kf keyFileJSON
		if err := json.Unmarshal(lightKeyFile(t, k), &kf); err != nil {
			t.Fatal(err)
		}
		w := want[s.Name()]
		switch {
		case kf.Version != 1 || kf.Suite != s.Name():
			t.Errorf("version %d suite %q", kf.Version, kf.Suite)
		case kf.KDF != w[0] || kf.Cipher != w[1]:
			t.Errorf("kdf %q cipher %q, want %q", kf.KDF, kf.Cipher, w)
		case common.HexToAddress(kf.Address) != k.Address():
			t.Errorf("address %s, want %s", kf.Address, k.Address().Hex())
		case len(kf.Salt) != 32 || len(kf.Nonce) != 12 || len(kf.Ciphertext) != 48:
			t.Errorf("salt %d nonce %d ciphertext %d bytes", len(kf.Salt), len(kf.Nonce), len(kf.Ciphertext))
		}
	})
}

// TestKeyFileFreshRandomness: sealing one key twice must use a new salt and
// nonce; a reused GCM nonce under one key would be catastrophic.
func TestKeyFileFreshRandomness(t *testing.T) {
	forEachSuite(t, func(t *testing.T, s Suite) {
		k := mustKey(t, s)
		var a, b keyFileJSON
		json.Unmarshal(lightKeyFile(t, k), &a)
		json.Unmarshal(lightKeyFile(t, k), &b)
		if bytes.Equal(a.Salt, b.Salt) || bytes.Equal(a.Nonce, b.Nonce) || bytes.Equal(a.Ciphertext, b.Ciphertext) {
			t.Fatal("salt, nonce or ciphertext repeated")
		}
	})
}

// TestKeyFileAuthFailures: everything GCM authenticates must yield
// ErrWrongPassphrase when wrong.
func TestKeyFileAuthFailures(t *testing.T) {
	forEachSuite(t, func(t *testing.T, s Suite) {
		data := lightKeyFile(t, mustKey(t, s))
		cases := map[string]struct {
			data []byte
			pass string
		}{
			"wrong passphrase": {data, testPass + "!"},
			"empty passphrase": {data, ""},
			"ciphertext":       {editKeyFile(t, data, func(k *keyFileJSON) { k.Ciphertext[5] ^= 1 }), testPass},
			"tag":              {editKeyFile(t, data, func(k *keyFileJSON) { k.Ciphertext[47] ^= 1 }), testPass},
			"nonce":            {editKeyFile(t, data, func(k *keyFileJSON) { k.Nonce[0] ^= 1 }), testPass},
			"salt":             {editKeyFile(t, data, func(k *keyFileJSON) { k.Salt[0] ^= 1 }), testPass},
			"kdf cost":         {editKeyFile(t, data, doubleCost), testPass},
		}
		for name, c := range cases {
			if _, err := DecryptKey(c.data, c.pass); !errors.Is(err, ErrWrongPassphrase) {
				t.Errorf("%s: err = %v, want ErrWrongPassphrase", name, err)
			}
		}
	})
}

func TestKeyFileAddressMismatch(t *testing.T) {
	forEachSuite(t, func(t *testing.T, s Suite) {
		other := mustKey(t, s).Address().Hex()
		data := editKeyFile(t, lightKeyFile(t, mustKey(t, s)), func(k *keyFileJSON) { k.Address = other })
		_, err := DecryptKey(data, testPass)
		if !errors.Is(err, ErrBadKeyFile) || !strings.Contains(err.Error(), "not "+other) {
			t.Fatalf("err = %v, want ErrBadKeyFile naming %s", err, other)
		}
	})
}

// TestKeyFileInvalidScalar seals a zero scalar with a valid header: the file
// authenticates, but must still be refused as a key.
func TestKeyFileInvalidScalar(t *testing.T) {
	forEachSuite(t, func(t *testing.T, s Suite) {
		data := editKeyFile(t, lightKeyFile(t, mustKey(t, s)), func(kf *keyFileJSON) {
			sc := schemes[kf.Suite]
			aead, err := keyAEAD(sc, testPass, kf.KDFParams, kf.Salt)
			if err != nil {
				t.Fatal(err)
			}
			kf.Ciphertext = aead.Seal(nil, kf.Nonce, make([]byte, 32), aad(kf.Suite))
		})
		if _, err := DecryptKey(data, testPass); !errors.Is(err, ErrBadKeyFile) || !errors.Is(err, ErrBadKey) {
			t.Fatalf("err = %v, want ErrBadKeyFile wrapping ErrBadKey", err)
		}
	})
}

// TestKeyFileMalformed: structural problems are ErrBadKeyFile, found before
// any key derivation, whatever the passphrase.
func TestKeyFileMalformed(t *testing.T) {
	forEachSuite(t, func(t *testing.T, s Suite) {
		data := lightKeyFile(t, mustKey(t, s))
		edits := map[string]func(*keyFileJSON){
			"version 2":         func(k *keyFileJSON) { k.Version = 2 },
			"unknown suite":     func(k *keyFileJSON) { k.Suite = "rsa" },
			"other suite":       func(k *keyFileJSON) { k.Suite = otherSuite(s).Name() },
			"kdf":               func(k *keyFileJSON) { k.KDF = "md5" },
			"cipher":            func(k *keyFileJSON) { k.Cipher = "aes-128-cbc" },
			"dklen":             func(k *keyFileJSON) { k.KDFParams.DKLen = 64 },
			"short salt":        func(k *keyFileJSON) { k.Salt = k.Salt[:8] },
			"short nonce":       func(k *keyFileJSON) { k.Nonce = k.Nonce[:8] },
			"short ciphertext":  func(k *keyFileJSON) { k.Ciphertext = k.Ciphertext[:40] },
			"bad address":       func(k *keyFileJSON) { k.Address = "0x1234" },
			"scrypt n not pow2": func(k *keyFileJSON) { k.KDFParams.N = 1000 },
			"scrypt n huge":     func(k *keyFileJSON) { k.KDFParams.N = 1 << 30 },
			"scrypt 512 MiB":    func(k *keyFileJSON) { k.KDFParams.N, k.KDFParams.R, k.KDFParams.P = 1<<19, 8, 1 },
			"scrypt r negative": func(k *keyFileJSON) { k.KDFParams.R = -1 },
			"scrypt p huge":     func(k *keyFileJSON) { k.KDFParams.P = 1 << 20 },
			"pbkdf2 iter neg":   func(k *keyFileJSON) { k.KDFParams.Iter = -1 },
			"pbkdf2 iter huge":  func(k *keyFileJSON) { k.KDFParams.Iter = 1 << 40 },
			"pbkdf2 prf":        func(k *keyFileJSON) { k.KDFParams.PRF = "hmac-sha1" },
		}
		for name, edit := range edits {
			if _, err := DecryptKey(editKeyFile(t, data, edit), testPass); !errors.Is(err, ErrBadKeyFile) {
				t.Errorf("%s: err = %v, want ErrBadKeyFile", name, err)
			}
		}
	})
}

func TestKeyFileGarbage(t *testing.T) {
	valid := lightKeyFile(t, mustKey(t, SM()))
	inputs := map[string][]byte{
		"nil":        nil,
		"null":       []byte("null"),
		"empty obj":  []byte("{}"),
		"array":      []byte("[1,2]"),
		"text":       []byte("not a key file"),
		"binary":     randomBytes(300),
		"truncated":  valid[:len(valid)/2],
		"wrong type": []byte(`{"version":"1","suite":7}`),
		"bad hex":    bytes.Replace(valid, []byte(`"salt": "0x`), []byte(`"salt": "0xzz`), 1),
	}
	for name, in := range inputs {
		if _, err := DecryptKey(in, testPass); !errors.Is(err, ErrBadKeyFile) {
			t.Errorf("%s: err = %v, want ErrBadKeyFile", name, err)
		}
	}
}

func TestEncryptKeyRejectsBadCost(t *testing.T) {
	forEachSuite(t, func(t *testing.T, s Suite) {
		bad := KDFCost{ScryptN: 1000, ScryptR: 8, ScryptP: 1, PBKDF2Iter: 0}
		if _, err := EncryptKeyWithCost(mustKey(t, s), testPass, bad); err == nil {
			t.Fatal("EncryptKeyWithCost accepted an invalid cost")
		}
	})
}

// TestKeyFileOnDisk uses StandardKDF, the cost real key files get.
func TestKeyFileOnDisk(t *testing.T) {
	forEachSuite(t, func(t *testing.T, s Suite) {
		k := mustKey(t, s)
		path := filepath.Join(t.TempDir(), "node.key")
		if err := SaveKeyFile(path, k, testPass); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v, %v; want 0600", st.Mode(), err)
		}
		got, err := LoadKeyFile(path, testPass)
		if err != nil || got.Address() != k.Address() {
			t.Fatalf("LoadKeyFile = %v, %v", got, err)
		}
		if err := SaveKeyFile(path, mustKey(t, s), testPass); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("overwrite err = %v, want fs.ErrExist", err)
		}
		if _, err := LoadKeyFile(path, "wrong"); !errors.Is(err, ErrWrongPassphrase) {
			t.Fatalf("wrong passphrase err = %v", err)
		}
	})
}

func TestLoadKeyFileErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadKeyFile(filepath.Join(dir, "missing"), testPass); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file err = %v", err)
	}
	// A valid key file padded past the limit with JSON whitespace, so only
	// the size check can refuse it.
	big := filepath.Join(dir, "big")
	padded := append(lightKeyFile(t, mustKey(t, SM())), bytes.Repeat([]byte(" "), keyFileMaxSize)...)
	if err := os.WriteFile(big, padded, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyFile(big, testPass); !errors.Is(err, ErrBadKeyFile) {
		t.Errorf("oversized file err = %v", err)
	}
}
