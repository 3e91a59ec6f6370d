package ledger

import (
	"math/rand/v2"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// TestCheckAssetMatchesRegexp checks the hand-written asset check against
// the regular expression that defines it.
func TestCheckAssetMatchesRegexp(t *testing.T) {
	alphabet := []byte("AZaz09/_ \x00\xff\xc3\x89-")
	rng := rand.New(rand.NewPCG(3, 3))
	for i := 0; i < 200_000; i++ {
		b := make([]byte, rng.IntN(15))
		for j := range b {
			if rng.IntN(3) == 0 {
				b[j] = alphabet[rng.IntN(len(alphabet))]
			} else {
				b[j] = byte('A' + rng.IntN(26))
				if j > 0 && rng.IntN(4) == 0 {
					b[j] = byte('0' + rng.IntN(10))
				}
			}
		}
		if got, want := validAsset(string(b)), assetRe.MatchString(string(b)); got != want {
			t.Fatalf("%q: hand check %v, regexp %v", b, got, want)
		}
	}
}

func FuzzCheckAsset(f *testing.F) {
	for _, s := range []string{"CNY", "C", "CNY1", "cny", "ABCDEFGHIJKL", "ABCDEFGHIJKLM", "É", "C\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validAsset(s), assetRe.MatchString(s); got != want {
			t.Fatalf("%q: hand check %v, regexp %v", s, got, want)
		}
	})
}

func TestBalanceKeys(t *testing.T) {
	for _, asset := range []string{"CNY", "A1", "ABCDEFGHIJKL"} {
		a, b := common.HexToAddress("0xa"), common.HexToAddress("0xfeed")
		if x, y := balanceKeys(asset, a, b); x != BalanceKey(asset, a) || y != BalanceKey(asset, b) {
			t.Fatalf("%q %q", x, y)
		}
	}
}
