package hubchain_test

import (
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/tallyhq/tally/hubchain"
)

// FuzzDecodeRules: the directory's rule list comes in an admin's
// transaction; any input either fails with an error or gives rules that
// each have a known kind, a match and a chain.
func FuzzDecodeRules(f *testing.F) {
	seed, _ := rlp.EncodeToBytes([]hubchain.Rule{{Kind: hubchain.RuleInstitution, Match: "bank-a", Chain: "user-1"}, {Kind: hubchain.RulePrefix, Match: "ab", Chain: "user-2"}})
	f.Add(seed)
	f.Add([]byte{0xc0})
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := hubchain.DecodeRules(b)
		if err != nil {
			return
		}
		for i, r := range rs {
			if (r.Kind != hubchain.RuleInstitution && r.Kind != hubchain.RulePrefix) || r.Match == "" || r.Chain == "" {
				t.Fatalf("rule %d decoded as %+v", i, r)
			}
		}
	})
}

// FuzzDecodeStatement: what the hub's statement view returns, decoded by
// bank operations' tools; any input fails with an error or decodes.
func FuzzDecodeStatement(f *testing.F) {
	seed, _ := rlp.EncodeToBytes(&hubchain.Statement{Summary: []byte{0xc0}, SummaryHash: common.Hash{1}, BlockHash: common.Hash{2}, BookedAt: 9})
	f.Add(seed)
	f.Fuzz(func(t *testing.T, b []byte) {
		if st, err := hubchain.DecodeStatement(b); err == nil && st == nil {
			t.Fatal("no statement and no error")
		}
	})
}

func TestFuzzSeedsDecode(t *testing.T) {
	seed, _ := rlp.EncodeToBytes([]hubchain.Rule{{Kind: hubchain.RuleInstitution, Match: "bank-a", Chain: "user-1"}})
	if rs, err := hubchain.DecodeRules(seed); err != nil || len(rs) != 1 {
		t.Fatalf("%v %v", rs, err)
	}
	bad, _ := rlp.EncodeToBytes([]hubchain.Rule{{Kind: "nope", Match: "x", Chain: "user-1"}})
	if _, err := hubchain.DecodeRules(bad); err == nil {
		t.Fatal("a rule of unknown kind decodes")
	}
}
