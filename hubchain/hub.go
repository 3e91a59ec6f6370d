package hubchain

import (
	"bytes"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/holiman/uint256"

	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/settlement"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
)

// Address is the Hub precompile's fixed address.
var Address = settlement.HubAddress

// Gas of each call; book also pays GasPerEntry per summary entry.
const (
	GasAdmin    = 30000
	GasBook     = 80000
	GasPerEntry = 4000
	GasMove     = 20000
	GasView     = 3000
)

// Statuses book and recvSweep return.
const (
	StatusBooked    uint8 = 0
	StatusDuplicate uint8 = 1
)

var evBooked = exec.NewABIEvent("SummaryBooked", exec.Args("string chain", "uint64 seq", "bytes32 summaryHash"), "seq")

// New builds the Hub precompile.
func New() *exec.Contract {
	return exec.NewContract(Address, "Hub", []*exec.Method{
		{ABI: exec.NewABIMethod("registerChain", false, exec.Args("string chain", "bytes client"), nil), Gas: GasAdmin, Run: registerChain},
		{ABI: exec.NewABIMethod("updateClient", false, exec.Args("string chain", "bytes header", "bytes cert", "bytes nextValidators"), exec.Args("uint8")),
			Gas: GasBook, Run: updateClient},
		{ABI: exec.NewABIMethod("registerMerchant", false, exec.Args("address merchant", "address operator"), nil), Gas: GasAdmin, Run: registerMerchant},
		{ABI: exec.NewABIMethod("book", false, exec.Args("bytes bundle"), exec.Args("uint8")), Gas: GasBook, Run: book},
		{ABI: exec.NewABIMethod("recvSweep", false, exec.Args("bytes bundle"), exec.Args("uint8")), Gas: GasBook, Run: recvSweep},
		{ABI: exec.NewABIMethod("allocate", false, exec.Args("address merchant", "string chain", "string asset", "uint256 amount"), exec.Args("uint64")),
			Gas: GasMove, Run: allocate},
		{ABI: exec.NewABIMethod("deposit", false, exec.Args("address merchant", "string asset", "uint256 amount"), nil), Gas: GasMove, Run: deposit},
		{ABI: exec.NewABIMethod("withdraw", false, exec.Args("address merchant", "string asset", "uint256 amount", "address to"), nil),
			Gas: GasMove, Run: withdraw},
		{ABI: exec.NewABIMethod("merchant", true, exec.Args("address merchant", "string asset"),
			exec.Args("uint256 income", "uint256 payouts", "uint256 reserve", "uint256 balance", "uint256 allocInFlight", "uint256 sweepsUnbooked")),
			Gas: GasView, Run: merchantView},
		{ABI: exec.NewABIMethod("subLedger", true, exec.Args("address merchant", "string chain", "string asset"),
			exec.Args("uint256 income", "uint256 payouts", "uint256 allocIn", "uint256 sweepOut", "uint256 closing", "uint64 payCount", "uint64 payoutCount", "uint64 epochs")),
			Gas: GasView, Run: subLedgerView},
		{ABI: exec.NewABIMethod("chainState", true, exec.Args("string chain"),
			exec.Args("uint64 lastSeq", "bytes32 prevHash", "uint64 lastToHeight", "uint64 allocSent", "uint64 allocBooked", "uint64 sweepRecv", "uint64 sweepBooked", "bytes client")),
			Gas: GasView, Run: chainStateView},
		{ABI: exec.NewABIMethod("chains", true, nil, exec.Args("string[]")), Gas: GasView, Run: chainsView},
		{ABI: exec.NewABIMethod("statement", true, exec.Args("string chain", "uint64 seq"), exec.Args("bytes")), Gas: GasView, Run: statementView},
	}, evBooked, settlement.EvPacketSent)
}

func readChains(r state.Reader) []string {
	var ids []string
	if b := r.Get([]byte(keyChains)); b != nil {
		if err := rlp.DecodeBytes(b, &ids); err != nil {
			panic("hubchain: corrupt chain list: " + err.Error())
		}
	}
	return ids
}

func registerChain(env *exec.Env, a []any) ([]any, error) {
	if err := system.RequireRole(env, system.RoleAdmin); err != nil {
		return nil, err
	}
	id := a[0].(string)
	c, err := settlement.DecodeClient(a[1].([]byte))
	if err != nil {
		return nil, exec.Fail(types.StatusInvalidArgument, "light client: %v", err)
	}
	if c.ChainID != id || id == env.Block.ChainID {
		return nil, exec.Fail(types.StatusInvalidArgument, "client is for %q, registering %q on hub %q", c.ChainID, id, env.Block.ChainID)
	}
	if env.State.Get([]byte(chainKey("client", id))) != nil {
		return nil, exec.Fail(types.StatusAlreadyExists, "chain %q is registered; follow its validator changes with updateClient", id)
	}
	env.State.Set([]byte(chainKey("client", id)), c.Encode())
	enc, _ := rlp.EncodeToBytes(append(readChains(env.State), id))
	env.State.Set([]byte(keyChains), enc)
	return nil, nil
}

func client(r state.Reader, chain string) (*settlement.Client, error) {
	b := r.Get([]byte(chainKey("client", chain)))
	if b == nil {
		return nil, exec.Fail(types.StatusNotFound, "chain %q is not registered on the hub", chain)
	}
	c, err := settlement.DecodeClient(b)
	if err != nil {
		panic("hubchain: corrupt light client: " + err.Error())
	}
	return c, nil
}

func updateClient(env *exec.Env, a []any) ([]any, error) {
	c, err := client(env.State, a[0].(string))
	if err != nil {
		return nil, err
	}
	h, herr := types.DecodeHeader(a[1].([]byte))
	cert, cerr := types.DecodeCertificate(a[2].([]byte))
	if herr != nil || cerr != nil {
		return nil, exec.Fail(types.StatusBadInput, "header or certificate: %v %v", herr, cerr)
	}
	if h.ChainID == c.ChainID && h.Height < c.FromHeight {
		return []any{StatusDuplicate}, nil // this change (or a later one) is already followed
	}
	next, err := c.Update(h, cert, a[3].([]byte))
	if err != nil {
		return nil, exec.Fail(types.StatusInvalidArgument, "client update: %v", err)
	}
	env.State.Set([]byte(chainKey("client", c.ChainID)), next.Encode())
	return []any{StatusBooked}, nil
}

func registerMerchant(env *exec.Env, a []any) ([]any, error) {
	if err := system.RequireRole(env, system.RoleAdmin); err != nil {
		return nil, err
	}
	m, op := exec.AddressArg(a[0]), exec.AddressArg(a[1])
	if m == (common.Address{}) || op == (common.Address{}) {
		return nil, exec.Fail(types.StatusInvalidArgument, "merchant and operator must be non-zero addresses")
	}
	env.State.Set([]byte(operatorKey(m)), op[:])
	return nil, nil
}

func requireOperator(env *exec.Env, m common.Address) error {
	if !bytes.Equal(env.State.Get([]byte(operatorKey(m))), env.Caller[:]) {
		return exec.Fail(types.StatusPermissionDenied, "%s is not the operator of merchant %s", env.Caller.Hex(), m.Hex())
	}
	return nil
}

func amountArgs(asset string, v any) (*uint256.Int, error) {
	amt := exec.Amount(v)
	if err := ledger.CheckAsset(asset); err != nil {
		return nil, err
	}
	return amt, ledger.CheckAmount(amt)
}

// deposit moves the caller's hub Ledger balance into merchant's reserve.
func deposit(env *exec.Env, a []any) ([]any, error) {
	m, asset := exec.AddressArg(a[0]), a[1].(string)
	amt, err := amountArgs(asset, a[2])
	if err != nil {
		return nil, err
	}
	if err := ledger.Debit(env.State, asset, env.Caller, amt); err != nil {
		return nil, err
	}
	addU(env.State, mKey("res", m, asset), amt)
	return nil, nil
}

// withdraw moves reserve to a hub Ledger balance (operator only).
func withdraw(env *exec.Env, a []any) ([]any, error) {
	m, asset, to := exec.AddressArg(a[0]), a[1].(string), exec.AddressArg(a[3])
	amt, err := amountArgs(asset, a[2])
	if err != nil {
		return nil, err
	}
	if err := requireOperator(env, m); err != nil {
		return nil, err
	}
	if err := takeReserve(env, m, asset, amt); err != nil {
		return nil, err
	}
	return nil, ledger.Credit(env.State, asset, to, amt)
}

func takeReserve(env *exec.Env, m common.Address, asset string, amt *uint256.Int) error {
	res := getU(env.State, mKey("res", m, asset))
	if res.Lt(amt) {
		return exec.Fail(types.StatusInsufficientBalance, "reserve of %s holds %s %s, needs %s", m.Hex(), res.Dec(), asset, amt.Dec())
	}
	setU(env.State, mKey("res", m, asset), new(uint256.Int).Sub(res, amt))
	return nil
}

// allocate sends reserve to merchant's shadow on a user chain as an ordered packet.
func allocate(env *exec.Env, a []any) ([]any, error) {
	m, chain, asset := exec.AddressArg(a[0]), a[1].(string), a[2].(string)
	amt, err := amountArgs(asset, a[3])
	if err != nil {
		return nil, err
	}
	if err := requireOperator(env, m); err != nil {
		return nil, err
	}
	if _, err := client(env.State, chain); err != nil {
		return nil, err
	}
	if err := takeReserve(env, m, asset, amt); err != nil {
		return nil, err
	}
	seq := getSeq(env.State, chainKey("aseq", chain)) + 1
	p := &settlement.Packet{Kind: settlement.KindAllocation, Src: env.Block.ChainID, Dst: chain, Seq: seq,
		Merchant: m, Asset: asset, Amount: amt.ToBig()}
	setSeq(env.State, chainKey("aseq", chain), seq)
	env.State.Set([]byte(seqKey("apkt", chain, seq)), p.Encode())
	addU(env.State, mKey("pa", m, asset), amt)
	env.Emit(Address, settlement.EvPacketSent, []common.Hash{common.BigToHash(new(big.Int).SetUint64(seq))}, settlement.EncodeEventBytes(p.Encode()))
	return []any{seq}, nil
}

// recvSweep applies a proven sweep packet from a user chain to the reserve.
func recvSweep(env *exec.Env, a []any) ([]any, error) {
	raw := a[0].([]byte)
	chain, c, err := bundleClient(env.State, raw)
	if err != nil {
		return nil, err
	}
	p, err := c.VerifyPacket(raw, settlement.ShadowAddress, settlement.KindSweep, env.Block.ChainID)
	if err != nil {
		return nil, exec.Fail(types.StatusInvalidArgument, "sweep: %v", err)
	}
	last := getSeq(env.State, chainKey("sseq", chain))
	switch {
	case p.Seq <= last:
		return []any{StatusDuplicate}, nil
	case p.Seq != last+1:
		return nil, exec.Fail(types.StatusInvalidArgument, "sweep seq %d from %s out of order: expected %d", p.Seq, chain, last+1)
	}
	amt, _ := uint256.FromBig(p.Amount)
	setSeq(env.State, chainKey("sseq", chain), p.Seq)
	env.State.Set([]byte(seqKey("spkt", chain, p.Seq)), p.Encode())
	addU(env.State, mKey("res", p.Merchant, p.Asset), amt)
	addU(env.State, mKey("ps", p.Merchant, p.Asset), amt)
	return []any{StatusBooked}, nil
}

// bundleClient finds the light client of the chain a bundle claims to come
// from; that client then verifies the bundle.
func bundleClient(r state.Reader, raw []byte) (string, *settlement.Client, error) {
	chain, err := bundleChain(raw)
	if err != nil {
		return "", nil, err
	}
	c, err := client(r, chain)
	return chain, c, err
}

// bundleChain reads which chain a bundle claims to come from; the light
// client of that chain then verifies everything.
func bundleChain(raw []byte) (string, error) {
	b, err := settlement.DecodeBundle(raw)
	if err != nil {
		return "", exec.Fail(types.StatusBadInput, "%v", err)
	}
	h, err := types.DecodeHeader(b.Proof.Header)
	if err != nil {
		return "", exec.Fail(types.StatusBadInput, "%v", err)
	}
	return h.ChainID, nil
}
