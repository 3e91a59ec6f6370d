package exec

import (
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
	g := TxGas
	for _, b := range data {
		if b == 0 {
			g += TxDataZeroGas
		} else {
			g += TxDataNonZeroGas
		}
	}
	return g
}

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
	if tx.To == nil {
		return nil, false
	}
	c := x.contracts[*tx.To]
	if c == nil {
		return nil, x.vm == nil // no EVM: the call fails without touching state
	}
	acc, err := c.Conflicts(sender, tx.Data)
	if errors.Is(err, ErrBarrier) {
		return nil, false
	}
	if err != nil {
		return nil, true // undecodable: fails without touching state
	}
	return acc, true
}

// ApplyTx runs one transaction over parent and returns its receipt. On
// success its writes are committed to parent; on failure nothing is. The
// error is non-nil only when the node cannot go on.
func (x *Executor) ApplyTx(bc *BlockContext, parent state.Writer, tx *types.Tx, sender common.Address) (*types.Receipt, error) {
	r, view := x.run(bc, parent, tx, sender)
	return r, commitView(r, view)
}

// run executes tx in a view over parent without committing it. view is
// nil when the transaction failed (its writes are void).
func (x *Executor) run(bc *BlockContext, parent state.Writer, tx *types.Tx, sender common.Address) (*types.Receipt, *state.TxView) {
	r := &types.Receipt{TxHash: tx.Hash(bc.Suite)}
	intrinsic := IntrinsicGas(tx.Data)
	if tx.Gas < intrinsic {
		r.Status, r.GasUsed = types.StatusOutOfGas, tx.Gas
		r.Output = RevertData(fmt.Sprintf("gas %d below intrinsic %d", tx.Gas, intrinsic))
		return r, nil
	}
	var logs []*types.Log
	view := state.NewTxView(parent)
	env := &Env{Block: bc, Origin: sender, Caller: sender, TxHash: r.TxHash, State: view,
		Gas: &GasMeter{Limit: tx.Gas - intrinsic}, Logs: &logs}
	out, created, err := x.call(env, tx.To, tx.Data)
	r.GasUsed = intrinsic + env.Gas.Used
	if err != nil {
		r.Status, r.Output = failure(err, out)
		return r, nil
	}
	r.Output, r.Logs, r.ContractAddress = out, logs, created
	return r, view
}

// commitView folds a successful transaction's view into its parent. A fold
// can only fail on uint256 overflow of a delta sum, which amount bounds make
// unreachable; if it ever happens the transaction fails as it would serially.
func commitView(r *types.Receipt, view *state.TxView) error {
	if view == nil {
		return nil
	}
	if err := view.Commit(); err != nil {
		r.Status, r.Output, r.Logs, r.ContractAddress = types.StatusOverflow, RevertData(err.Error()), nil, common.Address{}
	}
	return nil
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
	receipts := make([]*types.Receipt, len(txs))
	for i, tx := range txs {
		r, err := x.ApplyTx(bc, blk, tx, senders[i])
		if err != nil {
			return nil, fmt.Errorf("tx %d (%x): %w", i, r.TxHash[:4], err)
		}
		receipts[i] = r
	}
	return receipts, nil
}
