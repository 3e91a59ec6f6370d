package simulation

import (
	"context"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/api/pb"
	"github.com/tallyhq/tally/engine/client"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/types"
	"github.com/tallyhq/tally/userchain"
)

// ChainActivity is what a user chain's own blocks say was paid to and paid
// out by the merchant, recomputed from the Paid and PaidOut events of
// successful transactions.
type ChainActivity struct {
	Income, Payouts       *big.Int
	PayCount, PayoutCount uint64
	Blocks                uint64
}

var (
	evPaid    = shadowContract.Events["Paid"]
	evPaidOut = shadowContract.Events["PaidOut"]
)

// Activities is a chain's activity per merchant.
type Activities map[common.Address]*ChainActivity

// Of returns merchant m's activity (zero if none).
func (as Activities) Of(m common.Address) *ChainActivity {
	if a := as[m]; a != nil {
		return a
	}
	return &ChainActivity{Income: new(big.Int), Payouts: new(big.Int)}
}

// ScanActivity reads every committed block of c and sums each merchant's
// payments and payouts. It trusts nothing the hub says.
func ScanActivity(ctx context.Context, c *client.Client, chainID string) (Activities, error) {
	head, err := c.Head(ctx)
	if err != nil {
		return nil, err
	}
	a := Activities{}
	for h := uint64(1); h <= head; h++ {
		b, err := c.RPC().GetBlock(ctx, &pb.GetBlockRequest{ChainId: chainID, By: &pb.GetBlockRequest_Height{Height: h}, WithReceipts: true})
		if err != nil {
			return nil, err
		}
		for _, raw := range b.Receipts {
			r, err := types.DecodeReceipt(raw)
			if err != nil {
				return nil, err
			}
			if r.Status == types.StatusOK {
				a.add(r)
			}
		}
	}
	return a, nil
}

func (as Activities) add(r *types.Receipt) {
	for _, l := range r.Logs {
		if l.Address != userchain.Address || len(l.Topics) < 2 {
			continue
		}
		vals, err := evPaid.Inputs.NonIndexed().Unpack(l.Data)
		if err != nil {
			continue
		}
		m := common.BytesToAddress(l.Topics[1][:])
		if as[m] == nil {
			as[m] = &ChainActivity{Income: new(big.Int), Payouts: new(big.Int)}
		}
		a, amt := as[m], vals[1].(*big.Int)
		switch l.Topics[0] {
		case evPaid.ID:
			a.Income.Add(a.Income, amt)
			a.PayCount++
		case evPaidOut.ID:
			a.Payouts.Add(a.Payouts, amt)
			a.PayoutCount++
		}
	}
}

// Report lists invariant results; OK is true when all hold.
type Report struct {
	OK     bool
	Checks []Check
}

// Check is one invariant's outcome.
type Check struct {
	Name   string
	OK     bool
	Detail string
}

func (r *Report) add(name string, ok bool, format string, a ...any) {
	r.Checks = append(r.Checks, Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, a...)})
	if !ok {
		r.OK = false
	}
}

func (r *Report) String() string {
	var b strings.Builder
	for _, c := range r.Checks {
		verdict := "PASS"
		if !c.OK {
			verdict = "FAIL"
		}
		fmt.Fprintf(&b, "%s  %-34s %s\n", verdict, c.Name, c.Detail)
	}
	return b.String()
}

// CheckInvariants recomputes the settlement invariants (DESIGN §5) from the
// chains' own data once the cluster is quiet: the hub's booked income and
// payouts per chain equal the sums of committed events on that chain, every
// epoch is booked with no gap, and money is conserved across all chains.
func (cl *Cluster) CheckInvariants(ctx context.Context, accounts []common.Address) (*Report, error) {
	rep := &Report{OK: true}
	for _, u := range cl.Users {
		if err := cl.checkChain(ctx, u, rep); err != nil {
			return nil, err
		}
	}
	return rep, cl.checkConservation(ctx, accounts, rep)
}

func (cl *Cluster) checkChain(ctx context.Context, u *Chain, rep *Report) error {
	acts, err := ScanActivity(ctx, u.Client, u.ID)
	if err != nil {
		return err
	}
	income, payouts, chainIncome, chainPayouts := new(big.Int), new(big.Int), new(big.Int), new(big.Int)
	var n, chainN uint64
	for _, h := range cl.Hot {
		sub, err := view(ctx, cl.Hub.Client, hubContract, "subLedger", h.Address, u.ID, cl.Cfg.Asset)
		if err != nil {
			return err
		}
		act := acts.Of(h.Address)
		income.Add(income, sub[0].(*big.Int))
		payouts.Add(payouts, sub[1].(*big.Int))
		n += sub[5].(uint64) + sub[6].(uint64)
		chainIncome.Add(chainIncome, act.Income)
		chainPayouts.Add(chainPayouts, act.Payouts)
		chainN += act.PayCount + act.PayoutCount
		if sub[0].(*big.Int).Cmp(act.Income) != 0 || sub[1].(*big.Int).Cmp(act.Payouts) != 0 || sub[5].(uint64) != act.PayCount {
			rep.add("hub books = chain events: "+u.ID, false, "merchant %s: hub income %s payouts %s, chain %s %s",
				h.Address.Hex(), sub[0], sub[1], act.Income, act.Payouts)
		}
	}
	rep.add("income booked = paid on "+u.ID, income.Cmp(chainIncome) == 0, "hub %s, chain %s (%d merchants)", income, chainIncome, len(cl.Hot))
	rep.add("payouts booked = paid out on "+u.ID, payouts.Cmp(chainPayouts) == 0 && n == chainN,
		"hub %s, chain %s; %d operations booked, %d on chain", payouts, chainPayouts, n, chainN)
	ep, err := view(ctx, u.Client, shadowContract, "epoch")
	if err != nil {
		return err
	}
	cs, err := view(ctx, cl.Hub.Client, hubContract, "chainState", u.ID)
	if err != nil {
		return err
	}
	rep.add("every epoch booked, in order: "+u.ID, ep[0].(uint64) == cs[0].(uint64) && ep[1].([32]byte) == cs[1].([32]byte),
		"chain settled %d epochs, hub booked %d; hashes match %v", ep[0].(uint64), cs[0].(uint64), ep[1].([32]byte) == cs[1].([32]byte))
	return nil
}

// checkConservation: Σ issued − redeemed over every chain equals Σ ledger
// balances of accounts + Σ shadows + reserve + packets in flight.
func (cl *Cluster) checkConservation(ctx context.Context, accounts []common.Address, rep *Report) error {
	asset := cl.Cfg.Asset
	supply, held := new(big.Int), new(big.Int)
	for _, c := range append([]*Chain{cl.Hub}, cl.Users...) {
		s, err := view(ctx, c.Client, ledgerContract, "totalSupply", asset)
		if err != nil {
			return err
		}
		supply.Add(supply, s[0].(*big.Int))
		for _, a := range accounts {
			b, err := view(ctx, c.Client, ledgerContract, "balanceOf", asset, a)
			if err != nil {
				return err
			}
			held.Add(held, b[0].(*big.Int))
		}
	}
	shadows, inflight, err := cl.shadowsAndInflight(ctx)
	if err != nil {
		return err
	}
	reserve := new(big.Int)
	for _, h := range cl.Hot {
		m, err := view(ctx, cl.Hub.Client, hubContract, "merchant", h.Address, asset)
		if err != nil {
			return err
		}
		reserve.Add(reserve, m[2].(*big.Int))
	}
	total := new(big.Int).Add(held, shadows)
	total.Add(total, reserve).Add(total, inflight)
	rep.add("conservation of "+asset, total.Cmp(supply) == 0,
		"issued-redeemed %s = balances %s + shadows %s + reserve %s + in flight %s (= %s)", supply, held, shadows, reserve, inflight, total)
	return nil
}

// shadowsAndInflight sums shadow balances and the packets in flight, from
// each user chain's and the hub's own counters.
func (cl *Cluster) shadowsAndInflight(ctx context.Context) (*big.Int, *big.Int, error) {
	shadows, inflight := new(big.Int), new(big.Int)
	for _, u := range cl.Users {
		for _, h := range cl.Hot {
			s, err := view(ctx, u.Client, shadowContract, "shadowOf", h.Address, cl.Cfg.Asset)
			if err != nil {
				return nil, nil, err
			}
			shadows.Add(shadows, s[0].(*big.Int)).Add(shadows, s[1].(*big.Int))
		}
		flight, err := cl.inflight(ctx, u)
		if err != nil {
			return nil, nil, err
		}
		inflight.Add(inflight, flight)
	}
	return shadows, inflight, nil
}

// inflight sums allocations the hub sent to u that u has not applied, and
// sweeps u sent that the hub has not received, by reading packet records.
func (cl *Cluster) inflight(ctx context.Context, u *Chain) (*big.Int, error) {
	ep, err := view(ctx, u.Client, shadowContract, "epoch")
	if err != nil {
		return nil, err
	}
	cs, err := view(ctx, cl.Hub.Client, hubContract, "chainState", u.ID)
	if err != nil {
		return nil, err
	}
	applied, sent := ep[3].(uint64), cs[3].(uint64)
	sweptSent, sweptRecv := ep[4].(uint64), cs[5].(uint64)
	if applied != sent || sweptSent != sweptRecv {
		return nil, fmt.Errorf("%s: packets still in flight (allocations %d/%d applied, sweeps %d/%d received): wait for quiescence",
			u.ID, applied, sent, sweptRecv, sweptSent)
	}
	return new(big.Int), nil
}

// KeyAddresses lists keys' addresses.
func KeyAddresses(keys ...crypto.PrivateKey) []common.Address {
	out := make([]common.Address, len(keys))
	for i, k := range keys {
		out[i] = k.Address()
	}
	return out
}
