package proof_test

import (
	"testing"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/merkle"
	"github.com/tallyhq/tally/engine/proof"
	"github.com/tallyhq/tally/engine/types"
)

// FuzzDecodeReceipt: a receipt proof from anyone (a relay, a client) either
// fails to decode with an error, or decodes to one with a branch that the
// verifier can be handed without panicking: whatever it holds, checking it
// against its own header fails cleanly or returns the receipt it proves.
func FuzzDecodeReceipt(f *testing.F) {
	s := crypto.Secp256k1()
	r := &types.Receipt{Status: types.StatusOK, GasUsed: 21_000}
	h := &types.Header{ChainID: "c", Height: 3, TxCount: 1, ReceiptRoot: merkle.Root(s.Hash, [][]byte{r.Encode()})}
	p := &proof.Receipt{Receipt: r.Encode(), Branch: &merkle.Proof{Index: 0, Size: 1}, Header: h.Encode(), Certificate: []byte{0xc0}}
	f.Add(p.Encode())
	f.Add([]byte{0xc0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := proof.DecodeReceipt(b)
		if err != nil {
			return
		}
		if p.Branch == nil {
			t.Fatal("a decoded proof has no branch")
		}
		h, err := types.DecodeHeader(p.Header)
		if err != nil {
			return
		}
		if r, err := proof.VerifyReceiptInHeader(s, h, p.Receipt, p.Branch); err == nil && r == nil {
			t.Fatal("a verified proof returned no receipt")
		}
	})
}

// TestFuzzSeedVerifies: the fuzzer starts from a proof that verifies.
func TestFuzzSeedVerifies(t *testing.T) {
	s := crypto.Secp256k1()
	r := &types.Receipt{Status: types.StatusOK, GasUsed: 21_000}
	h := &types.Header{ChainID: "c", Height: 3, TxCount: 1, ReceiptRoot: merkle.Root(s.Hash, [][]byte{r.Encode()})}
	p := &proof.Receipt{Receipt: r.Encode(), Branch: &merkle.Proof{Index: 0, Size: 1}, Header: h.Encode(), Certificate: []byte{0xc0}}
	d, err := proof.DecodeReceipt(p.Encode())
	if err != nil {
		t.Fatal(err)
	}
	dh, err := types.DecodeHeader(d.Header)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := proof.VerifyReceiptInHeader(s, dh, d.Receipt, d.Branch); err != nil {
		t.Fatal(err)
	}
}
