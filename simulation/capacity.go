package simulation

import (
	"context"
	"fmt"
	"math"
	"time"
)

// CapacityModel predicts a consortium's throughput from measurements of its
// parts. User chains are independent: a payment needs one consensus round
// on one chain and never touches the hub. The hub's load is one booking per
// user chain per epoch, whatever the payment rate. So with each chain on its
// own machine:
//
//	TPS(N) = N · PerChainTPS            while N / EpochInterval ≤ HubBookingsPerSec
//
// and the hub caps N at HubBookingsPerSec · EpochInterval chains (beyond
// that, epochs lengthen and settlement lag grows, but payments still flow).
// On one shared machine, chains also share its cores:
//
//	TPS_shared(N) = min(N · offered per chain, MachineTPS)
//
// where MachineTPS is what the machine sustains with every chain, the hub
// and the relay on it.
type CapacityModel struct {
	PerChainTPS       float64       // one chain, alone on its machine, at saturation
	HubBookingsPerSec float64       // summaries the hub verifies and books per second
	EpochInterval     time.Duration // how often each user chain settles
	MachineTPS        float64       // this machine with everything on it
}

// MaxChains is how many user chains the hub can follow at this epoch interval.
func (m CapacityModel) MaxChains() int {
	return int(math.Floor(m.HubBookingsPerSec * m.EpochInterval.Seconds()))
}

// Distributed predicts N chains on N machines.
func (m CapacityModel) Distributed(n int) float64 {
	return float64(min(n, max(1, m.MaxChains()))) * m.PerChainTPS
}

// Shared predicts N chains on this one machine, each offered perChain tx/s.
func (m CapacityModel) Shared(n int, perChain float64) float64 {
	return math.Min(float64(n)*perChain, m.MachineTPS)
}

func (m CapacityModel) String() string {
	return fmt.Sprintf("per chain %.0f tx/s, hub %.0f bookings/s at a %s epoch (≤ %d chains), this machine %.0f tx/s",
		m.PerChainTPS, m.HubBookingsPerSec, m.EpochInterval, m.MaxChains(), m.MachineTPS)
}

// CapacityRow is one measured point against the model.
type CapacityRow struct {
	Chains       int     `json:"chains"`
	OfferedTPS   float64 `json:"offered_tps"`
	MeasuredTPS  float64 `json:"measured_tps"`
	PredictedTPS float64 `json:"predicted_tps"`
	LatencyP99Ms float64 `json:"latency_p99_ms"`
	Ratio        float64 `json:"measured_over_predicted"`
	InvariantsOK bool    `json:"invariants_ok"`
}

// CapacityReport is `tally sim capacity`'s output.
type CapacityReport struct {
	Model CapacityModel `json:"model"`
	Rows  []CapacityRow `json:"rows"`
}

// MeasureCapacity measures one chain at saturation (closed loop) to fix the
// model's per-chain and machine figures, then runs each chain count at a
// fixed per-chain offered load and compares with the model's prediction.
func MeasureCapacity(ctx context.Context, base Config, perChain float64, counts []int, hubBookings float64) (*CapacityReport, error) {
	sat := base
	sat.Chains, sat.RatePerSec = 1, 0
	res, err := Run(ctx, sat, nil)
	if err != nil {
		return nil, err
	}
	m := CapacityModel{PerChainTPS: res.TPS, MachineTPS: res.TPS, HubBookingsPerSec: hubBookings, EpochInterval: base.EpochInterval}
	rep := &CapacityReport{Model: m}
	for _, n := range counts {
		cfg := base
		cfg.Chains, cfg.RatePerSec = n, int(perChain*float64(n))
		r, err := Run(ctx, cfg, nil)
		if err != nil {
			return nil, err
		}
		pred := m.Shared(n, perChain)
		rep.Rows = append(rep.Rows, CapacityRow{Chains: n, OfferedTPS: perChain * float64(n), MeasuredTPS: r.TPS,
			PredictedTPS: pred, LatencyP99Ms: r.Latency.P99, Ratio: r.TPS / pred, InvariantsOK: r.Pass})
	}
	return rep, nil
}
