package exec

import (
	"errors"
	"fmt"
	"sort"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/types"
)

// AccessMode is how a call touches a key.
type AccessMode uint8

const (
	// Read conflicts with Write and Delta on the same key.
	Read AccessMode = iota + 1
	// Write conflicts with everything on the same key.
	Write
	// Delta (commutative add) conflicts with Read and Write, never with Delta.
	Delta
)

// Access is one declared key access.
type Access struct {
	Key  string
	Mode AccessMode
}

// BlockContext is what every call in a block sees of the block.
type BlockContext struct {
	ChainID   string
	Height    uint64
	Timestamp uint64 // Unix milliseconds
	Proposer  common.Address
	Suite     crypto.Suite
}

// Env is one precompile call's environment.
type Env struct {
	Block  *BlockContext
	Origin common.Address // the transaction's signer
	Caller common.Address // the immediate caller: Origin, or a contract calling through the EVM
	TxHash common.Hash
	State  *state.TxView
	Gas    *GasMeter
	Logs   *[]*types.Log
	// Declared is what the called method's Keys returned for this very call
	// (its caller and arguments) when the executor has computed it to
	// schedule the call, or nil. A method may take its keys from here rather
	// than build them again: they are the same strings, and a guard checks
	// them against its declaration fastest when they are.
	Declared []Access
}

// Emit appends a log from address a.
func (e *Env) Emit(a common.Address, ev abi.Event, topics []common.Hash, data []byte) {
	// The log and its topics in one allocation, of the size they need.
	var l *types.Log
	switch len(topics) {
	case 0, 1:
		lt := new(struct {
			log    types.Log
			topics [2]common.Hash
		})
		lt.log.Topics = lt.topics[: 1+len(topics) : 1+len(topics)]
		l = &lt.log
	case 2:
		lt := new(struct {
			log    types.Log
			topics [3]common.Hash
		})
		lt.log.Topics = lt.topics[:]
		l = &lt.log
	case 3:
		lt := new(struct {
			log    types.Log
			topics [4]common.Hash
		})
		lt.log.Topics = lt.topics[:]
		l = &lt.log
	default:
		l = &types.Log{Topics: make([]common.Hash, 1+len(topics))}
	}
	l.Address, l.Data = a, data
	l.Topics[0] = ev.ID
	copy(l.Topics[1:], topics)
	*e.Logs = append(*e.Logs, l)
}

// ErrOutOfGas is returned when a call exceeds its gas.
var ErrOutOfGas = errors.New("out of gas")

// GasMeter counts gas used against a limit.
type GasMeter struct {
	Limit, Used uint64
}

// Use consumes n gas, or fails leaving the meter exhausted.
func (g *GasMeter) Use(n uint64) error {
	if n > g.Limit-g.Used {
		g.Used = g.Limit
		return ErrOutOfGas
	}
	g.Used += n
	return nil
}

// Method is one ABI method of a precompile.
type Method struct {
	ABI abi.Method
	// Gas is charged before Run.
	Gas uint64
	// Keys declares the accesses of a call from its decoded arguments and
	// caller. It must cover everything Run may touch. A nil Keys makes the
	// method a barrier: it runs alone, after everything before it.
	Keys func(caller common.Address, args []any) []Access
	// Run executes the call; it returns output values or an error (a
	// *Failure for business rules).
	Run func(env *Env, args []any) ([]any, error)
}

// Contract is a precompiled contract: a fixed address and an ABI method table.
type Contract struct {
	Addr    common.Address
	Name    string
	methods map[[4]byte]*method
	Events  map[string]abi.Event
}

// method is a registered Method with its argument codecs.
type method struct {
	*Method
	in, out argCodec
}

// NewContract builds a contract from its methods.
func NewContract(addr common.Address, name string, methods []*Method, events ...abi.Event) *Contract {
	c := &Contract{Addr: addr, Name: name, methods: make(map[[4]byte]*method), Events: make(map[string]abi.Event)}
	for _, m := range methods {
		var sel [4]byte
		copy(sel[:], m.ABI.ID)
		if _, dup := c.methods[sel]; dup {
			panic(fmt.Sprintf("exec: %s: duplicate selector for %s", name, m.ABI.Sig))
		}
		c.methods[sel] = &method{Method: m, in: newArgCodec(m.ABI.Inputs), out: newArgCodec(m.ABI.Outputs)}
	}
	for _, e := range events {
		c.Events[e.Name] = e
	}
	return c
}

// ABI returns the contract's ABI (methods sorted by name), for clients and tools.
func (c *Contract) ABI() abi.ABI {
	a := abi.ABI{Methods: make(map[string]abi.Method), Events: make(map[string]abi.Event)}
	for _, m := range c.methods {
		a.Methods[m.ABI.Name] = m.ABI
	}
	for n, e := range c.Events {
		a.Events[n] = e
	}
	return a
}

// Method returns a method by name, or nil.
func (c *Contract) Method(name string) *Method {
	for _, m := range c.methods {
		if m.ABI.Name == name {
			return m.Method
		}
	}
	return nil
}

// MethodNames lists the contract's methods.
func (c *Contract) MethodNames() []string {
	var out []string
	for _, m := range c.methods {
		out = append(out, m.ABI.Name)
	}
	sort.Strings(out)
	return out
}

// resolve finds the method and decodes its arguments.
func (c *Contract) resolve(input []byte) (*method, []any, error) {
	if len(input) < 4 {
		return nil, nil, Fail(types.StatusBadInput, "%s: call data shorter than a selector", c.Name)
	}
	sel := [4]byte(input)
	m := c.methods[sel]
	if m == nil {
		return nil, nil, Fail(types.StatusUnknownMethod, "%s: no method with selector %x", c.Name, sel)
	}
	args, err := m.in.decode(m.ABI.Sig, input[4:])
	if err != nil {
		return nil, nil, Fail(types.StatusBadInput, "%s.%s: %v", c.Name, m.ABI.Name, err)
	}
	return m, args, nil
}

// ErrBarrier is returned by Conflicts for a method that must run alone.
var ErrBarrier = errors.New("exec: barrier method")

// Conflicts returns the declared accesses of a call, ErrBarrier for a
// barrier method, or another error if the call data cannot be decoded (such
// a call fails without touching state).
func (c *Contract) Conflicts(caller common.Address, input []byte) ([]Access, error) {
	d := c.prepare(caller, input)
	return d.acc, d.err
}

// preparedCall is a call decoded once, when the scheduler asks for its
// conflict keys, and run later from the decoded arguments.
type preparedCall struct {
	m    *method
	args []any
	err  error // decoding failed (what Run returns), or ErrBarrier
	acc  []Access
}

// prepare decodes a call and computes its declared accesses.
func (c *Contract) prepare(caller common.Address, input []byte) preparedCall {
	m, args, err := c.resolve(input)
	if err != nil {
		return preparedCall{err: err}
	}
	if m.Keys == nil {
		return preparedCall{m: m, args: args, err: ErrBarrier}
	}
	return preparedCall{m: m, args: args, acc: m.Keys(caller, args)}
}

// Run decodes input, charges gas, runs the method and encodes its outputs.
func (c *Contract) Run(env *Env, input []byte) ([]byte, error) {
	m, args, err := c.resolve(input)
	if err != nil {
		return nil, err
	}
	env.Declared = nil // not computed for this call
	return c.runDecoded(env, m, args)
}

// runPrepared runs a call prepared by prepare, as Run would run its input.
func (c *Contract) runPrepared(env *Env, p *preparedCall) ([]byte, error) {
	if p.m == nil {
		return nil, p.err // the decoding error Run would return
	}
	env.Declared = p.acc
	return c.runDecoded(env, p.m, p.args)
}

// runDecoded is Run after decoding.
func (c *Contract) runDecoded(env *Env, m *method, args []any) ([]byte, error) {
	if err := env.Gas.Use(m.Gas); err != nil {
		return nil, err
	}
	out, err := m.Run(env, args)
	if err != nil {
		return nil, err
	}
	enc, err := m.out.pack(out)
	if err != nil {
		panic(fmt.Sprintf("exec: %s.%s packs bad outputs: %v", c.Name, m.ABI.Name, err))
	}
	return enc, nil
}

// Pack encodes a call to method name with args (for clients and tests).
func (c *Contract) Pack(name string, args ...any) ([]byte, error) {
	m := c.Method(name)
	if m == nil {
		return nil, fmt.Errorf("%s has no method %q", c.Name, name)
	}
	enc, err := m.ABI.Inputs.Pack(args...)
	if err != nil {
		return nil, fmt.Errorf("%s.%s: %w", c.Name, name, err)
	}
	return append(append([]byte(nil), m.ABI.ID...), enc...), nil
}

// Unpack decodes method name's output.
func (c *Contract) Unpack(name string, out []byte) ([]any, error) {
	m := c.Method(name)
	if m == nil {
		return nil, fmt.Errorf("%s has no method %q", c.Name, name)
	}
	return m.ABI.Outputs.Unpack(out)
}
