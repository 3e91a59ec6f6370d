package crypto

import (
	"bytes"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// FuzzSender feeds arbitrary digests, signatures and public keys to both
// suites. Beyond not panicking, whatever Sender accepts under sm must also
// pass Verify and name the address of the key it was given.
func FuzzSender(f *testing.F) {
	for i, s := range allSuites {
		k := mustKey(f, s)
		d := s.Hash([]byte("seed"))
		sig := mustSign(f, k, d)
		f.Add(byte(i), d[:], sig, txPub(s, k))
		f.Add(byte(i), d[:], sig, k.PublicKey())
		f.Add(byte(i), d[:], sig[:len(sig)-1], k.PublicKey())
		f.Add(byte(i), []byte{}, []byte{}, []byte{})
		f.Add(byte(i), d[:], append([]byte{0x30, 0x80}, sig...), append([]byte{4}, make([]byte, 64)...))
	}
	f.Fuzz(func(t *testing.T, which byte, digest, sig, pub []byte) {
		s := allSuites[int(which)%len(allSuites)]
		d := common.BytesToHash(digest)
		addr, err := s.Sender(d, sig, pub)
		verified := s.Verify(pub, d, sig)
		_, addrErr := s.Address(pub)
		if verified && addrErr != nil {
			t.Fatalf("Verify accepted a public key Address rejects: %v", addrErr)
		}
		if err != nil || !s.TxCarriesPubKey() {
			return
		}
		if want, _ := s.Address(pub); !verified || addr != want {
			t.Fatalf("Sender = %s but Verify = %v, Address = %s", addr.Hex(), verified, want.Hex())
		}
	})
}

// FuzzDecryptKey feeds arbitrary key files and passphrases to DecryptKey. It
// must never panic, and any key it returns must be the one the file names.
func FuzzDecryptKey(f *testing.F) {
	for _, s := range allSuites {
		f.Add(lightKeyFile(f, mustKey(f, s)), testPass)
	}
	f.Add([]byte(`{"version":1,"suite":"sm","kdfparams":{"iter":1,"prf":"hmac-sm3","dklen":16}}`), "")
	f.Add([]byte(`{"version":1,"suite":"secp256k1","kdf":"scrypt","kdfparams":{"n":2,"r":1,"p":1,"dklen":32}}`), "x")
	f.Add([]byte("{}"), "")
	f.Fuzz(func(t *testing.T, data []byte, pass string) {
		k, err := DecryptKey(data, pass)
		if err != nil {
			return
		}
		if !bytes.Contains(bytes.ToLower(data), bytes.ToLower([]byte(k.Address().Hex()[2:]))) {
			t.Fatalf("decrypted key %s is not the file's address", k.Address().Hex())
		}
	})
}
