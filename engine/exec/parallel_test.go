package exec_test

import (
	"bytes"
	"fmt"
	"math/big"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/holiman/uint256"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
)

type mapBackend map[string][]byte

func (m mapBackend) Get(k []byte) []byte { return m[string(k)] }

// counterVM stands in for a VM that cannot declare its keys: it reads and
// bumps one counter and a per-caller key, and fails on odd input lengths.
type counterVM struct{}

func (counterVM) Apply(env *exec.Env, to *common.Address, data []byte) ([]byte, common.Address, error) {
	if err := env.Gas.Use(5000); err != nil {
		return nil, common.Address{}, err
	}
	if len(data)%2 == 1 {
		return nil, common.Address{}, exec.Fail(types.StatusReverted, "odd input")
	}
	n := state.DecodeUint(env.State.Get([]byte("vm/counter")))
	n.AddUint64(n, 1)
	env.State.Set([]byte("vm/counter"), state.EncodeUint(n))
	env.State.Set([]byte("vm/last/"+string(env.Caller[:])), data)
	// A VM call may move Ledger money too: it is a barrier, so anything goes.
	_ = ledger.Credit(env.State, "CNY", env.Caller, uint256.NewInt(1))
	return n.Bytes(), common.Address{}, nil
}

type world struct {
	accts  []common.Address
	admin  common.Address
	hot    common.Address
	base   mapBackend
	ledger *exec.Contract
	roles  *exec.Contract
	cfg    *exec.Contract
}

func newWorld() *world {
	w := &world{base: mapBackend{}, ledger: ledger.New(), roles: system.NewRoles(), cfg: system.NewSystemConfig()}
	for i := 0; i < 12; i++ {
		w.accts = append(w.accts, common.BytesToAddress([]byte{byte(i + 1)}))
	}
	w.admin, w.hot = w.accts[0], w.accts[11]
	blk := state.NewBlock(w.base)
	system.GrantGenesis(blk, system.RoleAdmin, w.admin)
	system.GrantGenesis(blk, system.RoleIssuer, w.admin)
	for _, a := range w.accts[:10] {
		ledger.IssueGenesis(blk, "CNY", a, uint256.NewInt(50))
	}
	for _, c := range blk.Changes() {
		w.base[string(c.Key)] = c.Value
	}
	return w
}

func (w *world) executor() *exec.Executor {
	return exec.NewExecutor(counterVM{}, w.cfg, w.roles, w.ledger)
}

// randomTx makes one transaction of a random kind; many conflict, many fail.
func (w *world) randomTx(rng *rand.Rand) (*types.Tx, common.Address) {
	from := w.accts[rng.IntN(10)]
	to := w.accts[rng.IntN(len(w.accts))]
	amt := big.NewInt(int64(rng.IntN(30) + 1))
	var c *exec.Contract
	var data []byte
	switch k := rng.IntN(100); {
	case k < 35:
		c, data = w.ledger, must(w.ledger.Pack("transfer", "CNY", to, amt))
	case k < 60:
		c, data = w.ledger, must(w.ledger.Pack("transfer", "CNY", w.hot, amt)) // hot account: deltas
	case k < 68:
		c, data = w.ledger, must(w.ledger.Pack("issue", "CNY", to, amt))
		if rng.IntN(2) == 0 {
			from = w.admin
		}
	case k < 72:
		c, data = w.ledger, must(w.ledger.Pack("redeem", "CNY", to, amt))
		from = w.admin
	case k < 76:
		c, data = w.ledger, must(w.ledger.Pack("balanceOf", "CNY", to))
	case k < 79:
		c, data = w.roles, must(w.roles.Pack("grantRole", system.RoleIssuer, to))
		if rng.IntN(2) == 0 {
			from = w.admin
		}
	case k < 81:
		c, data = w.cfg, must(w.cfg.Pack("setValue", system.CfgTxWindow, big.NewInt(int64(rng.IntN(900)+1))))
		from = w.admin
	case k < 85:
		c, data = w.ledger, must(w.ledger.Pack("transfer", "CNY", to, amt))[:rng.IntN(60)] // malformed
	case k < 88:
		c, data = w.ledger, append([]byte{9, 9, 9, 9}, make([]byte, 64)...) // unknown method
	default:
		vmAddr := common.HexToAddress("0xbeef")
		return newTx(rng, &vmAddr, make([]byte, rng.IntN(5))), from
	}
	return newTx(rng, &c.Addr, data), from
}

func newTx(rng *rand.Rand, to *common.Address, data []byte) *types.Tx {
	tx := &types.Tx{ChainID: "t", BlockLimit: 10, To: to, Gas: 100_000, Data: data}
	for i := range tx.Nonce {
		tx.Nonce[i] = byte(rng.Uint32())
	}
	if rng.IntN(50) == 0 {
		tx.Gas = exec.IntrinsicGas(data) + 100 // out of gas
	}
	return tx
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func encodeAll(t *testing.T, rs []*types.Receipt, blk *state.Block) []byte {
	b, err := rlp.EncodeToBytes([]any{rs, blk.Changes()})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParallelMatchesSerial is the differential test: thousands of random
// blocks, each run serially and in parallel, must agree byte for byte on
// receipts (status, gas, output, logs) and on the state change set.
func TestParallelMatchesSerial(t *testing.T) {
	blocks := 3000
	if testing.Short() {
		blocks = 300
	}
	w := newWorld()
	bc := &exec.BlockContext{ChainID: "t", Height: 1, Suite: crypto.Secp256k1()}
	x := w.executor() // one executor for every block, as a node has: it keeps memory from block to block
	for seed := 0; seed < blocks; seed++ {
		rng := rand.New(rand.NewPCG(uint64(seed), 99))
		n := rng.IntN(80) + 1
		txs := make([]*types.Tx, n)
		senders := make([]common.Address, n)
		for i := range txs {
			txs[i], senders[i] = w.randomTx(rng)
		}
		serialBlk, parBlk := state.NewBlock(w.base), state.NewBlock(w.base)
		rs, err := x.ExecuteSerial(bc, serialBlk, txs, senders)
		if err != nil {
			t.Fatal(err)
		}
		rp, err := x.ExecuteParallel(bc, parBlk, txs, senders, 1+seed%4)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := encodeAll(t, rs, serialBlk), encodeAll(t, rp, parBlk); !bytes.Equal(a, b) {
			for i := range rs {
				if !bytes.Equal(rs[i].Encode(), rp[i].Encode()) {
					t.Fatalf("seed %d: tx %d differs: serial status %v, parallel %v", seed, i, rs[i].Status, rp[i].Status)
				}
			}
			t.Fatalf("seed %d: state differs", seed)
		}
	}
}

func TestScheduleDeltasShareAWave(t *testing.T) {
	d := func(k string) []exec.Access { return []exec.Access{{Key: k, Mode: exec.Delta}} }
	r := func(k string) []exec.Access { return []exec.Access{{Key: k, Mode: exec.Read}} }
	wr := func(k string) []exec.Access { return []exec.Access{{Key: k, Mode: exec.Write}} }
	accs := [][]exec.Access{d("h"), d("h"), d("h"), r("h"), d("h"), wr("x"), wr("x"), nil, d("y")}
	barrier := []bool{false, false, false, false, false, false, false, true, false}
	got := exec.Schedule(accs, barrier)
	want := []int{1, 1, 1, 2, 3, 1, 2, 4, 5}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("waves %v, want %v", got, want)
		}
	}
}

// TestUndeclaredAccessPanics checks the guard: a precompile that touches a
// key it did not declare must be caught, not silently diverge.
func TestUndeclaredAccessPanics(t *testing.T) {
	sneaky := exec.NewContract(common.HexToAddress("0x7777"), "Sneaky", []*exec.Method{{
		ABI: exec.NewABIMethod("poke", false, nil, nil), Gas: 1,
		Keys: func(common.Address, []any) []exec.Access { return []exec.Access{{Key: "a", Mode: exec.Write}} },
		Run: func(env *exec.Env, _ []any) ([]any, error) {
			env.State.Get([]byte("b"))
			return nil, nil
		},
	}})
	x := exec.NewExecutor(nil, sneaky)
	rng := rand.New(rand.NewPCG(1, 2))
	data := must(sneaky.Pack("poke"))
	txs := []*types.Tx{newTx(rng, &sneaky.Addr, data), newTx(rng, &sneaky.Addr, data), newTx(rng, &sneaky.Addr, data)}
	txs[0].Gas, txs[1].Gas, txs[2].Gas = 100_000, 100_000, 100_000
	senders := []common.Address{{1}, {2}, {3}}
	defer func() {
		if recover() == nil {
			t.Fatal("undeclared read went unnoticed")
		}
	}()
	x.ExecuteParallel(&exec.BlockContext{Suite: crypto.Secp256k1()}, state.NewBlock(mapBackend{}), txs, senders, 2)
}

// adder adds and sets arbitrary uint256 amounts, so that a block's deltas
// can overflow when folded: the path where the parallel executor must fall
// back to committing in block order and fail the same transactions.
func adder() *exec.Contract {
	key := func(a []any) string { return "adder/" + a[0].(string) }
	return exec.NewContract(common.HexToAddress("0xadd"), "Adder", []*exec.Method{
		{ABI: exec.NewABIMethod("add", false, exec.Args("string key", "uint256 amount"), nil), Gas: 100,
			Keys: func(_ common.Address, a []any) []exec.Access { return []exec.Access{{Key: key(a), Mode: exec.Delta}} },
			Run: func(env *exec.Env, a []any) ([]any, error) {
				if err := env.State.AddUint([]byte(key(a)), exec.Amount(a[1])); err != nil {
					return nil, exec.Fail(types.StatusOverflow, "%v", err)
				}
				return nil, nil
			}},
		{ABI: exec.NewABIMethod("set", false, exec.Args("string key", "uint256 value"), nil), Gas: 100,
			Keys: func(_ common.Address, a []any) []exec.Access { return []exec.Access{{Key: key(a), Mode: exec.Write}} },
			Run: func(env *exec.Env, a []any) ([]any, error) {
				env.State.Set([]byte(key(a)), state.EncodeUint(exec.Amount(a[1])))
				return nil, nil
			}},
	})
}

// TestParallelMatchesSerialNearOverflow is the differential test of the
// fold's careful path: blocks that set values at and above 2^255 and add to
// them, which the parallel fold does not sum on several cores but replays
// in block order. (A delta that really overflows is another matter: serially
// it fails when it runs, in a wave only when folded, so the receipts differ
// in their reason; amount bounds keep every precompile's deltas far from it.)
func TestParallelMatchesSerialNearOverflow(t *testing.T) {
	c := adder()
	x := exec.NewExecutor(nil, c)
	bc := &exec.BlockContext{ChainID: "t", Height: 1, Suite: crypto.Secp256k1()}
	top := new(big.Int).Lsh(big.NewInt(1), 255)
	for seed := 0; seed < 500; seed++ {
		rng := rand.New(rand.NewPCG(uint64(seed), 17))
		n := rng.IntN(60) + 1
		txs := make([]*types.Tx, n)
		senders := make([]common.Address, n)
		for i := range txs {
			data := must(c.Pack("add", fmt.Sprint(rng.IntN(3)), big.NewInt(int64(rng.IntN(100)))))
			if rng.IntN(6) == 0 {
				v := big.NewInt(int64(rng.IntN(1000)))
				if seed%2 == 0 {
					v.Add(v, top) // at or above 2^255, but far from overflowing
				}
				data = must(c.Pack("set", fmt.Sprint(rng.IntN(3)), v))
			}
			txs[i] = newTx(rng, &c.Addr, data)
			senders[i] = common.Address{byte(i)}
		}
		serialBlk, parBlk := state.NewBlock(mapBackend{}), state.NewBlock(mapBackend{})
		rs, err := x.ExecuteSerial(bc, serialBlk, txs, senders)
		if err != nil {
			t.Fatal(err)
		}
		rp, err := x.ExecuteParallel(bc, parBlk, txs, senders, 1+seed%3)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := encodeAll(t, rs, serialBlk), encodeAll(t, rp, parBlk); !bytes.Equal(a, b) {
			for i := range rs {
				if !bytes.Equal(rs[i].Encode(), rp[i].Encode()) {
					t.Fatalf("seed %d: tx %d differs: serial status %v, parallel %v", seed, i, rs[i].Status, rp[i].Status)
				}
			}
			t.Fatalf("seed %d: state differs", seed)
		}
	}
}

// countingBackend counts the reads of each key.
type countingBackend struct {
	base mapBackend
	mu   sync.Mutex
	n    map[string]int
}

func (c *countingBackend) Get(k []byte) []byte {
	c.mu.Lock()
	c.n[string(k)]++
	c.mu.Unlock()
	return c.base.Get(k)
}

// TestHotKeyReadOncePerWorker: in a block of payments into one account,
// each worker reads the account from the block's state once, not once per
// payment (a read from disk costs microseconds, and every payment's
// addition reads the balance it adds to).
func TestHotKeyReadOncePerWorker(t *testing.T) {
	base, txs, senders := benchBlock(2000, true)
	merchant := string(ledger.BalanceKey("CNY", common.HexToAddress("0xfeed")))
	x := exec.NewExecutor(nil, ledger.New())
	bc := &exec.BlockContext{ChainID: "t", Height: 1, Suite: crypto.Secp256k1()}
	for _, workers := range []int{1, 2, 4} {
		cb := &countingBackend{base: base, n: map[string]int{}}
		rs, err := x.ExecuteParallel(bc, state.NewBlock(cb), txs, senders, workers)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rs {
			if r.Status != types.StatusOK {
				t.Fatalf("payment %d: status %d", i, r.Status)
			}
		}
		if n := cb.n[merchant]; n > workers {
			t.Fatalf("%d workers read the hot account %d times", workers, n)
		}
	}
}
