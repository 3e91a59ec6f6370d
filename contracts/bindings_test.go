package contracts_test

import (
	"log/slog"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/tallyhq/tally/contracts"
	"github.com/tallyhq/tally/contracts/bindings"
	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/storage"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
	"github.com/tallyhq/tally/relay"
	"github.com/tallyhq/tally/userchain"
)

// userChain is an in-memory user chain with an admin holding every role.
type userChain struct {
	t     *testing.T
	c     *chain.Chain
	val   crypto.PrivateKey
	admin crypto.PrivateKey
}

func newUserChain(t *testing.T, funded ...common.Address) *userChain {
	s := crypto.Secp256k1()
	u := &userChain{t: t}
	u.val, _ = s.GenerateKey()
	u.admin, _ = s.GenerateKey()
	a := u.admin.Address().Hex()
	gen := &chain.Genesis{ChainID: "user-1", Suite: s.Name(), Consensus: chain.ConsensusSolo, App: chain.AppUser,
		Validators: []chain.GenesisValidator{{PubKey: hexutil.Encode(u.val.PublicKey())}},
		Roles:      map[string][]string{system.RoleAdmin: {a}, system.RoleDeployer: {a}, system.RoleSettler: {a}, system.RoleIssuer: {a}}}
	for _, f := range funded {
		gen.Balances = append(gen.Balances, chain.GenesisBalance{Asset: "CNY", Address: f.Hex(), Amount: "100000"})
	}
	c, err := chain.Open(storage.NewMemory(), gen, relay.Executor(gen), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	u.c = c
	return u
}

// send runs one transaction as its own block and returns its receipt.
func (u *userChain) send(key crypto.PrivateKey, to *common.Address, data []byte) *types.Receipt {
	tx := types.NewTx("user-1", u.c.Head().Height+10, to, 3_000_000, data)
	if err := tx.Sign(key); err != nil {
		u.t.Fatal(err)
	}
	e, rej, err := u.c.Build([]*types.Tx{tx}, chain.Proposal{Proposer: u.val.Address()})
	if err != nil || len(rej) > 0 {
		u.t.Fatalf("build: %v %v", err, rej)
	}
	if err := u.c.Commit(e, nil); err != nil {
		u.t.Fatal(err)
	}
	return e.Receipts[0]
}

func (u *userChain) ok(r *types.Receipt) *types.Receipt {
	u.t.Helper()
	if r.Status != types.StatusOK {
		reason, _ := exec.RevertReason(r.Output)
		u.t.Fatalf("status %v: %s", r.Status, reason)
	}
	return r
}

func (u *userChain) call(to common.Address, data []byte) []byte {
	r, err := u.c.Call(common.Address{}, &to, data, 0)
	if err != nil || r.Status != types.StatusOK {
		u.t.Fatalf("call: %v %v", err, r)
	}
	return r.Output
}

// TestTokenThroughBindings deploys and uses the ERC-20 through the abigen bindings.
func TestTokenThroughBindings(t *testing.T) {
	u := newUserChain(t)
	tok := bindings.NewToken()
	code, _ := contracts.Bytecode("Token")
	r := u.ok(u.send(u.admin, nil, append(code, tok.PackConstructor("Tally Token", "TT", big.NewInt(1_000_000))...)))
	addr := r.ContractAddress
	bob := common.HexToAddress("0xb0b")
	u.ok(u.send(u.admin, &addr, tok.PackTransfer(bob, big.NewInt(250))))
	got, err := tok.UnpackBalanceOf(u.call(addr, tok.PackBalanceOf(bob)))
	if err != nil || got.Int64() != 250 {
		t.Fatalf("bob holds %v (%v)", got, err)
	}
}

// TestCouponCampaignPaysThroughShadow: the campaign contract operates a
// merchant's shadow and pays coupons out of its settled income, once per
// code and within the daily cap; the shadow never overdraws.
func TestCouponCampaignPaysThroughShadow(t *testing.T) {
	payer, _ := crypto.Secp256k1().GenerateKey()
	u := newUserChain(t, payer.Address())
	shadow, cc := userchain.New(), bindings.NewCouponCampaign()
	merchant := common.HexToAddress("0x6e7c")
	code, _ := contracts.Bytecode("CouponCampaign")
	camp := u.ok(u.send(u.admin, nil, append(code, cc.PackConstructor(merchant, "CNY", big.NewInt(100), big.NewInt(250))...))).ContractAddress
	pack := func(m string, args ...any) []byte { b, _ := shadow.Pack(m, args...); return b }
	u.ok(u.send(u.admin, &shadow.Addr, pack("registerMerchant", merchant, camp, "CNY")))
	u.ok(u.send(payer, &shadow.Addr, pack("pay", merchant, "CNY", big.NewInt(1000), [32]byte{})))
	redeem := func(code byte) *types.Receipt {
		return u.send(u.admin, &camp, cc.PackRedeem([32]byte{code}, common.HexToAddress("0xc0")))
	}
	if r := redeem(1); r.Status == types.StatusOK {
		t.Fatal("a coupon paid out of unsettled income")
	}
	u.ok(u.send(u.admin, &shadow.Addr, pack("settle")))
	u.ok(redeem(1))
	if r := redeem(1); r.Status == types.StatusOK || !strings.Contains(reasonOf(r), "already redeemed") {
		t.Fatalf("a coupon redeemed twice: %v %s", r.Status, reasonOf(r))
	}
	u.ok(redeem(2))
	if r := redeem(3); r.Status == types.StatusOK || !strings.Contains(reasonOf(r), "daily cap") {
		t.Fatalf("the daily cap did not hold: %v %s", r.Status, reasonOf(r))
	}
	out, _ := shadow.Unpack("shadowOf", u.call(shadow.Addr, pack("shadowOf", merchant, "CNY")))
	if out[0].(*big.Int).Int64() != 800 {
		t.Fatalf("shadow available %v, want 1000 - 2 coupons of 100", out[0])
	}
}

func reasonOf(r *types.Receipt) string {
	s, _ := exec.RevertReason(r.Output)
	return s
}
