package evm

import (
	"bytes"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/vm/program"

	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/types"
)

var fuzzContract = common.HexToAddress("0xf022")

// fuzzRun deploys code at fuzzContract with some Ledger money, calls it
// with input, then creates a contract from code, and returns both
// receipts with their change sets.
func fuzzRun(t *testing.T, code, input []byte) ([]*types.Receipt, [][]state.Change) {
	w := newWorld(t, Options{OpenDeploy: true})
	blk := state.NewBlock(w.base)
	if len(code) > 0 {
		Deploy(blk, fuzzContract, code)
	}
	check(t, ledger.IssueGenesis(blk, "CNY", fuzzContract, u256(50)))
	w.base.apply(blk.Changes())
	r1, c1 := w.send(alice, &fuzzContract, input, 200_000)
	r2, c2 := w.send(bob, nil, code, 200_000)
	return []*types.Receipt{r1, r2}, [][]state.Change{c1, c2}
}

// FuzzEVMCall: arbitrary code and call data never panic, never use more
// gas than given, give a known status, change nothing when they fail and
// run the same way twice.
func FuzzEVMCall(f *testing.F) {
	w := newWorld(f, Options{})
	xfer := concat(word(fwdCall), must(w.ledger.Pack("transfer", "CNY", bob, big.NewInt(7))))
	for _, s := range [][2][]byte{
		{counterCode(), nil}, {loggerCode(), word(1)}, {revertCode("x"), nil}, {loopCode(), nil},
		{forwarderCode(), xfer}, {forwarderCode(), concat(word(fwdStatic), xfer[32:])},
		{tokenRuntime(), transferData(bob, 1)}, {initCode(counterCode()), nil}, {selfDestructInit(), nil},
		{factoryCode(true), concat(word(1), initCode(loggerCode()))}, {{0x5f, 0x5f, 0xfd}, nil}, {nil, []byte{1}},
		{program.New().Call(nil, bob, 1, 0, 0, 0, 0).Bytes(), nil},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, code, input []byte) {
		rs, changes := fuzzRun(t, code, input)
		again, changesAgain := fuzzRun(t, code, input)
		for i, r := range rs {
			if r.GasUsed > 200_000 || strings.HasPrefix(r.Status.String(), "status(") {
				t.Fatalf("tx %d: gas %d, status %v", i, r.GasUsed, r.Status)
			}
			if r.Status != types.StatusOK && (len(changes[i]) != 0 || len(r.Logs) != 0) {
				t.Fatalf("tx %d failed (%v) but changed %d keys", i, r.Status, len(changes[i]))
			}
			if !bytes.Equal(r.Encode(), again[i].Encode()) || !sameChanges(changes[i], changesAgain[i]) {
				t.Fatalf("tx %d ran differently twice", i)
			}
		}
	})
}

func sameChanges(a, b []state.Change) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i].Key, b[i].Key) || !bytes.Equal(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}
