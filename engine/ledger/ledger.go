package ledger

import (
	"regexp"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/types"
)

// Address is the Ledger precompile's fixed address.
var Address = common.HexToAddress("0x5001")

// MaxAmount bounds one call's amount.
var MaxAmount = new(uint256.Int).Sub(new(uint256.Int).Lsh(uint256.NewInt(1), 128), uint256.NewInt(1))

// assetRe is the rule CheckAsset implements by hand (see TestCheckAssetMatchesRegexp).
var assetRe = regexp.MustCompile(`^[A-Z][A-Z0-9]{1,11}$`)

// validAsset reports whether a matches assetRe.
func validAsset(a string) bool {
	if len(a) < 2 || len(a) > 12 || a[0] < 'A' || a[0] > 'Z' {
		return false
	}
	for i := 1; i < len(a); i++ {
		if c := a[i]; (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// CheckAsset validates an asset code such as "CNY".
func CheckAsset(a string) error {
	if !validAsset(a) {
		return exec.Fail(types.StatusInvalidArgument, "asset code %q must be 2-12 upper-case letters or digits, starting with a letter", a)
	}
	return nil
}

// CheckAmount validates a call amount.
func CheckAmount(x *uint256.Int) error {
	if x.IsZero() || x.Gt(MaxAmount) {
		return exec.Fail(types.StatusInvalidArgument, "amount must be in [1, 2^128-1], got %s", x.Dec())
	}
	return nil
}

// BalanceKey is the state key of owner's balance of asset.
func BalanceKey(asset string, owner common.Address) string {
	return "ledger/b/" + asset + "/" + string(owner[:])
}

func issuedKey(asset string) string   { return "ledger/i/" + asset }
func redeemedKey(asset string) string { return "ledger/r/" + asset }

// Balance reads owner's balance of asset.
func Balance(r state.Reader, asset string, owner common.Address) *uint256.Int {
	return state.DecodeUint(r.Get([]byte(BalanceKey(asset, owner))))
}

// Supply returns issued and redeemed totals of asset.
func Supply(r state.Reader, asset string) (issued, redeemed *uint256.Int) {
	return state.DecodeUint(r.Get([]byte(issuedKey(asset)))), state.DecodeUint(r.Get([]byte(redeemedKey(asset))))
}

// balanceKeys returns the balance keys of a and b, in one allocation.
func balanceKeys(asset string, a, b common.Address) (string, string) {
	both := "ledger/b/" + asset + "/" + string(a[:]) + "ledger/b/" + asset + "/" + string(b[:]) // BalanceKey twice
	return both[:len(both)/2], both[len(both)/2:]
}

// Credit adds amount to owner's balance as a commutative delta.
func Credit(v *state.TxView, asset string, owner common.Address, amount *uint256.Int) error {
	return credit(v, BalanceKey(asset, owner), owner, amount)
}

func credit(v *state.TxView, key string, owner common.Address, amount *uint256.Int) error {
	if err := v.AddUintKey(key, amount); err != nil {
		return exec.Fail(types.StatusOverflow, "balance of %s: %v", owner, err)
	}
	return nil
}

// Debit takes amount from owner's balance, failing cleanly when short.
func Debit(v *state.TxView, asset string, owner common.Address, amount *uint256.Int) error {
	return debit(v, BalanceKey(asset, owner), asset, owner, amount)
}

func debit(v *state.TxView, key, asset string, owner common.Address, amount *uint256.Int) error {
	var bal uint256.Int
	bal.SetBytes(v.GetKey(key))
	if bal.Lt(amount) {
		return exec.Fail(types.StatusInsufficientBalance, "%s holds %s %s, needs %s", owner, bal.Dec(), asset, amount.Dec())
	}
	v.SetKey(key, state.EncodeUint(bal.Sub(&bal, amount)))
	return nil
}

// IssueGenesis credits an initial balance (genesis only) and counts it as issued.
func IssueGenesis(w state.Writer, asset string, to common.Address, amount *uint256.Int) error {
	if err := CheckAsset(asset); err != nil {
		return err
	}
	if err := CheckAmount(amount); err != nil {
		return err
	}
	v := state.NewTxView(w)
	if err := Credit(v, asset, to, amount); err != nil {
		return err
	}
	if err := v.AddUint([]byte(issuedKey(asset)), amount); err != nil {
		return err
	}
	return v.Commit()
}
