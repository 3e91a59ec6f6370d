package chain_test

import (
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
)

// TestCNSRegisterResolve: a name+version registers once, the latest version
// resolves by name, an old one by name:version, and nothing is overwritten.
func TestCNSRegisterResolve(t *testing.T) {
	f := newFixture(t, crypto.Secp256k1())
	cns := system.NewCNS()
	a1, a2 := common.HexToAddress("0xa1"), common.HexToAddress("0xa2")
	e, _ := f.commit(adminTx(f, cns, "register", "Token", "1.0", a1, `[{"type":"function"}]`),
		adminTx(f, cns, "register", "Token", "2.0", a2, "[]"),
		adminTx(f, cns, "register", "Token", "1.0", a2, "[]"),
		adminTx(f, cns, "register", "bad name!", "1.0", a2, "[]"))
	want := []types.Status{types.StatusOK, types.StatusOK, types.StatusAlreadyExists, types.StatusInvalidArgument}
	for i, w := range want {
		if e.Receipts[i].Status != w {
			t.Fatalf("register %d: %v, want %v (%s)", i, e.Receipts[i].Status, w, reasonOf(e.Receipts[i]))
		}
	}
	call := func(method string, args ...any) []any {
		data, _ := cns.Pack(method, args...)
		r, err := f.c.Call(common.Address{}, &cns.Addr, data, 0)
		if err != nil || r.Status != types.StatusOK {
			t.Fatalf("%s: %v %v", method, err, r.Status)
		}
		out, _ := cns.Unpack(method, r.Output)
		return out
	}
	if out := call("resolve", "Token"); out[0].(common.Address) != a2 || out[1].(string) != "2.0" {
		t.Fatalf("resolve latest: %v", out)
	}
	if out := call("resolveVersion", "Token", "1.0"); out[0].(common.Address) != a1 {
		t.Fatalf("resolve 1.0 after a refused overwrite: %v", out)
	}
	outsider := mustKey(t, f.suite)
	data, _ := cns.Pack("register", "Other", "1", a1, "[]")
	tx := types.NewTx(f.gen.ChainID, f.c.Head().Height+10, &cns.Addr, 200_000, data)
	tx.Sign(outsider)
	if e, _ := f.commit(tx); e.Receipts[0].Status != types.StatusPermissionDenied {
		t.Fatalf("register without DEPLOYER: %v", e.Receipts[0].Status)
	}
}
