package relay_test

import (
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/settlement"
	"github.com/tallyhq/tally/engine/types"
	"github.com/tallyhq/tally/hubchain"
)

// setChangeHeader is a header at height that commits to next, certified by signers.
func (f *forger) setChangeHeader(height uint64, cur, next *types.ValidatorSet, signers []crypto.PrivateKey) ([]byte, []byte) {
	h := &types.Header{ChainID: f.chain, Height: height, ValidatorsHash: cur.Hash(s), NextValidatorsHash: next.Hash(s)}
	return h.Encode(), f.cert(h, signers).Encode()
}

func setOf(t *testing.T, keys []crypto.PrivateKey) *types.ValidatorSet {
	var vs []types.Validator
	for _, k := range keys {
		vs = append(vs, types.Validator{Address: k.Address(), PubKey: k.PublicKey()})
	}
	set, err := types.NewValidatorSet(s, vs)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// TestValidatorRotationReachesTheHub: a validator joins, then another
// leaves; each change is certified by the set before it, the hub follows
// both in order, and afterwards bundles certified only by the outdated set
// are rejected.
func TestValidatorRotationReachesTheHub(t *testing.T) {
	h := newHub(t)
	fg := newForger(t, "user-1")
	h.send(h.admin, "registerChain", "user-1", fg.client())
	old := fg.set
	v4 := key(t)
	grown := setOf(t, append(append([]crypto.PrivateKey(nil), fg.vals...), v4))
	hdr, cert := fg.setChangeHeader(10, old, grown, fg.vals[:3])
	if r, _ := h.send(h.admin, "updateClient", "user-1", hdr, cert, grown.Encode()); r.Status != types.StatusOK {
		t.Fatalf("add validator: %s", reason(r))
	}
	// Replaying the same update is a no-op success.
	if r, _ := h.send(h.admin, "updateClient", "user-1", hdr, cert, grown.Encode()); r.Status != types.StatusOK || r.Output[31] != hubchain.StatusDuplicate {
		t.Fatalf("replayed update: %v %x", r.Status, r.Output)
	}
	newKeys := append(append([]crypto.PrivateKey(nil), fg.vals[1:]...), v4) // v0 leaves
	shrunk := setOf(t, newKeys)
	hdr, cert = fg.setChangeHeader(20, grown, shrunk, []crypto.PrivateKey{fg.vals[0], fg.vals[1], fg.vals[2], v4})
	if r, _ := h.send(h.admin, "updateClient", "user-1", hdr, cert, shrunk.Encode()); r.Status != types.StatusOK {
		t.Fatalf("remove validator: %s", reason(r))
	}
	fg.set = shrunk
	sum := summary("user-1", 1, common.Hash{}, 1, 25, 0)
	cases := []struct {
		name    string
		height  uint64
		signers []crypto.PrivateKey
		want    string
	}{
		{"certified by the outdated set", 25, fg.vals[:3], types.ErrNotValidator.Error()},
		{"certified by too few of the current set", 25, newKeys[:2], types.ErrQuorum.Error()},
		{"older than the current set", 19, newKeys[:3], "older than the trusted validator set"},
	}
	for _, c := range cases {
		r, changed := h.send(h.admin, "book", fg.bundle(summaryAt(sum, c.height), c.height, c.signers).Encode())
		if r.Status == types.StatusOK || !strings.Contains(reason(r), c.want) || changed != 0 {
			t.Errorf("%s: status %v, reason %q (want %q), %d keys changed", c.name, r.Status, reason(r), c.want, changed)
		}
	}
	if r, _ := h.send(h.admin, "book", fg.bundle(sum, 25, newKeys[1:4]).Encode()); r.Status != types.StatusOK {
		t.Fatalf("bundle certified by the current set rejected: %s", reason(r))
	}
	// A set change not certified by the set in force is refused.
	bogusKeys := []crypto.PrivateKey{key(t), key(t), key(t), key(t)}
	bogus := setOf(t, bogusKeys)
	hdr, cert = fg.setChangeHeader(30, shrunk, bogus, bogusKeys)
	if r, changed := h.send(h.admin, "updateClient", "user-1", hdr, cert, bogus.Encode()); r.Status == types.StatusOK || changed != 0 {
		t.Fatalf("update certified by outsiders accepted")
	}
}

// summaryAt is s ending at height.
func summaryAt(s *settlement.Summary, height uint64) *settlement.Summary {
	c := *s
	c.ToHeight = height
	return &c
}
