package chain_test

import (
	"errors"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/system"
)

// FuzzParseGenesis: any genesis document either fails with a genesis error
// or parses to one that validates and survives a round trip through TOML.
func FuzzParseGenesis(f *testing.F) {
	s := crypto.Secp256k1()
	b := make([]byte, 32)
	b[31] = 3
	k, err := s.PrivateKeyFromBytes(b)
	if err != nil {
		f.Fatal(err)
	}
	g := &chain.Genesis{ChainID: "fuzz", Suite: s.Name(), Consensus: chain.ConsensusPBFT,
		Validators: []chain.GenesisValidator{{PubKey: hexutil.Encode(k.PublicKey()), Name: "v0"}},
		Roles:      map[string][]string{system.RoleAdmin: {k.Address().Hex()}},
		Balances:   []chain.GenesisBalance{{Asset: "CNY", Address: k.Address().Hex(), Amount: "1000"}}}
	seed, err := g.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	if _, err := chain.ParseGenesis(seed); err != nil {
		f.Fatalf("the seed does not parse: %v", err)
	}
	f.Add(seed)
	f.Add([]byte("chain_id = 5\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := chain.ParseGenesis(b)
		if err != nil {
			if !errors.Is(err, chain.ErrGenesis) {
				t.Fatalf("a bad genesis failed without a genesis error: %v", err)
			}
			return
		}
		if err := g.Validate(); err != nil {
			t.Fatalf("ParseGenesis returned a genesis Validate refuses: %v", err)
		}
		again, err := g.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := chain.ParseGenesis(again); err != nil {
			t.Fatalf("a parsed genesis does not parse again once written: %v\n%s", err, again)
		}
	})
}
