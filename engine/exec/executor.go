package exec

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/types"
)

// Gas schedule of the transaction envelope, as in Ethereum so that EVM
// tooling estimates the same figures.
const (
	TxGas            uint64 = 21000
	TxDataZeroGas    uint64 = 4
	TxDataNonZeroGas uint64 = 16
)

// IntrinsicGas is the gas a transaction costs before it runs.
func IntrinsicGas(data []byte) uint64 {
	zeros := uint64(bytes.Count(data, zeroByte)) // vectorised
	return TxGas + zeros*TxDataZeroGas + (uint64(len(data))-zeros)*TxDataNonZeroGas
}

var zeroByte = []byte{0}

// VM runs transactions that do not call a precompile (the EVM). It may call
// back into precompiles; it returns the output and, for a creation, the new
// contract's address. Failures are *Failure or ErrOutOfGas.
type VM interface {
	Apply(env *Env, to *common.Address, data []byte) (ret []byte, created common.Address, err error)
}

// Executor applies transactions.
type Executor struct {
	contracts map[common.Address]*Contract
	vm        VM
	logs      logPool
	scratch   scratchPool
}

// NewExecutor registers precompiles; vm may be nil (no EVM on this chain).
func NewExecutor(vm VM, contracts ...*Contract) *Executor {
	x := &Executor{contracts: make(map[common.Address]*Contract), vm: vm}
	for _, c := range contracts {
		if _, dup := x.contracts[c.Addr]; dup {
			panic(fmt.Sprintf("exec: two precompiles at %s", c.Addr))
		}
		x.contracts[c.Addr] = c
	}
	return x
}

// Contract returns the precompile at a, or nil.
func (x *Executor) Contract(a common.Address) *Contract { return x.contracts[a] }

// Contracts lists the registered precompiles.
func (x *Executor) Contracts() map[common.Address]*Contract { return x.contracts }

// Conflicts returns a transaction's declared accesses; ok is false when the
// transaction must run alone (EVM calls and creations are barriers).
func (x *Executor) Conflicts(tx *types.Tx, sender common.Address) (acc []Access, ok bool) {
	p := x.plan(tx, sender)
	return p.call.acc, !p.barrier
}

// txPlan is what the scheduler knows of a transaction before running it: its
// precompile call decoded once, its declared accesses, or that it is a
// barrier.
type txPlan struct {
	c       *Contract // the precompile called, if any
	call    preparedCall
	barrier bool
}

func (x *Executor) plan(tx *types.Tx, sender common.Address) txPlan {
	if tx.To == nil {
		return txPlan{barrier: true}
	}
	c := x.contracts[*tx.To]
	if c == nil {
		return txPlan{barrier: x.vm != nil} // no EVM: the call fails without touching state
	}
	p := txPlan{c: c, call: c.prepare(sender, tx.Data)}
	if errors.Is(p.call.err, ErrBarrier) {
		p.barrier = true
	}
	// An undecodable call is no barrier: it fails without touching state.
	return p
}

// ApplyTx runs one transaction over parent and returns its receipt. On
// success its writes are committed to parent; on failure nothing is. The
// error is non-nil only when the node cannot go on.
func (x *Executor) ApplyTx(bc *BlockContext, parent state.Writer, tx *types.Tx, sender common.Address) (*types.Receipt, error) {
	r := new(types.Receipt)
	view := x.run(bc, parent, tx, sender, nil, r, new(txFrame))
	return r, commitView(r, view)
}

// txFrame holds what one transaction's run allocates, in one allocation;
// a caller that is done with the view (it has committed or recorded it) may
// reuse the frame for its next transaction.
type txFrame struct {
	env  Env
	gas  GasMeter
	logs []*types.Log
	view state.TxView
}

// run executes tx in a view over parent without committing it, filling r.
// p, when not nil, is the transaction's plan, whose decoded call is run
// instead of decoding the call data again. The view, in frame f, is nil
// when the transaction failed (its writes are void).
func (x *Executor) run(bc *BlockContext, parent state.Writer, tx *types.Tx, sender common.Address, p *txPlan, r *types.Receipt, f *txFrame) *state.TxView {
	r.TxHash = tx.Hash(bc.Suite)
	room := r.Logs[:0] // newReceipts' room for a log, if any
	r.Logs = nil
	intrinsic := IntrinsicGas(tx.Data)
	if tx.Gas < intrinsic {
		r.Status, r.GasUsed = types.StatusOutOfGas, tx.Gas
		r.Output = RevertData(fmt.Sprintf("gas %d below intrinsic %d", tx.Gas, intrinsic))
		return nil
	}
	f.gas, f.logs = GasMeter{Limit: tx.Gas - intrinsic}, room // a reused frame drops the last receipt's logs
	view := &f.view
	view.Init(parent)
	f.env = Env{Block: bc, Origin: sender, Caller: sender, TxHash: r.TxHash, State: view, Gas: &f.gas, Logs: &f.logs}
	var out []byte
	var created common.Address
	var err error
	if p != nil && p.c != nil {
		out, err = p.c.runPrepared(&f.env, &p.call)
	} else {
		out, created, err = x.call(&f.env, tx.To, tx.Data)
	}
	r.GasUsed = intrinsic + f.gas.Used
	if err != nil {
		r.Status, r.Output = failure(err, out)
		return nil
	}
	r.Output, r.ContractAddress = out, created
	if len(f.logs) > 0 {
		r.Logs = f.logs
	}
	return view
}

// commitView folds a successful transaction's view into its parent. A fold
// can only fail on uint256 overflow of a delta sum, which amount bounds make
// unreachable; if it ever happens the transaction fails with
// StatusOverflow, as it would serially (there, already when it adds, so
// with another reason).
func commitView(r *types.Receipt, view *state.TxView) error {
	if view == nil {
		return nil
	}
	if err := view.Commit(); err != nil {
		failCommit(r, err)
	}
	return nil
}

// failCommit turns r into the receipt of a transaction whose commit failed.
func failCommit(r *types.Receipt, err error) {
	r.Status, r.Output, r.Logs, r.ContractAddress = types.StatusOverflow, RevertData(err.Error()), nil, common.Address{}
}

// call dispatches to a precompile or the VM.
func (x *Executor) call(env *Env, to *common.Address, data []byte) ([]byte, common.Address, error) {
	if to != nil {
		if c := x.contracts[*to]; c != nil {
			out, err := c.Run(env, data)
			return out, common.Address{}, err
		}
	}
	if x.vm == nil {
		if to == nil {
			return nil, common.Address{}, Fail(types.StatusNoContract, "contract creation needs the EVM, which this chain does not run")
		}
		return nil, common.Address{}, Fail(types.StatusNoContract, "no precompile at %s", to)
	}
	return x.vm.Apply(env, to, data)
}

// failure maps an execution error to a receipt status and output.
func failure(err error, out []byte) (types.Status, []byte) {
	var f *Failure
	switch {
	case errors.As(err, &f):
		if f.Status == types.StatusReverted && len(out) > 0 {
			return f.Status, out // EVM revert data as the contract returned it
		}
		return f.Status, RevertData(f.Msg)
	case errors.Is(err, ErrOutOfGas):
		return types.StatusOutOfGas, RevertData("out of gas")
	default:
		return types.StatusEVMError, RevertData(err.Error())
	}
}

// ExecuteSerial applies txs in order over blk: the reference execution that
// every faster scheduler must match byte for byte.
func (x *Executor) ExecuteSerial(bc *BlockContext, blk state.Writer, txs []*types.Tx, senders []common.Address) ([]*types.Receipt, error) {
	receipts := newReceipts(len(txs))
	f := new(txFrame) // each view is committed before the next transaction runs
	for i, tx := range txs {
		r := receipts[i]
		if err := commitView(r, x.run(bc, blk, tx, senders[i], nil, r, f)); err != nil {
			return nil, fmt.Errorf("tx %d (%x): %w", i, r.TxHash[:4], err)
		}
	}
	return receipts, nil
}

// newReceipts allocates a block's receipts in one piece, each with room
// for one log (Logs has length 0 and capacity 1 until run sets it).
func newReceipts(n int) []*types.Receipt {
	rs := make([]*types.Receipt, n)
	fillReceipts(rs)
	return rs
}

// fillReceipts points rs at new receipts allocated in one piece, as
// newReceipts.
func fillReceipts(rs []*types.Receipt) {
	all := make([]types.Receipt, len(rs))
	logs := make([]*types.Log, len(rs))
	for i := range rs {
		all[i].Logs = logs[i : i : i+1] // a second log reallocates: neighbours are safe
		rs[i] = &all[i]
	}
}
