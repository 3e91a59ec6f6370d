package state

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"
)

type mapBackend map[string][]byte

func (m mapBackend) Get(k []byte) []byte { return m[string(k)] }

func u(n uint64) *uint256.Int { return uint256.NewInt(n) }

func val(r Reader, k string) uint64 { return DecodeUint(r.Get([]byte(k))).Uint64() }

func TestTxViewWritesStayUntilCommit(t *testing.T) {
	base := mapBackend{"a": EncodeUint(u(5))}
	blk := NewBlock(base)
	tx := NewTxView(blk)
	tx.Set([]byte("a"), EncodeUint(u(7)))
	if val(blk, "a") != 5 || val(tx, "a") != 7 {
		t.Fatalf("write leaked before commit: block=%d tx=%d", val(blk, "a"), val(tx, "a"))
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if val(blk, "a") != 7 || val(base, "a") != 5 {
		t.Fatalf("after commit block=%d base=%d", val(blk, "a"), val(base, "a"))
	}
}

func TestSnapshotRevertNested(t *testing.T) {
	blk := NewBlock(mapBackend{"a": EncodeUint(u(1))})
	tx := NewTxView(blk)
	s0 := tx.Snapshot()
	tx.Set([]byte("a"), EncodeUint(u(2)))
	s1 := tx.Snapshot()
	if err := tx.AddUint([]byte("a"), u(10)); err != nil {
		t.Fatal(err)
	}
	tx.Set([]byte("b"), []byte{1})
	if val(tx, "a") != 12 {
		t.Fatalf("a = %d, want 12", val(tx, "a"))
	}
	tx.RevertToSnapshot(s1)
	if val(tx, "a") != 2 || tx.Get([]byte("b")) != nil {
		t.Fatalf("after revert s1: a=%d b=%x", val(tx, "a"), tx.Get([]byte("b")))
	}
	tx.RevertToSnapshot(s0)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if val(blk, "a") != 1 || blk.Len() != 0 {
		t.Fatalf("after full revert and commit: a=%d, %d keys written", val(blk, "a"), blk.Len())
	}
}

// A key touched, reverted and touched again must fold its delta once.
func TestRevertedKeyFoldsOnce(t *testing.T) {
	blk := NewBlock(mapBackend{})
	tx := NewTxView(blk)
	s := tx.Snapshot()
	_ = tx.AddUint([]byte("k"), u(3))
	tx.RevertToSnapshot(s)
	_ = tx.AddUint([]byte("k"), u(4))
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := val(blk, "k"); got != 4 {
		t.Fatalf("k = %d, want 4", got)
	}
}

// Deltas commute: folding transactions in any order gives the same sum.
func TestDeltasCommute(t *testing.T) {
	amounts := []uint64{3, 9, 27, 81}
	fold := func(order []int) []byte {
		blk := NewBlock(mapBackend{"k": EncodeUint(u(1))})
		views := make([]*TxView, len(amounts))
		for i, a := range amounts {
			views[i] = NewTxView(blk) // all started before any commit, as in parallel execution
			_ = views[i].AddUint([]byte("k"), u(a))
		}
		for _, i := range order {
			if err := views[i].Commit(); err != nil {
				t.Fatal(err)
			}
		}
		return blk.Get([]byte("k"))
	}
	a, b := fold([]int{0, 1, 2, 3}), fold([]int{3, 1, 0, 2})
	if !bytes.Equal(a, b) || DecodeUint(a).Uint64() != 121 {
		t.Fatalf("fold orders disagree or wrong: %x vs %x", a, b)
	}
}

func TestOverflowRejected(t *testing.T) {
	max := new(uint256.Int).SetAllOne()
	tx := NewTxView(NewBlock(mapBackend{"k": EncodeUint(max)}))
	if err := tx.AddUint([]byte("k"), u(1)); err == nil {
		t.Fatal("overflow accepted")
	}
	if !DecodeUint(tx.Get([]byte("k"))).Eq(max) {
		t.Fatal("failed add changed the value")
	}
}

func TestZeroIsAbsent(t *testing.T) {
	blk := NewBlock(mapBackend{})
	tx := NewTxView(blk)
	tx.Set([]byte("k"), EncodeUint(u(0)))
	_ = tx.Commit()
	ch := blk.Changes()
	if len(ch) != 1 || ch[0].Value != nil {
		t.Fatalf("zero must be stored as a delete, got %+v", ch)
	}
}

func sha(data ...[]byte) common.Hash {
	h := sha256.New()
	for _, d := range data {
		h.Write(d)
	}
	return common.BytesToHash(h.Sum(nil))
}

func TestRootChainsAndSorts(t *testing.T) {
	a, b := NewBlock(mapBackend{}), NewBlock(mapBackend{})
	a.Set([]byte("x"), []byte{1})
	a.Set([]byte("y"), []byte{2})
	b.Set([]byte("y"), []byte{2})
	b.Set([]byte("x"), []byte{1})
	ra, rb := NextRoot(sha, common.Hash{}, a.Changes()), NextRoot(sha, common.Hash{}, b.Changes())
	if ra != rb {
		t.Fatal("root depends on write order")
	}
	if NextRoot(sha, common.Hash{1}, a.Changes()) == ra {
		t.Fatal("root does not chain the previous root")
	}
	b.Set([]byte("x"), []byte{3})
	if NextRoot(sha, common.Hash{}, b.Changes()) == ra {
		t.Fatal("root ignores a value")
	}
}

// TestKeyAPIsAgree runs random operations on two views over one block,
// one through the []byte methods and one through the string ones: every
// read and the committed result must agree.
func TestKeyAPIsAgree(t *testing.T) {
	for seed := 0; seed < 500; seed++ {
		rng := rand.New(rand.NewPCG(uint64(seed), 4))
		base := mapBackend{"k1": EncodeUint(u(9)), "k2": []byte{1, 2, 3}}
		ba, bs := NewBlock(base), NewBlock(base)
		va, vs := NewTxView(ba), NewTxView(bs)
		for n := rng.IntN(40); n > 0; n-- {
			k := fmt.Sprintf("k%d", rng.IntN(12)) // past smallView: the index too
			switch rng.IntN(5) {
			case 0, 1:
				amt := u(uint64(rng.IntN(100)))
				if ea, es := va.AddUint([]byte(k), amt), vs.AddUintKey(k, amt); (ea == nil) != (es == nil) {
					t.Fatalf("seed %d: AddUint %v, AddUintKey %v", seed, ea, es)
				}
			case 2:
				val := EncodeUint(u(uint64(rng.IntN(100))))
				va.Set([]byte(k), val)
				vs.SetKey(k, val)
			case 3:
				if a, s := va.Get([]byte(k)), vs.GetKey(k); !bytes.Equal(a, s) {
					t.Fatalf("seed %d: Get %x, GetKey %x", seed, a, s)
				}
			case 4:
				id := rng.IntN(va.Snapshot() + 1)
				va.RevertToSnapshot(id)
				vs.RevertToSnapshot(id)
			}
		}
		if va.Commit() != nil || vs.Commit() != nil {
			t.Fatal("commit failed")
		}
		if !sameChanges(ba.Changes(), bs.Changes()) {
			t.Fatalf("seed %d: commits differ", seed)
		}
	}
}
