package merkle

import (
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

func sha(data ...[]byte) common.Hash {
	h := sha256.New()
	for _, d := range data {
		h.Write(d)
	}
	return common.BytesToHash(h.Sum(nil))
}

// rfcRoot is RFC 6962 §2.1's recursive definition, the slow twin of Root.
func rfcRoot(leaves [][]byte) common.Hash {
	switch n := len(leaves); n {
	case 0:
		return sha()
	case 1:
		return sha([]byte{0}, leaves[0])
	default:
		k := 1
		for k*2 < n {
			k *= 2
		}
		l, r := rfcRoot(leaves[:k]), rfcRoot(leaves[k:])
		return sha([]byte{1}, l[:], r[:])
	}
}

func makeLeaves(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(fmt.Sprintf("leaf-%d", i))
	}
	return out
}

// The RFC 6962 test vector: the root of the empty tree is SHA-256("").
func TestEmptyRootVector(t *testing.T) {
	want := common.HexToHash("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
	if got := Root(sha, nil); got != want {
		t.Fatalf("empty root %x, want %x", got, want)
	}
}

func TestRootMatchesRFCDefinition(t *testing.T) {
	for n := 0; n <= 70; n++ {
		leaves := makeLeaves(n)
		if got, want := Root(sha, leaves), rfcRoot(leaves); got != want {
			t.Fatalf("n=%d: root %x, RFC definition %x", n, got, want)
		}
	}
}

func TestProveVerifyAllPositions(t *testing.T) {
	for n := 1; n <= 40; n++ {
		leaves := makeLeaves(n)
		root := Root(sha, leaves)
		for i := range leaves {
			p, err := Prove(sha, leaves, i)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyInclusion(sha, root, leaves[i], p); err != nil {
				t.Fatalf("n=%d i=%d: %v", n, i, err)
			}
			q, err := DecodeProof(p.Encode())
			if err != nil || VerifyInclusion(sha, root, leaves[i], q) != nil {
				t.Fatalf("n=%d i=%d: proof does not survive encoding: %v", n, i, err)
			}
		}
	}
}

func TestTamperedProofsFail(t *testing.T) {
	leaves := makeLeaves(13)
	root := Root(sha, leaves)
	p, _ := Prove(sha, leaves, 6)
	cases := map[string]func() (common.Hash, []byte, *Proof){
		"other leaf": func() (common.Hash, []byte, *Proof) { return root, leaves[7], p },
		"other index": func() (common.Hash, []byte, *Proof) {
			q := *p
			q.Index = 7
			return root, leaves[6], &q
		},
		"flipped path byte": func() (common.Hash, []byte, *Proof) {
			q := *p
			q.Path = append([]common.Hash(nil), p.Path...)
			q.Path[1][0] ^= 1
			return root, leaves[6], &q
		},
		"short path": func() (common.Hash, []byte, *Proof) {
			q := *p
			q.Path = p.Path[:len(p.Path)-1]
			return root, leaves[6], &q
		},
		"other size, other shape": func() (common.Hash, []byte, *Proof) {
			q := *p
			q.Size = 7
			return root, leaves[6], &q
		},
		"index past size": func() (common.Hash, []byte, *Proof) {
			q := *p
			q.Index = 13
			return root, leaves[6], &q
		},
		"other root": func() (common.Hash, []byte, *Proof) { return sha([]byte("x")), leaves[6], p },
		// An interior node presented as a leaf must not verify: domain separation.
		"node as leaf": func() (common.Hash, []byte, *Proof) {
			l, r := LeafHash(sha, leaves[0]), LeafHash(sha, leaves[1])
			two := Root(sha, leaves[:2])
			return two, append(l[:], r[:]...), &Proof{Index: 0, Size: 1}
		},
	}
	for name, c := range cases {
		root, leaf, proof := c()
		if err := VerifyInclusion(sha, root, leaf, proof); err == nil {
			t.Errorf("%s: tampered proof verified", name)
		}
	}
}

func FuzzDecodeProof(f *testing.F) {
	leaves := makeLeaves(9)
	p, _ := Prove(sha, leaves, 4)
	f.Add(p.Encode())
	f.Add([]byte{0xc0})
	root := Root(sha, leaves)
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := DecodeProof(b)
		if err != nil {
			return
		}
		// Must never panic. Under the size a verifier trusts (9, from the
		// header's TxCount) only the true proof of leaf 4 verifies; other
		// sizes can share the root's shape, which is why callers check Size.
		if q.Size == 9 && VerifyInclusion(sha, root, leaves[4], q) == nil && (q.Index != 4 || !equalPaths(q.Path, p.Path)) {
			t.Fatalf("forged proof verified: %+v", q)
		}
	})
}

func BenchmarkRoot10k(b *testing.B) {
	leaves := makeLeaves(10000)
	for b.Loop() {
		Root(sha, leaves)
	}
}

func equalPaths(a, b []common.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
