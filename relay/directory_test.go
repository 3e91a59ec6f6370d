package relay_test

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/types"
	"github.com/tallyhq/tally/hubchain"
)

func (f *hubFixture) sendTo(c *exec.Contract, from interface {
	Sign(common.Hash) ([]byte, error)
}, method string, args ...any) []any {
	f.t.Helper()
	saved := f.hub
	f.hub = c
	defer func() { f.hub = saved }()
	r, _ := f.send(f.admin, method, args...)
	if r.Status != types.StatusOK {
		f.t.Fatalf("%s: %v %s", method, r.Status, reason(r))
	}
	out, _ := c.Unpack(method, r.Output)
	return out
}

func users(n, offset int) []common.Address {
	out := make([]common.Address, n)
	for i := range out {
		out[i] = common.BigToAddress(big.NewInt(int64(1000 + offset + i)))
	}
	return out
}

// TestDirectoryStickyAssignment: users spread over open chains; a new chain
// takes new users while existing users stay; rules route first.
func TestDirectoryStickyAssignment(t *testing.T) {
	h := newHub(t)
	dir := hubchain.NewDirectory()
	for _, id := range []string{"user-1", "user-2", "user-3"} {
		h.send(h.admin, "registerChain", id, newForger(t, id).client())
	}
	h.sendTo(dir, h.admin, "setChainOpen", "user-1", true)
	h.sendTo(dir, h.admin, "setChainOpen", "user-2", true)
	first := h.sendTo(dir, h.admin, "assign", users(200, 0))[0].([]string)
	count := map[string]int{}
	for _, c := range first {
		count[c]++
	}
	if count["user-1"] < 60 || count["user-2"] < 60 || count["user-3"] != 0 {
		t.Fatalf("first 200 users spread %v", count)
	}
	// A new chain opens and the old ones close to new users.
	h.sendTo(dir, h.admin, "setChainOpen", "user-3", true)
	h.sendTo(dir, h.admin, "setChainOpen", "user-1", false)
	h.sendTo(dir, h.admin, "setChainOpen", "user-2", false)
	again := h.sendTo(dir, h.admin, "assign", users(200, 0))[0].([]string)
	for i := range first {
		if again[i] != first[i] {
			t.Fatalf("user %d moved from %s to %s", i, first[i], again[i])
		}
	}
	for _, c := range h.sendTo(dir, h.admin, "assign", users(50, 500))[0].([]string) {
		if c != "user-3" {
			t.Fatalf("a new user landed on %s, not the new chain", c)
		}
	}
	// Rules come first: an institution and an address prefix.
	rules, _ := rlp.EncodeToBytes([]hubchain.Rule{{Kind: hubchain.RuleInstitution, Match: "bank-a", Chain: "user-2"}})
	if v := h.sendTo(dir, h.admin, "setRules", rules)[0].(uint64); v != 1 {
		t.Fatalf("rules version %d", v)
	}
	for _, c := range h.sendTo(dir, h.admin, "assignInstitution", users(5, 900), "bank-a")[0].([]string) {
		if c != "user-2" {
			t.Fatalf("institution rule ignored: %s", c)
		}
	}
	out := h.sendTo(dir, h.admin, "chainOf", users(1, 900)[0])
	if out[0].(string) != "user-2" || !out[1].(bool) {
		t.Fatalf("chainOf %v", out)
	}
	bad, _ := rlp.EncodeToBytes([]hubchain.Rule{{Kind: "weather", Match: "x", Chain: "user-1"}})
	h.hub = dir
	if r, changed := h.send(h.admin, "setRules", bad); r.Status == types.StatusOK || changed != 0 {
		t.Fatal("a malformed rule was accepted")
	}
	outsider := key(t)
	if r, changed := h.send(outsider, "assignInstitution", users(1, 990), "bank-a"); r.Status != types.StatusPermissionDenied || changed != 0 {
		t.Fatalf("institution assignment without ADMIN: %v", r.Status)
	}
}
