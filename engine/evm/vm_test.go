package evm

import (
	"bytes"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/core/vm/program"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/holiman/uint256"

	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/types"
)

func wantStatus(t *testing.T, r *types.Receipt, want types.Status) {
	t.Helper()
	if r.Status != want {
		reason, _ := exec.RevertReason(r.Output)
		t.Fatalf("status %v (%s, output %x), want %v", r.Status, reason, r.Output, want)
	}
}

func TestRulesAreOsaka(t *testing.T) {
	r := New(nil, Options{}).rules
	if !r.IsOsaka || !r.IsShanghai || !r.IsCancun || !r.IsMerge || r.IsAmsterdam || r.IsBogota || r.IsUBT {
		t.Fatalf("rules %+v: want Osaka and nothing later", r)
	}
}

func TestDeployCallAndPersist(t *testing.T) {
	w := newWorld(t, Options{})
	a := w.deploy(counterCode())
	if want := crypto.CreateAddress(deployer, 0); a != want {
		t.Fatalf("created %s, want %s (sender, nonce 0)", a, want)
	}
	if b := w.deploy(counterCode()); b != crypto.CreateAddress(deployer, 1) {
		t.Fatalf("second contract at %s: the creator's nonce did not advance", b)
	}
	if Nonce(w.base, deployer) != 2 || Nonce(w.base, a) != 1 {
		t.Fatalf("nonces deployer %d, contract %d; want 2 and 1", Nonce(w.base, deployer), Nonce(w.base, a))
	}
	if !bytes.Equal(Code(w.base, a), counterCode()) {
		t.Fatal("deployed code differs")
	}
	for i := uint64(1); i <= 3; i++ {
		r := w.call(alice, a, nil)
		wantStatus(t, r, types.StatusOK)
		if !bytes.Equal(r.Output, word(i)) || Storage(w.base, a, common.Hash{}) != common.BytesToHash(word(i)) {
			t.Fatalf("call %d returned %x, slot 0 holds %x", i, r.Output, Storage(w.base, a, common.Hash{}))
		}
	}
	if got := Storage(w.base, a, common.BytesToHash(word(1))); common.BytesToAddress(got[:]) != alice {
		t.Fatalf("CALLER was %x, want alice", got)
	}
}

func TestEventsBecomeReceiptLogs(t *testing.T) {
	w := newWorld(t, Options{})
	a := w.deploy(loggerCode())
	r := w.call(alice, a, word(42))
	wantStatus(t, r, types.StatusOK)
	if len(r.Logs) != 1 {
		t.Fatalf("%d logs, want 1", len(r.Logs))
	}
	l := r.Logs[0]
	want := []common.Hash{topicA, common.BytesToHash(alice[:])}
	if l.Address != a || len(l.Topics) != 2 || l.Topics[0] != want[0] || l.Topics[1] != want[1] || !bytes.Equal(l.Data, word(42)) {
		t.Fatalf("log %+v", l)
	}
}

func TestRevertReason(t *testing.T) {
	w := newWorld(t, Options{})
	a := w.deploy(revertCode("nope"))
	r, changes := w.send(alice, &a, nil, 100_000)
	wantStatus(t, r, types.StatusReverted)
	if reason, ok := exec.RevertReason(r.Output); !ok || reason != "nope" {
		t.Fatalf("reason %q (%v)", reason, ok)
	}
	if len(changes) != 0 || len(r.Logs) != 0 {
		t.Fatalf("a reverted call changed %d keys", len(changes))
	}
	if r.GasUsed >= 100_000 {
		t.Fatal("a revert must return the gas it did not use")
	}
}

func TestOutOfGas(t *testing.T) {
	w := newWorld(t, Options{})
	a := w.deploy(loopCode())
	r, changes := w.send(alice, &a, nil, 80_000)
	wantStatus(t, r, types.StatusOutOfGas)
	if r.GasUsed != 80_000 || len(changes) != 0 {
		t.Fatalf("gas used %d, %d changes", r.GasUsed, len(changes))
	}
}

func TestNestedCall(t *testing.T) {
	w := newWorld(t, Options{})
	b := w.deploy(counterCode())
	a := w.deploy(proxyCode(b))
	r := w.call(alice, a, nil)
	wantStatus(t, r, types.StatusOK)
	if !bytes.Equal(r.Output, word(1)) {
		t.Fatalf("proxy returned %x", r.Output)
	}
	if got := Storage(w.base, b, common.BytesToHash(word(1))); common.BytesToAddress(got[:]) != a {
		t.Fatal("the inner call's CALLER is not the calling contract")
	}
	if Storage(w.base, a, common.BytesToHash(word(2))) != common.BytesToHash(word(1)) {
		t.Fatal("the proxy did not see the inner call succeed")
	}
}

func TestCallWithoutCode(t *testing.T) {
	w := newWorld(t, Options{})
	r, _ := w.send(alice, &bob, nil, 100_000)
	wantStatus(t, r, types.StatusNoContract)
	sha256 := common.BytesToAddress([]byte{2})
	r, _ = w.send(alice, &sha256, []byte("abc"), 100_000)
	wantStatus(t, r, types.StatusOK)
	if want := crypto.Keccak256(); bytes.Equal(r.Output, want) || len(r.Output) != 32 {
		t.Fatalf("sha256 precompile returned %x", r.Output)
	}
}

func TestDeployNeedsRole(t *testing.T) {
	w := newWorld(t, Options{})
	r, changes := w.send(alice, nil, initCode(counterCode()), 1_000_000)
	wantStatus(t, r, types.StatusPermissionDenied)
	if len(changes) != 0 || r.ContractAddress != (common.Address{}) || r.GasUsed != exec.IntrinsicGas(initCode(counterCode())) {
		t.Fatalf("denied deploy: %d changes, address %s, gas %d", len(changes), r.ContractAddress, r.GasUsed)
	}
	open := newWorld(t, Options{OpenDeploy: true})
	r, _ = open.send(alice, nil, initCode(counterCode()), 1_000_000)
	wantStatus(t, r, types.StatusOK)
}

func TestCreateChargesEthereumIntrinsic(t *testing.T) {
	w := newWorld(t, Options{})
	code := initCode(counterCode())
	words := uint64(len(code)+31) / 32
	floor := params.TxGasContractCreation + exec.IntrinsicGas(code) - params.TxGas + words*params.InitCodeWordGas
	r, _ := w.send(deployer, nil, code, floor-1)
	wantStatus(t, r, types.StatusOutOfGas)
	r, _ = w.send(deployer, nil, code, 1_000_000)
	wantStatus(t, r, types.StatusOK)
	deposit := uint64(len(counterCode())) * params.CreateDataGas
	if r.GasUsed < floor+deposit || r.GasUsed > floor+deposit+1000 {
		t.Fatalf("deploy used %d gas; intrinsic %d plus code deposit %d plus a little init code", r.GasUsed, floor, deposit)
	}
	big := make([]byte, params.MaxInitCodeSize+1)
	r, _ = w.send(deployer, nil, big, 10_000_000)
	wantStatus(t, r, types.StatusEVMError)
}

func TestCreateEdgeCases(t *testing.T) {
	cases := []struct {
		name   string
		init   []byte
		status types.Status
	}{
		{"reverting constructor", revertCode("no"), types.StatusReverted},
		{"constructor out of gas", loopCode(), types.StatusOutOfGas},
		{"code at the size limit", returnSizeInit(params.MaxCodeSize), types.StatusOK},
		{"code over the size limit", returnSizeInit(params.MaxCodeSize + 1), types.StatusEVMError},
		{"code starting with 0xEF", program.New().Mstore([]byte{0xef}, 0).Return(0, 1).Bytes(), types.StatusEVMError},
		{"empty code", program.New().Return(0, 0).Bytes(), types.StatusOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, Options{})
			r, changes := w.send(deployer, nil, c.init, 8_000_000)
			wantStatus(t, r, c.status)
			if reason, _ := exec.RevertReason(r.Output); c.status == types.StatusReverted && reason != "no" {
				t.Fatalf("constructor's revert reason %q", reason)
			}
			if c.status != types.StatusOK && (len(changes) != 0 || Nonce(w.base, deployer) != 0) {
				t.Fatalf("failed creation left %d changes, deployer nonce %d", len(changes), Nonce(w.base, deployer))
			}
		})
	}
}

func TestCreateCollision(t *testing.T) {
	w := newWorld(t, Options{})
	f := w.deploy(factoryCode(true))
	blk := state.NewBlock(w.base)
	Deploy(blk, crypto.CreateAddress(deployer, 1), []byte{0})
	w.base.apply(blk.Changes())
	r, changes := w.send(deployer, nil, initCode(counterCode()), 500_000)
	wantStatus(t, r, types.StatusEVMError)
	if reason, _ := exec.RevertReason(r.Output); !strings.Contains(reason, "collision") || r.GasUsed != 500_000 || len(changes) != 0 {
		t.Fatalf("collision: %q, gas %d, %d changes", reason, r.GasUsed, len(changes))
	}

	arg := concat(word(9), initCode(counterCode()))
	wantStatus(t, w.call(alice, f, arg), types.StatusOK)
	first := common.BytesToAddress(Storage(w.base, f, common.Hash{}).Bytes())
	if want := crypto.CreateAddress2(f, common.BytesToHash(word(9)), crypto.Keccak256(initCode(counterCode()))); first != want {
		t.Fatalf("CREATE2 made %s, want %s", first, want)
	}
	wantStatus(t, w.call(alice, f, arg), types.StatusOK)
	if Storage(w.base, f, common.Hash{}) != (common.Hash{}) || !bytes.Equal(Code(w.base, first), counterCode()) {
		t.Fatal("a colliding CREATE2 must push 0 and leave the first contract alone")
	}
}

func TestInnerCreateFailures(t *testing.T) {
	w := newWorld(t, Options{})
	f := w.deploy(factoryCode(false))
	r := w.call(alice, f, concat(word(0), revertCode("ctor")))
	wantStatus(t, r, types.StatusOK)
	if Storage(w.base, f, common.Hash{}) != (common.Hash{}) || Storage(w.base, f, common.BytesToHash(word(1))) != common.BytesToHash(word(uint64(len(exec.RevertData("ctor"))))) {
		t.Fatal("a reverted CREATE must push 0 and expose the revert data")
	}
	if Nonce(w.base, f) != 2 {
		t.Fatalf("factory nonce %d: a failed CREATE still counts (go-ethereum bumps it before the attempt)", Nonce(w.base, f))
	}
	wantStatus(t, w.call(alice, f, concat(word(0), initCode(counterCode()))), types.StatusOK)
	if got := common.BytesToAddress(Storage(w.base, f, common.Hash{}).Bytes()); got != crypto.CreateAddress(f, 2) {
		t.Fatalf("CREATE made %s, want the factory's nonce-2 address", got)
	}
}

func TestSelfDestruct(t *testing.T) {
	w := newWorld(t, Options{})
	f := w.deploy(factoryCode(false))
	wantStatus(t, w.call(alice, f, concat(word(0), selfDestructInit())), types.StatusOK)
	gone := crypto.CreateAddress(f, 1)
	for k := range w.base {
		if strings.HasPrefix(k, prefixAccount+string(gone[:])) || strings.HasPrefix(k, prefixStorage+string(gone[:])) {
			t.Fatalf("self-destructed contract left key %q", k)
		}
	}
	// A contract created earlier survives SELFDESTRUCT (EIP-6780).
	old := w.deploy(program.New().Sstore(0, 1).Selfdestruct(bob).Bytes())
	wantStatus(t, w.call(alice, old, nil), types.StatusOK)
	if Code(w.base, old) == nil || Storage(w.base, old, common.Hash{}) == (common.Hash{}) {
		t.Fatal("an old contract lost its code or storage")
	}
}

// TestSelfDestructRevertedByCaller: a contract created in the transaction
// self-destructs inside a frame that its caller then reverts, so it must
// survive the transaction.
func TestSelfDestructRevertedByCaller(t *testing.T) {
	child := initCode(program.New().Selfdestruct(bob).Bytes())
	a := newAsm()
	a.Op(vm.CALLER, vm.ADDRESS, vm.EQ)
	a.jumpi("inner")
	a.Mstore(child, 0)
	a.Push(len(child)).Push(0).Push(0).Op(vm.CREATE).Push(0).Op(vm.SSTORE)
	a.Push(0).Push(0).Push(0).Push(0).Push(0).Op(vm.ADDRESS, vm.GAS, vm.CALL, vm.POP, vm.STOP)
	a.mark("inner")
	a.Push(0).Push(0).Push(0).Push(0).Push(0).Push(0).Op(vm.SLOAD, vm.GAS, vm.CALL, vm.POP)
	a.Push(0).Push(0).Op(vm.REVERT)
	w := newWorld(t, Options{})
	f := w.deploy(a.code())
	wantStatus(t, w.call(alice, f, nil), types.StatusOK)
	c := common.BytesToAddress(Storage(w.base, f, common.Hash{}).Bytes())
	if c == (common.Address{}) || Code(w.base, c) == nil {
		t.Fatalf("child %s lost its code to a reverted self-destruct", c)
	}
}

func TestValueTransferFails(t *testing.T) {
	w := newWorld(t, Options{})
	p := program.New().Call(nil, bob, 1, 0, 0, 0, 0).Push(0).Op(vm.SSTORE).Sstore(1, 1)
	a := w.deploy(p.Bytes())
	wantStatus(t, w.call(alice, a, nil), types.StatusOK)
	if Storage(w.base, a, common.Hash{}) != (common.Hash{}) || Storage(w.base, a, common.BytesToHash(word(1))) != common.BytesToHash(word(1)) {
		t.Fatal("a CALL with value must fail and leave the caller running")
	}
}

func TestTransientStorage(t *testing.T) {
	w := newWorld(t, Options{})
	c := w.deploy(transientCode())
	for i := 0; i < 2; i++ {
		wantStatus(t, w.call(alice, c, nil), types.StatusOK)
		if Storage(w.base, c, common.Hash{}) != common.BytesToHash(word(2)) {
			t.Fatalf("tx %d: slot 0 = %x; transient storage must span frames and reset per transaction", i, Storage(w.base, c, common.Hash{}))
		}
	}
}

func TestTransientStorageReverts(t *testing.T) {
	a := newAsm()
	a.Push(0).Op(vm.TLOAD).Push(1).Op(vm.ADD).Push(0).Op(vm.TSTORE)
	a.Op(vm.CALLER, vm.ADDRESS, vm.EQ, vm.ISZERO)
	a.jumpi("outer")
	a.Push(0).Push(0).Op(vm.REVERT) // the inner frame bumps, then reverts
	a.mark("outer")
	a.Push(0).Push(0).Push(0).Push(0).Push(0).Op(vm.ADDRESS, vm.GAS, vm.CALL, vm.POP)
	a.Push(0).Op(vm.TLOAD).Push(0).Op(vm.SSTORE)
	w := newWorld(t, Options{})
	c := w.deploy(a.code())
	wantStatus(t, w.call(alice, c, nil), types.StatusOK)
	if Storage(w.base, c, common.Hash{}) != common.BytesToHash(word(1)) {
		t.Fatalf("slot 0 = %x: a reverted frame's transient write survived", Storage(w.base, c, common.Hash{}))
	}
}

// transientCode bumps transient slot 0, calls itself once to bump it
// again, and stores the final count in slot 0 (2 in every transaction).
func transientCode() []byte {
	a := newAsm()
	a.Push(0).Op(vm.TLOAD).Push(1).Op(vm.ADD).Push(0).Op(vm.TSTORE)
	a.Op(vm.CALLER, vm.ADDRESS, vm.EQ)
	a.jumpi("end")
	a.Push(0).Push(0).Push(0).Push(0).Push(0).Op(vm.ADDRESS, vm.GAS, vm.CALL, vm.POP)
	a.Push(0).Op(vm.TLOAD).Push(0).Op(vm.SSTORE)
	a.mark("end")
	return a.code()
}

func TestReadOnlyCallLeavesStateAlone(t *testing.T) {
	w := newWorld(t, Options{})
	a := w.deploy(counterCode())
	before := len(w.base)
	blk := state.NewBlock(w.base) // as chain.Call: a throwaway block over the head
	r, err := w.x.ApplyTx(w.bc, blk, w.tx(&a, nil, 1_000_000), bob)
	check(t, err)
	wantStatus(t, r, types.StatusOK)
	if !bytes.Equal(r.Output, word(1)) || len(w.base) != before || Storage(w.base, a, common.Hash{}) != (common.Hash{}) {
		t.Fatal("a read-only call must see the head and change nothing under it")
	}
}

func TestPush0AndEnvironment(t *testing.T) {
	w := newWorld(t, Options{})
	p := program.New().Op(vm.PUSH0, vm.ISZERO, vm.PUSH0, vm.SSTORE).Op(vm.TIMESTAMP).Push(1).Op(vm.SSTORE)
	p.Op(vm.COINBASE).Push(2).Op(vm.SSTORE).Op(vm.CHAINID).Push(3).Op(vm.SSTORE).Op(vm.GASLIMIT).Push(4).Op(vm.SSTORE)
	p.Op(vm.NUMBER).Push(5).Op(vm.SSTORE)
	a := w.deploy(p.Bytes())
	height, ts := w.bc.Height, w.bc.Timestamp
	wantStatus(t, w.call(alice, a, nil), types.StatusOK)
	got := func(i uint64) *big.Int { return Storage(w.base, a, common.BytesToHash(word(i))).Big() }
	if got(0).Uint64() != 1 || got(1).Uint64() != ts/1000 || common.BigToAddress(got(2)) != w.bc.Proposer ||
		got(3).Cmp(ChainIDOf("t")) != 0 || got(4).Uint64() != 4_000_000_000 || got(5).Uint64() != height {
		t.Fatalf("push0 %v time %v coinbase %x chainid %v gaslimit %v number %v", got(0), got(1), got(2), got(3), got(4), got(5))
	}
}

// ledgerCall is forwarder calldata: mode, then a Ledger call.
func ledgerCall(t *testing.T, w *world, mode uint64, method string, args ...any) []byte {
	data, err := w.ledger.Pack(method, args...)
	check(t, err)
	return concat(word(mode), data)
}

func fundedForwarder(t *testing.T) (*world, common.Address) {
	w := newWorld(t, Options{})
	f := w.deploy(forwarderCode())
	blk := state.NewBlock(w.base)
	check(t, ledger.IssueGenesis(blk, "CNY", f, u256(100)))
	w.base.apply(blk.Changes())
	return w, f
}

func TestContractMovesItsOwnLedgerBalance(t *testing.T) {
	w, f := fundedForwarder(t)
	r := w.call(alice, f, ledgerCall(t, w, fwdCall, "transfer", "CNY", bob, big.NewInt(30)))
	wantStatus(t, r, types.StatusOK)
	if ledger.Balance(w.base, "CNY", f).Uint64() != 70 || ledger.Balance(w.base, "CNY", bob).Uint64() != 30 || ledger.Balance(w.base, "CNY", alice).Uint64() != 1000 {
		t.Fatal("the contract, not the signer, must pay")
	}
	if Storage(w.base, f, common.BytesToHash(word(1))) != common.BytesToHash(word(1)) {
		t.Fatal("the contract's own write before the Ledger call happened twice or not at all")
	}
	if len(r.Logs) != 2 || r.Logs[0].Address != ledger.Address || r.Logs[0].Topics[1] != common.BytesToHash(f[:]) || r.Logs[1].Topics[0] != topicDone {
		t.Fatalf("logs %+v: want the Ledger's Transfer from the contract, then the contract's own", r.Logs)
	}
}

func TestLedgerWritesUndoneByRevert(t *testing.T) {
	w, f := fundedForwarder(t)
	r, changes := w.send(alice, &f, ledgerCall(t, w, fwdCallThenFail, "transfer", "CNY", bob, big.NewInt(30)), 1_000_000)
	wantStatus(t, r, types.StatusReverted)
	if len(changes) != 0 || ledger.Balance(w.base, "CNY", f).Uint64() != 100 {
		t.Fatal("a revert after the Ledger call must undo the transfer")
	}
	// Caught inside the transaction: the call's writes and logs go, the rest stays.
	r = w.call(alice, f, ledgerCall(t, w, fwdCatch, "transfer", "CNY", bob, big.NewInt(500)))
	wantStatus(t, r, types.StatusOK)
	if len(r.Logs) != 1 || r.Logs[0].Topics[0] != topicDone || ledger.Balance(w.base, "CNY", f).Uint64() != 100 {
		t.Fatalf("caught failure: logs %+v", r.Logs)
	}
}

// TestLedgerLogsDroppedWithFrame: a Ledger transfer succeeds in a frame
// that then reverts; the caller carries on, and neither the transfer nor
// its log survive.
func TestLedgerLogsDroppedWithFrame(t *testing.T) {
	w, f := fundedForwarder(t)
	p := w.deploy(proxyCode(f))
	r := w.call(alice, p, ledgerCall(t, w, fwdCallThenFail, "transfer", "CNY", bob, big.NewInt(30)))
	wantStatus(t, r, types.StatusOK)
	if len(r.Logs) != 0 || ledger.Balance(w.base, "CNY", f).Uint64() != 100 || Storage(w.base, p, common.BytesToHash(word(2))) != (common.Hash{}) {
		t.Fatalf("logs %+v, forwarder balance %v", r.Logs, ledger.Balance(w.base, "CNY", f))
	}
}

func TestLedgerFailureBubblesReason(t *testing.T) {
	w, f := fundedForwarder(t)
	r := w.call(alice, f, ledgerCall(t, w, fwdCall, "transfer", "CNY", bob, big.NewInt(500)))
	wantStatus(t, r, types.StatusReverted)
	if reason, _ := exec.RevertReason(r.Output); !strings.Contains(reason, "insufficient balance") {
		t.Fatalf("reason %q", reason)
	}
}

func TestPrecompileCallKinds(t *testing.T) {
	w, f := fundedForwarder(t)
	r := w.call(alice, f, ledgerCall(t, w, fwdStatic, "balanceOf", "CNY", f))
	wantStatus(t, r, types.StatusOK)
	if new(big.Int).SetBytes(r.Output).Uint64() != 100 {
		t.Fatalf("balanceOf by STATICCALL returned %x", r.Output)
	}
	for _, mode := range []uint64{fwdStatic, fwdDelegate} {
		r = w.call(alice, f, ledgerCall(t, w, mode, "transfer", "CNY", bob, big.NewInt(1)))
		wantStatus(t, r, types.StatusReverted)
		if reason, _ := exec.RevertReason(r.Output); !strings.Contains(reason, "permission denied") {
			t.Fatalf("mode %d: reason %q", mode, reason)
		}
	}
	if ledger.Balance(w.base, "CNY", f).Uint64() != 100 {
		t.Fatal("a refused precompile call moved money")
	}
}

// TestPrecompileGasChargedOnce compares two methods that differ only in
// their declared gas: the receipts must differ by exactly that gas.
func TestPrecompileGasChargedOnce(t *testing.T) {
	addr := ledger.Address // the forwarder's target
	mk := func(name string, gas uint64) *exec.Method {
		return &exec.Method{ABI: exec.NewABIMethod(name, false, nil, nil), Gas: gas,
			Keys: func(common.Address, []any) []exec.Access { return nil },
			Run:  func(*exec.Env, []any) ([]any, error) { return nil, nil }}
	}
	c := exec.NewContract(addr, "Probe", []*exec.Method{mk("cheap", 0), mk("dear", 50_000)})
	w := newWorld(t, Options{})
	w.x = NewExecutor(Options{}, c)
	blk := state.NewBlock(w.base)
	f := crypto.CreateAddress(deployer, 0)
	Deploy(blk, f, forwarderCode())
	w.base.apply(blk.Changes())
	used := func(name string) uint64 {
		data := concat(word(fwdCall), must(c.Pack(name)))
		r := w.call(alice, f, data)
		wantStatus(t, r, types.StatusOK)
		return r.GasUsed - exec.IntrinsicGas(data)
	}
	used("cheap") // the forwarder's call counter is non-zero from here on
	if d := used("dear") - used("cheap"); d != 50_000 {
		t.Fatalf("gas difference %d, want 50000", d)
	}
}

func u256(v uint64) *uint256.Int { return uint256.NewInt(v) }

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestTokenTransfer(t *testing.T) {
	w := newWorld(t, Options{})
	r, _ := w.send(deployer, nil, tokenInit(big.NewInt(1000)), 1_000_000)
	wantStatus(t, r, types.StatusOK)
	tok := r.ContractAddress
	r = w.call(deployer, tok, transferData(bob, 300))
	wantStatus(t, r, types.StatusOK)
	if len(r.Logs) != 1 || r.Logs[0].Topics[0] != topicXfer || r.Logs[0].Topics[2] != common.BytesToHash(bob[:]) || !bytes.Equal(r.Output, word(1)) {
		t.Fatalf("transfer: logs %+v output %x", r.Logs, r.Output)
	}
	wantStatus(t, w.call(bob, tok, transferData(alice, 301)), types.StatusReverted)
	for who, want := range map[common.Address]uint64{deployer: 700, bob: 300, alice: 0} {
		if got := w.call(alice, tok, balanceOfData(who)); !bytes.Equal(got.Output, word(want)) {
			t.Fatalf("balanceOf(%s) = %x, want %d", who, got.Output, want)
		}
	}
}
