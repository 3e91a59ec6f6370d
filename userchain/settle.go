package userchain

import (
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/settlement"
	"github.com/tallyhq/tally/engine/state"
	"github.com/tallyhq/tally/engine/system"
	"github.com/tallyhq/tally/engine/types"
)

// cursor is the chain's settlement position.
type cursor struct {
	seq      uint64      // last settled epoch
	prev     common.Hash // hash of the last summary
	from     uint64      // first block of the open epoch
	allocSeq uint64      // highest allocation applied
	sweepSeq uint64      // highest sweep sent
}

func readCursor(r state.Reader) cursor {
	c := cursor{
		seq: getUint(r, keySeq).Uint64(), prev: common.BytesToHash(r.Get([]byte(keyPrev))),
		from: getUint(r, keyFrom).Uint64(), allocSeq: getUint(r, keyAllocSeq).Uint64(), sweepSeq: getUint(r, keySweepSeq).Uint64(),
	}
	if c.from == 0 {
		c.from = 1
	}
	return c
}

// settle closes the epoch: one summary over every pair with activity, then
// pendingIncome moves into available. An epoch with no activity emits nothing
// and returns seq 0.
func settle(env *exec.Env, _ []any) ([]any, error) {
	if err := system.RequireRole(env, system.RoleSettler); err != nil {
		return nil, err
	}
	c := readCursor(env.State)
	var entries []settlement.Entry
	for _, p := range readPairs(env.State) {
		if e, active := closePair(env.State, p); active {
			entries = append(entries, e)
		}
	}
	if len(entries) == 0 {
		return []any{uint64(0)}, nil
	}
	if err := env.Gas.Use(uint64(len(entries)) * GasPerEntry); err != nil {
		return nil, err
	}
	s := &settlement.Summary{ChainID: env.Block.ChainID, Seq: c.seq + 1, PrevHash: c.prev, FromHeight: c.from,
		ToHeight: env.Block.Height, Entries: entries, AllocSeq: c.allocSeq, SweepSeq: c.sweepSeq}
	if err := s.Check(); err != nil {
		panic("userchain: settle built an inconsistent summary: " + err.Error()) // a broken invariant
	}
	setUint(env.State, keySeq, uint256.NewInt(s.Seq))
	env.State.Set([]byte(keyPrev), s.Hash(env.Block.Suite).Bytes())
	// The next epoch starts in this block, after this transaction.
	setUint(env.State, keyFrom, uint256.NewInt(env.Block.Height))
	env.Emit(Address, settlement.EvEpochSettled, []common.Hash{seqTopic(s.Seq)}, settlement.EncodeEventBytes(s.Encode()))
	return []any{s.Seq}, nil
}

func seqTopic(seq uint64) common.Hash {
	return common.BigToHash(new(uint256.Int).SetUint64(seq).ToBig())
}

// closePair computes a pair's entry and resets its accumulators.
func closePair(w state.Writer, p Pair) (settlement.Entry, bool) {
	g := func(kind string) *uint256.Int { return getUint(w, pairKey(kind, p.Merchant, p.Asset)) }
	e := settlement.Entry{Merchant: p.Merchant, Asset: p.Asset,
		Opening: g(kOpening).ToBig(), Income: g(kPending).ToBig(), Payouts: g(kPayouts).ToBig(),
		AllocIn: g(kAllocIn).ToBig(), SweepOut: g(kSweepOut).ToBig(),
		PayCount: g(kPayCount).Uint64(), PayoutCount: g(kPayoutCount).Uint64(),
		AllocCount: g(kAllocCount).Uint64(), SweepCount: g(kSweepCount).Uint64()}
	if e.PayCount+e.PayoutCount+e.AllocCount+e.SweepCount == 0 {
		return e, false
	}
	avail := new(uint256.Int).Add(g(kAvail), g(kPending))
	e.Closing = avail.ToBig()
	setUint(w, pairKey(kAvail, p.Merchant, p.Asset), avail)
	setUint(w, pairKey(kOpening, p.Merchant, p.Asset), avail)
	for _, k := range epochKeys {
		w.Set([]byte(pairKey(k, p.Merchant, p.Asset)), nil)
	}
	return e, true
}

// sweep sends available to the hub reserve as an ordered packet.
func sweep(env *exec.Env, a []any) ([]any, error) {
	m, asset, amt := exec.AddressArg(a[0]), a[1].(string), exec.Amount(a[2])
	if err := checkAmount(asset, amt); err != nil {
		return nil, err
	}
	if err := requireOperator(env, m); err != nil {
		return nil, err
	}
	if err := requirePair(env, m, asset); err != nil {
		return nil, err
	}
	hub, err := hubClient(env.State)
	if err != nil {
		return nil, err
	}
	if err := spend(env, m, asset, amt, kSweepOut, kSweepCount); err != nil {
		return nil, err
	}
	seq := getUint(env.State, keySweepSeq).Uint64() + 1
	setUint(env.State, keySweepSeq, uint256.NewInt(seq))
	p := &settlement.Packet{Kind: settlement.KindSweep, Src: env.Block.ChainID, Dst: hub.ChainID, Seq: seq,
		Merchant: m, Asset: asset, Amount: amt.ToBig()}
	env.Emit(Address, settlement.EvPacketSent, []common.Hash{seqTopic(seq)}, settlement.EncodeEventBytes(p.Encode()))
	return []any{seq}, nil
}

func hubClient(r state.Reader) (*settlement.Client, error) {
	b := r.Get([]byte(keyHubClient))
	if b == nil {
		return nil, exec.Fail(types.StatusNotFound, "no hub light client on this chain: ADMIN must call setHub first")
	}
	c, err := settlement.DecodeClient(b)
	if err != nil {
		panic("userchain: corrupt hub client: " + err.Error()) // written only after validation
	}
	return c, nil
}

// setHub installs (or replaces) the light client of the hub.
func setHub(env *exec.Env, a []any) ([]any, error) {
	if err := system.RequireRole(env, system.RoleAdmin); err != nil {
		return nil, err
	}
	c, err := settlement.DecodeClient(a[0].([]byte))
	if err != nil {
		return nil, exec.Fail(types.StatusInvalidArgument, "hub client: %v", err)
	}
	env.State.Set([]byte(keyHubClient), c.Encode())
	return nil, nil
}

// updateHub follows a validator-set change on the hub, certified by the old set.
func updateHub(env *exec.Env, a []any) ([]any, error) {
	c, err := hubClient(env.State)
	if err != nil {
		return nil, err
	}
	h, cert, err := decodeHeaderCert(a[0].([]byte), a[1].([]byte))
	if err != nil {
		return nil, err
	}
	if h.ChainID == c.ChainID && h.Height < c.FromHeight {
		return []any{RecvDuplicate}, nil // this change (or a later one) is already followed
	}
	next, err := c.Update(h, cert, a[2].([]byte))
	if err != nil {
		return nil, exec.Fail(types.StatusInvalidArgument, "hub client update: %v", err)
	}
	env.State.Set([]byte(keyHubClient), next.Encode())
	return []any{RecvApplied}, nil
}

func decodeHeaderCert(hb, cb []byte) (*types.Header, *types.Certificate, error) {
	h, err := types.DecodeHeader(hb)
	if err != nil {
		return nil, nil, exec.Fail(types.StatusBadInput, "%v", err)
	}
	cert, err := types.DecodeCertificate(cb)
	if err != nil {
		return nil, nil, exec.Fail(types.StatusBadInput, "%v", err)
	}
	return h, cert, nil
}

// Statuses recvAllocation returns.
const (
	RecvApplied   uint8 = 0
	RecvDuplicate uint8 = 1
)

// recvAllocation applies a proven allocation packet from the hub, exactly
// once and in order: a duplicate is a no-op success, a gap an error.
func recvAllocation(env *exec.Env, a []any) ([]any, error) {
	c, err := hubClient(env.State)
	if err != nil {
		return nil, err
	}
	p, err := provenPacket(c, a[0].([]byte), settlement.HubAddress, settlement.KindAllocation, env.Block.ChainID)
	if err != nil {
		return nil, err
	}
	last := getUint(env.State, keyAllocSeq).Uint64()
	switch {
	case p.Seq <= last:
		return []any{RecvDuplicate}, nil
	case p.Seq != last+1:
		return nil, exec.Fail(types.StatusInvalidArgument, "allocation seq %d out of order: expected %d", p.Seq, last+1)
	}
	amt, _ := uint256.FromBig(p.Amount)
	addPair(env.State, Pair{Merchant: p.Merchant, Asset: p.Asset})
	addUint(env.State, pairKey(kAvail, p.Merchant, p.Asset), amt)
	addUint(env.State, pairKey(kAllocIn, p.Merchant, p.Asset), amt)
	addUint(env.State, pairKey(kAllocCount, p.Merchant, p.Asset), uint256.NewInt(1))
	setUint(env.State, keyAllocSeq, uint256.NewInt(p.Seq))
	return []any{RecvApplied}, nil
}

// provenPacket verifies a packet bundle with the hub client.
func provenPacket(c *settlement.Client, raw []byte, from common.Address, kind, dst string) (*settlement.Packet, error) {
	p, err := c.VerifyPacket(raw, from, kind, dst)
	if err != nil {
		return nil, exec.Fail(types.StatusInvalidArgument, "%v", err)
	}
	return p, nil
}
