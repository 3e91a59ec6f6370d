package crypto

import (
	"testing"
)

// benchSuites runs fn once per suite as a sub-benchmark named after it.
func benchSuites(b *testing.B, fn func(b *testing.B, s Suite)) {
	for _, s := range allSuites {
		b.Run(s.Name(), func(b *testing.B) { fn(b, s) })
	}
}

func BenchmarkSign(b *testing.B) {
	benchSuites(b, func(b *testing.B, s Suite) {
		k := mustKey(b, s)
		d := s.Hash([]byte("bench"))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := k.Sign(d); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	benchSuites(b, func(b *testing.B, s Suite) {
		k := mustKey(b, s)
		d := s.Hash([]byte("bench"))
		sig, pub := mustSign(b, k, d), k.PublicKey()
		b.ReportAllocs()
		for b.Loop() {
			if !s.Verify(pub, d, sig) {
				b.Fatal("Verify failed")
			}
		}
	})
}

// BenchmarkSender is the per-transaction cost: ecrecover for secp256k1,
// public-key parse plus verification for sm.
func BenchmarkSender(b *testing.B) {
	benchSuites(b, func(b *testing.B, s Suite) {
		k := mustKey(b, s)
		d := s.Hash([]byte("bench"))
		sig, pub := mustSign(b, k, d), txPub(s, k)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Sender(d, sig, pub); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkHash(b *testing.B) {
	benchSuites(b, func(b *testing.B, s Suite) {
		data := randomBytes(200)
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			s.Hash(data)
		}
	})
}
