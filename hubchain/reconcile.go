package hubchain

import (
	"context"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/api/pb"
	tclient "github.com/tallyhq/tally/engine/client"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/settlement"
	"github.com/tallyhq/tally/engine/types"
)

// StatementLine is one booked epoch of one chain for one merchant asset: what
// bank operations reconcile, with the user-chain block range and summary hash
// that let anyone check it against the user chain independently.
type StatementLine struct {
	Chain       string      `json:"chain"`
	Epoch       uint64      `json:"epoch"`
	FromHeight  uint64      `json:"from_height"`
	ToHeight    uint64      `json:"to_height"`
	BlockHash   common.Hash `json:"block_hash"`
	SummaryHash common.Hash `json:"summary_hash"`
	BookedAt    uint64      `json:"hub_height"`
	Asset       string      `json:"asset"`
	Opening     *big.Int    `json:"opening"`
	Income      *big.Int    `json:"income"`
	Payouts     *big.Int    `json:"payouts"`
	AllocIn     *big.Int    `json:"alloc_in"`
	SweepOut    *big.Int    `json:"sweep_out"`
	Closing     *big.Int    `json:"closing"`
	PayCount    uint64      `json:"pay_count"`
	PayoutCount uint64      `json:"payout_count"`
}

// StatementQuery selects lines; zero values mean "all".
type StatementQuery struct {
	Merchant           common.Address
	Chain, Asset       string
	FromEpoch, ToEpoch uint64
}

var hubABI = New()

func hubView(ctx context.Context, c *tclient.Client, method string, args ...any) ([]any, error) {
	data, err := hubABI.Pack(method, args...)
	if err != nil {
		return nil, err
	}
	r, err := c.Call(ctx, common.Address{}, &Address, data)
	if err != nil {
		return nil, err
	}
	if r.Status != 0 {
		return nil, fmt.Errorf("hub %s: %s %s", method, r.StatusText, r.RevertReason)
	}
	return hubABI.Unpack(method, r.Output)
}

// ReadStatement reads the merchant's booked epochs from the hub.
func ReadStatement(ctx context.Context, hub *tclient.Client, q StatementQuery) ([]StatementLine, error) {
	chains := []string{q.Chain}
	if q.Chain == "" {
		out, err := hubView(ctx, hub, "chains")
		if err != nil {
			return nil, err
		}
		chains = out[0].([]string)
	}
	var lines []StatementLine
	for _, ch := range chains {
		ls, err := chainStatement(ctx, hub, ch, q)
		if err != nil {
			return nil, err
		}
		lines = append(lines, ls...)
	}
	return lines, nil
}

func chainStatement(ctx context.Context, hub *tclient.Client, chain string, q StatementQuery) ([]StatementLine, error) {
	st, err := hubView(ctx, hub, "chainState", chain)
	if err != nil {
		return nil, err
	}
	last := st[0].(uint64)
	to := last
	if q.ToEpoch > 0 && q.ToEpoch < to {
		to = q.ToEpoch
	}
	var lines []StatementLine
	for seq := max(q.FromEpoch, 1); seq <= to; seq++ {
		out, err := hubView(ctx, hub, "statement", chain, seq)
		if err != nil {
			return nil, err
		}
		rec, err := DecodeStatement(out[0].([]byte))
		if err != nil {
			return nil, err
		}
		sum, err := settlement.DecodeSummary(rec.Summary)
		if err != nil {
			return nil, err
		}
		lines = append(lines, linesOf(chain, rec, sum, q)...)
	}
	return lines, nil
}

func linesOf(chain string, rec *Statement, s *settlement.Summary, q StatementQuery) []StatementLine {
	var out []StatementLine
	for _, e := range s.Entries {
		if e.Merchant != q.Merchant || (q.Asset != "" && e.Asset != q.Asset) {
			continue
		}
		out = append(out, StatementLine{Chain: chain, Epoch: s.Seq, FromHeight: s.FromHeight, ToHeight: s.ToHeight,
			BlockHash: rec.BlockHash, SummaryHash: rec.SummaryHash, BookedAt: rec.BookedAt, Asset: e.Asset,
			Opening: e.Opening, Income: e.Income, Payouts: e.Payouts, AllocIn: e.AllocIn, SweepOut: e.SweepOut,
			Closing: e.Closing, PayCount: e.PayCount, PayoutCount: e.PayoutCount})
	}
	return out
}

// SumLines sums lines' flows into a totals line.
func SumLines(lines []StatementLine) StatementLine {
	t := StatementLine{Chain: "TOTAL", Opening: new(big.Int), Income: new(big.Int), Payouts: new(big.Int),
		AllocIn: new(big.Int), SweepOut: new(big.Int), Closing: new(big.Int)}
	for _, l := range lines {
		t.Income.Add(t.Income, l.Income)
		t.Payouts.Add(t.Payouts, l.Payouts)
		t.AllocIn.Add(t.AllocIn, l.AllocIn)
		t.SweepOut.Add(t.SweepOut, l.SweepOut)
		t.PayCount += l.PayCount
		t.PayoutCount += l.PayoutCount
	}
	return t
}

// VerifyLine checks a statement line against the user chain alone: the
// block at ToHeight has the hash the line names and holds the settle
// transaction whose summary hashes to the line's summary hash, and the
// Paid and PaidOut events of the epoch (after the previous settle, up to
// this one) add up to the line's income, payouts and counts.
func VerifyLine(ctx context.Context, user *tclient.Client, suite crypto.Suite, merchant common.Address, l StatementLine) error {
	end, err := settlePosition(ctx, user, suite, l.ToHeight, l.Epoch, l.SummaryHash, l.BlockHash)
	if err != nil {
		return err
	}
	start := position{height: l.FromHeight, index: -1}
	if l.Epoch > 1 {
		if start, err = settlePosition(ctx, user, suite, l.FromHeight, l.Epoch-1, common.Hash{}, common.Hash{}); err != nil {
			return err
		}
	}
	got, err := sumEvents(ctx, user, merchant, l.Asset, start, end)
	if err != nil {
		return err
	}
	if got.Income.Cmp(l.Income) != 0 || got.Payouts.Cmp(l.Payouts) != 0 || got.PayCount != l.PayCount || got.PayoutCount != l.PayoutCount {
		return fmt.Errorf("%s epoch %d: chain shows income %s (%d), payouts %s (%d); statement says %s (%d), %s (%d)",
			l.Chain, l.Epoch, got.Income, got.PayCount, got.Payouts, got.PayoutCount, l.Income, l.PayCount, l.Payouts, l.PayoutCount)
	}
	return nil
}

// position is a transaction's place: block height and index in it; index
// -1 means "before the block's first transaction".
type position struct {
	height uint64
	index  int
}

func fetchBlock(ctx context.Context, c *tclient.Client, h uint64) (*types.Block, []*types.Receipt, error) {
	b, err := c.RPC().GetBlock(ctx, &pb.GetBlockRequest{ChainId: c.ChainID(), By: &pb.GetBlockRequest_Height{Height: h}, WithReceipts: true})
	if err != nil {
		return nil, nil, err
	}
	blk, err := types.DecodeBlock(b.Raw)
	if err != nil {
		return nil, nil, err
	}
	rs := make([]*types.Receipt, len(b.Receipts))
	for i, raw := range b.Receipts {
		if rs[i], err = types.DecodeReceipt(raw); err != nil {
			return nil, nil, err
		}
	}
	return blk, rs, nil
}

// settlePosition finds the settle of epoch seq in block h and checks its
// summary hash and the block hash when given.
func settlePosition(ctx context.Context, c *tclient.Client, suite crypto.Suite, h, seq uint64, sumHash, blockHash common.Hash) (position, error) {
	blk, rs, err := fetchBlock(ctx, c, h)
	if err != nil {
		return position{}, err
	}
	if blockHash != (common.Hash{}) && blk.Hash(suite) != blockHash {
		return position{}, fmt.Errorf("block %d hashes to %s, statement says %s", h, blk.Hash(suite).Hex(), blockHash.Hex())
	}
	for i, r := range rs {
		if s := settledIn(r); s != nil && s.Seq == seq {
			if sumHash != (common.Hash{}) && s.Hash(suite) != sumHash {
				return position{}, fmt.Errorf("epoch %d summary hashes to %s, statement says %s", seq, s.Hash(suite).Hex(), sumHash.Hex())
			}
			return position{height: h, index: i}, nil
		}
	}
	return position{}, fmt.Errorf("block %d holds no settle of epoch %d", h, seq)
}

func settledIn(r *types.Receipt) *settlement.Summary {
	if r.Status != types.StatusOK {
		return nil
	}
	for _, l := range r.Logs {
		if l.Address == settlement.ShadowAddress && l.Topics[0] == settlement.EvEpochSettled.ID {
			if enc, err := settlement.EventBytes(l.Data); err == nil {
				if s, err := settlement.DecodeSummary(enc); err == nil {
					return s
				}
			}
		}
	}
	return nil
}

// sumEvents adds the merchant's Paid and PaidOut events of transactions
// strictly after start and up to end, in (height, index) order.
func sumEvents(ctx context.Context, c *tclient.Client, m common.Address, asset string, start, end position) (*StatementLine, error) {
	out := &StatementLine{Income: new(big.Int), Payouts: new(big.Int)}
	for h := start.height; h <= end.height; h++ {
		_, rs, err := fetchBlock(ctx, c, h)
		if err != nil {
			return nil, err
		}
		for i, r := range rs {
			if h == start.height && i <= start.index {
				continue
			}
			if h == end.height && i > end.index {
				break
			}
			if r.Status == types.StatusOK {
				addEvents(out, r, m, asset)
			}
		}
	}
	return out, nil
}

func addEvents(out *StatementLine, r *types.Receipt, m common.Address, asset string) {
	for _, l := range r.Logs {
		if l.Address != settlement.ShadowAddress || len(l.Topics) < 2 || common.BytesToAddress(l.Topics[1][:]) != m {
			continue
		}
		vals, err := settlement.EvPaid.Inputs.NonIndexed().Unpack(l.Data)
		if err != nil || vals[0].(string) != asset {
			continue
		}
		switch l.Topics[0] {
		case settlement.EvPaid.ID:
			out.Income.Add(out.Income, vals[1].(*big.Int))
			out.PayCount++
		case settlement.EvPaidOut.ID:
			out.Payouts.Add(out.Payouts, vals[1].(*big.Int))
			out.PayoutCount++
		}
	}
}
