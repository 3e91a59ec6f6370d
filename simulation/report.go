package simulation

import (
	"context"
	"fmt"
)

// checks runs the invariants from the chains' own data.
func (s *sim) checks(ctx context.Context) (*Report, error) {
	accounts := KeyAddresses(s.cl.Admin, s.cl.Relayer)
	for _, h := range s.cl.Hot {
		accounts = append(accounts, h.Operator.Address(), h.Address)
	}
	for _, u := range s.cl.UserChains() {
		accounts = append(accounts, KeyAddresses(u.Users...)...)
	}
	if s.cfg.Baseline != "" {
		rep := &Report{OK: true}
		return rep, s.cl.checkConservation(ctx, accounts, rep)
	}
	rep, err := s.cl.CheckInvariants(ctx, accounts)
	if err != nil {
		return nil, err
	}
	s.checkNoGaps(ctx, rep)
	s.checkNothingLost(rep)
	return rep, nil
}

// checkNothingLost: every admitted transaction committed, except on a chain
// whose node was killed (its pool died with it).
func (s *sim) checkNothingLost(rep *Report) {
	crashed := map[string]bool{}
	for _, f := range s.cfg.Faults {
		if f.Kind == "restart-node" {
			crashed[s.cl.Users[f.Chain].ID] = true
		}
	}
	lost, expired := s.tr.lostByChain()
	for _, u := range s.cl.Users {
		n := lost[u.ID]
		note := ""
		if e := expired[u.ID]; e > 0 {
			note = fmt.Sprintf("; %d expired uncommitted (their block limit passed)", e)
		}
		rep.add("admitted transactions committed: "+u.ID, n == 0 || crashed[u.ID],
			"%d lost%s%s", n, map[bool]string{true: " with the pool of the killed node", false: ""}[crashed[u.ID] && n > 0], note)
	}
}

// checkNoGaps reads the hub's bookings seen during the run: per chain they
// must be 1..n with no gap or duplicate.
func (s *sim) checkNoGaps(ctx context.Context, rep *Report) {
	s.tr.mu.Lock()
	defer s.tr.mu.Unlock()
	for _, u := range s.cl.Users {
		ep, err := view(ctx, u.Client, shadowContract, "epoch")
		if err != nil {
			rep.add("bookings "+u.ID, false, "%v", err)
			continue
		}
		n := ep[0].(uint64)
		seen := s.tr.booked[u.ID]
		ok := uint64(len(seen)) == n
		for seq := uint64(1); seq <= n && ok; seq++ {
			_, ok = seen[seq]
		}
		rep.add("no gaps or duplicates: "+u.ID, ok, "%d epochs settled, %d distinct bookings seen on the hub", n, len(seen))
	}
}

func (s *sim) result(loadSeconds float64, rep *Report) *Result {
	t := s.tr
	lags := t.settlementLags()
	lost, expired := t.lostByChain()
	t.mu.Lock()
	defer t.mu.Unlock()
	r := &Result{Schema: ResultSchema, Config: s.cfg, LoadSeconds: loadSeconds, Committed: t.committed, Failed: t.failed,
		Rejected: t.rejected, Lost: lost, Expired: expired, TPSPerChain: map[string]float64{}, EpochsBooked: map[string]int{},
		Latency: quantiles(t.latencies), SettlementLag: quantiles(lags),
		LatencyHist: histogram(t.latencies), LagHist: histogram(lags), Invariants: rep.Checks, Pass: rep.OK, Faults: s.faults}
	ok := 0
	for _, n := range t.committed {
		ok += n
	}
	r.Sent = ok + sum(t.failed) + sum(t.rejected) + sum(lost)
	r.TPS = float64(ok) / loadSeconds
	for _, u := range s.cl.Users {
		n := 0
		for sec, c := range t.perSecond[u.ID] {
			if float64(sec) < loadSeconds {
				n += c
			}
		}
		r.TPSPerChain[u.ID] = float64(n) / loadSeconds
		r.EpochsBooked[u.ID] = len(t.booked[u.ID])
	}
	r.Timeline = timeline(t.perSecond, int(loadSeconds)+1)
	return r
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func timeline(per map[string]map[int]int, seconds int) []TimePoint {
	out := make([]TimePoint, seconds)
	for sec := range out {
		out[sec] = TimePoint{Second: sec, PerChain: map[string]int{}}
		for chain, m := range per {
			out[sec].PerChain[chain] = m[sec]
		}
	}
	return out
}
