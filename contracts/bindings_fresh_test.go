package contracts_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"

	"github.com/tallyhq/tally/contracts"
	"github.com/tallyhq/tally/contracts/bindings"
)

// TestBindingsMatchArtifacts: the committed bindings carry exactly the
// committed artifacts' ABI and bytecode (regenerate with gen-bindings.sh).
func TestBindingsMatchArtifacts(t *testing.T) {
	for name, md := range map[string]*bind.MetaData{"Token": &bindings.TokenMetaData,
		"CouponCampaign": &bindings.CouponCampaignMetaData, "Escrow": &bindings.EscrowMetaData} {
		code, err := contracts.Bytecode(name)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.EqualFold(strings.TrimPrefix(md.Bin, "0x"), hexOf(code)) {
			t.Errorf("%s: bindings bytecode is stale; run contracts/gen-bindings.sh", name)
		}
		var fromBinding, fromBuild any
		json.Unmarshal([]byte(md.ABI), &fromBinding)
		a, _ := contracts.ABIJSON(name)
		json.Unmarshal(a, &fromBuild)
		if !reflect.DeepEqual(fromBinding, fromBuild) {
			t.Errorf("%s: bindings ABI is stale; run contracts/gen-bindings.sh", name)
		}
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, x := range b {
		out[2*i], out[2*i+1] = digits[x>>4], digits[x&15]
	}
	return string(out)
}
