package evm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/holiman/uint256"

	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
)

// Options configure a VM.
type Options struct {
	// OpenDeploy lets every account create contracts, for development
	// chains. Otherwise a creating transaction's signer needs the DEPLOYER
	// role. Contracts may always create contracts (factories).
	OpenDeploy bool
}

// Cache bounds, in bytes of cached values.
const (
	codeCacheBytes = 64 << 20
	jumpCacheBytes = 16 << 20
)

// VM runs EVM transactions for one chain. It is safe for concurrent use:
// everything a transaction changes lives in that transaction's session.
type VM struct {
	opts     Options
	tally    []*exec.Contract
	methods  map[common.Address]methodTable
	warm     []common.Address // standard and Tally precompiles, warm from the start (EIP-2929)
	standard vm.PrecompiledContracts
	rules    params.Rules
	shared   *shared
	jumps    jumpCache
	bindings sync.Pool // *binding
	configs  sync.Map  // chain id → *params.ChainConfig
	traceAll bool      // tests: trace every transaction, to compare the interpreter's two loops
}

var _ exec.VM = (*VM)(nil)

// New builds a VM whose contracts can call the given precompiles (pass the
// chain's precompiles, the same the executor dispatches to).
func New(contracts []*exec.Contract, opts Options) *VM {
	m := &VM{opts: opts, tally: contracts, methods: make(map[common.Address]methodTable),
		shared: &shared{codes: newByteCache[[]byte](codeCacheBytes), warm: make(map[common.Address]struct{}),
			native: make(map[common.Address]struct{})},
		jumps: jumpCache{newByteCache[vm.BitVec](jumpCacheBytes)}}
	m.rules = chainConfig(big.NewInt(1)).Rules(common.Big0, true, 0)
	m.standard = vm.ActivePrecompiledContracts(m.rules)
	m.warm = append(m.warm, vm.ActivePrecompiles(m.rules)...)
	for _, c := range contracts {
		if _, dup := m.standard[c.Addr]; dup || m.methods[c.Addr] != nil {
			panic(fmt.Sprintf("evm: precompile %s at %s collides with another", c.Name, c.Addr))
		}
		m.methods[c.Addr] = newMethodTable(c)
		m.warm = append(m.warm, c.Addr)
		m.shared.native[c.Addr] = struct{}{}
	}
	for _, a := range m.warm {
		m.shared.warm[a] = struct{}{}
	}
	m.bindings.New = m.newBinding
	return m
}

// binding is a precompile set for one EVM at a time: go-ethereum's plus
// adapters of ours, pointed at the running session. Pooling it saves
// building the map for every transaction.
type binding struct {
	pcs      vm.PrecompiledContracts
	adapters []*precompile
}

func (m *VM) newBinding() any {
	b := &binding{pcs: maps.Clone(m.standard)}
	for _, c := range m.tally {
		p := &precompile{c: c, methods: m.methods[c.Addr]}
		b.pcs[c.Addr] = p
		b.adapters = append(b.adapters, p)
	}
	return b
}

func (b *binding) bind(s *session) {
	for _, p := range b.adapters {
		p.s = s
	}
}

// NewExecutor builds an executor whose transactions reach the precompiles
// directly and whose EVM contracts reach the same precompiles.
func NewExecutor(opts Options, contracts ...*exec.Contract) *exec.Executor {
	return exec.NewExecutor(New(contracts, opts), contracts...)
}

// chainConfig is go-ethereum's development configuration (every released
// fork from genesis) without the forks not yet on mainnet, so the rules
// are Osaka's. All forks start at block 0 and time 0, so the rules never
// change with the height.
func chainConfig(id *big.Int) *params.ChainConfig {
	c := *params.AllDevChainProtocolChanges
	c.ChainID = id
	c.AmsterdamTime, c.BogotaTime, c.UBTTime = nil, nil, nil
	return &c
}

// ChainIDOf is the number the CHAINID opcode returns on chain id: the first
// 8 bytes of keccak256("tally/chainid/" + id), cut to 53 bits so that
// JavaScript tooling holds it exactly.
func ChainIDOf(id string) *big.Int {
	h := crypto.Keccak256([]byte("tally/chainid/" + id))
	return new(big.Int).SetUint64(binary.BigEndian.Uint64(h[:8]) & (1<<53 - 1))
}

func (m *VM) config(chainID string) *params.ChainConfig {
	if c, ok := m.configs.Load(chainID); ok {
		return c.(*params.ChainConfig)
	}
	c, _ := m.configs.LoadOrStore(chainID, chainConfig(ChainIDOf(chainID)))
	return c.(*params.ChainConfig)
}

// blockContext maps the block onto the EVM's. There is no randomness
// beacon, so PREVRANDAO is zero (Random must still be set, or the
// post-merge rules stay off); BLOCKHASH is zero because execution has no
// access to past headers; there is no base fee.
func blockContext(env *exec.Env) vm.BlockContext {
	return vm.BlockContext{
		CanTransfer: canTransfer,
		Transfer:    transfer,
		GetHash:     noBlockHash,
		Coinbase:    env.Block.Proposer,
		GasLimit:    system.GetConfig(env.State, system.CfgBlockGasLimit),
		BlockNumber: new(big.Int).SetUint64(env.Block.Height),
		Time:        env.Block.Timestamp / 1000,
		Difficulty:  new(big.Int),
		BaseFee:     new(big.Int),
		BlobBaseFee: new(big.Int),
		Random:      &common.Hash{},
	}
}

func noBlockHash(uint64) common.Hash { return common.Hash{} }

// canTransfer allows only zero values: every balance is zero.
func canTransfer(_ vm.StateDB, _ common.Address, v *uint256.Int) bool { return v.IsZero() }

// transfer moves nothing: canTransfer let only zero values through.
func transfer(_ vm.StateDB, _, _ common.Address, v *uint256.Int, _ *params.Rules) { mustBeZero(v) }

// newEVM builds the EVM of one attempt with the chain's precompiles bound
// to s (NewEVM resets precompiles, so they are set after it).
func (m *VM) newEVM(s *session, b *binding) *vm.EVM {
	cfg := vm.Config{NoBaseFee: true}
	if s.traced {
		cfg.Tracer = s.hooks()
	}
	evm := vm.NewEVM(blockContext(s.env), s.db, m.config(s.env.Block.ChainID), cfg)
	b.bind(s)
	evm.SetPrecompiles(b.pcs)
	evm.SetJumpDestCache(m.jumps)
	evm.SetTxContext(vm.TxContext{Origin: s.env.Origin, GasPrice: new(uint256.Int)})
	s.evm = evm
	return evm
}

// outcome is what the EVM returned for a transaction.
type outcome struct {
	ret     []byte
	created common.Address
	left    vm.GasBudget
	err     error
}

// Apply runs one transaction's call (to != nil) or creation (to == nil).
// env.Gas holds what is left after the executor's intrinsic gas; the EVM's
// use is charged to it, less the EIP-3529 refund when the call succeeds.
func (m *VM) Apply(env *exec.Env, to *common.Address, data []byte) ([]byte, common.Address, error) {
	if err := m.admit(env, to, data); err != nil {
		return nil, common.Address{}, err
	}
	b := m.bindings.Get().(*binding)
	defer m.bindings.Put(b)
	defer b.bind(nil)
	budget := vm.NewGasBudget(env.Gas.Limit-env.Gas.Used, 0)
	s, out := m.attempt(env, b, to, data, budget, m.traceAll)
	if s.retrace {
		s, out = m.attempt(env, b, to, data, budget, true)
	}
	if err := env.Gas.Use(out.left.Used(budget)); err != nil {
		panic("evm: the EVM used more gas than it was given")
	}
	if out.err != nil {
		return revertData(out.ret, out.err), common.Address{}, failure(out.err)
	}
	m.finish(env, s.db, data)
	if to == nil {
		return nil, out.created, nil // the code is in state; receipts stay small
	}
	return out.ret, common.Address{}, nil
}

// attempt runs the transaction once. An untraced attempt that reached a
// Tally precompile (s.retrace) has its writes reverted: it never happened.
func (m *VM) attempt(env *exec.Env, b *binding, to *common.Address, data []byte, budget vm.GasBudget, traced bool) (*session, outcome) {
	snap := env.State.Snapshot()
	s := &session{env: env, db: newStateDB(env.State, m.shared), traced: traced}
	evm := m.newEVM(s, b)
	defer evm.Release()
	s.db.Prepare(m.rules, env.Origin, env.Block.Proposer, to, m.warm, nil)
	var out outcome
	if to == nil {
		out.ret, out.created, out.left, out.err = evm.Create(env.Origin, data, budget, new(uint256.Int))
	} else {
		out.ret, out.left, out.err = evm.Call(env.Origin, *to, data, budget, new(uint256.Int))
	}
	if s.retrace {
		env.State.RevertToSnapshot(snap)
	}
	return s, out
}

// admit checks what Ethereum checks before a transaction runs, with
// Tally's rules: creations need the DEPLOYER role, pay Ethereum's creation
// surcharge over exec.IntrinsicGas (so that tooling estimates the same gas)
// and are bounded (EIP-3860); calls need code or a standard precompile at
// the callee, because with no coin to move a call to nothing is a mistake.
func (m *VM) admit(env *exec.Env, to *common.Address, data []byte) error {
	if to != nil {
		if _, ok := m.standard[*to]; !ok && !decodeAccount(env.State.Get(accountKey(*to))).hasCode() {
			return exec.Fail(types.StatusNoContract, "no contract at %s", to)
		}
		return nil
	}
	if !m.opts.OpenDeploy && !system.HasRole(env.State, system.RoleDeployer, env.Origin) {
		return exec.Fail(types.StatusPermissionDenied, "%s does not hold role %s, which contract creation needs", env.Origin, system.RoleDeployer)
	}
	if len(data) > params.MaxInitCodeSize {
		return exec.Fail(types.StatusEVMError, "init code is %d bytes; the limit is %d", len(data), params.MaxInitCodeSize)
	}
	words := (uint64(len(data)) + 31) / 32
	return env.Gas.Use(params.TxGasContractCreation - params.TxGas + words*params.InitCodeWordGas)
}

// finish ends a successful transaction: gas refund, self-destructs, logs.
func (m *VM) finish(env *exec.Env, db *stateDB, data []byte) {
	total := exec.IntrinsicGas(data) + env.Gas.Used
	env.Gas.Used -= min(db.GetRefund(), total/params.RefundQuotientEIP3529, env.Gas.Used)
	db.Finalise(m.rules)
	*env.Logs = append(*env.Logs, db.logs...)
}

// revertData keeps a REVERT's data for the receipt; other failures have
// none (the executor writes their reason).
func revertData(ret []byte, err error) []byte {
	if errors.Is(err, vm.ErrExecutionReverted) {
		return ret
	}
	return nil
}

// failure maps an EVM error to the executor's failure kinds.
func failure(err error) error {
	switch {
	case errors.Is(err, vm.ErrExecutionReverted):
		return exec.Fail(types.StatusReverted, "execution reverted")
	case errors.Is(err, vm.ErrOutOfGas), errors.Is(err, vm.ErrCodeStoreOutOfGas), errors.Is(err, vm.ErrGasUintOverflow):
		return exec.ErrOutOfGas
	}
	return exec.Fail(types.StatusEVMError, "%v", err)
}
