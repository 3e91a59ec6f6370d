package simulation

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Result is a run's report. Its JSON form is documented in docs/sim-report.md;
// keep the field names stable.
type Result struct {
	Schema      string         `json:"schema"`
	Config      Config         `json:"config"`
	LoadSeconds float64        `json:"load_seconds"`
	Sent        int            `json:"sent"`
	Committed   map[string]int `json:"committed"`
	Failed      map[string]int `json:"failed"`
	Rejected    map[string]int `json:"rejected"`
	Lost        map[string]int `json:"lost"`
	// Expired counts, per chain, admitted transactions the chain dropped
	// uncommitted when its head passed their block limit (not lost: that is
	// the block limit's contract, and a client signs them again).
	Expired       map[string]int     `json:"expired"`
	TPS           float64            `json:"tps"`
	TPSPerChain   map[string]float64 `json:"tps_per_chain"`
	Latency       Quantiles          `json:"latency_ms"`
	SettlementLag Quantiles          `json:"settlement_lag_ms"`
	EpochsBooked  map[string]int     `json:"epochs_booked"`
	Faults        []FaultRecord      `json:"faults"`
	Timeline      []TimePoint        `json:"timeline"`
	LatencyHist   []Bucket           `json:"latency_histogram"`
	LagHist       []Bucket           `json:"settlement_lag_histogram"`
	Invariants    []Check            `json:"invariants"`
	Pass          bool               `json:"pass"`
}

// Quantiles of a distribution in milliseconds.
type Quantiles struct {
	Samples int     `json:"samples"`
	P50     float64 `json:"p50"`
	P95     float64 `json:"p95"`
	P99     float64 `json:"p99"`
	Max     float64 `json:"max"`
}

// TimePoint is one second of the run: committed transactions per chain.
type TimePoint struct {
	Second   int            `json:"second"`
	PerChain map[string]int `json:"per_chain"`
}

// Bucket is a histogram bucket: values in [LoMs, HiMs).
type Bucket struct {
	LoMs  float64 `json:"lo_ms"`
	HiMs  float64 `json:"hi_ms"`
	Count int     `json:"count"`
}

// FaultRecord is an injected fault as it happened.
type FaultRecord struct {
	Kind   string  `json:"kind"`
	AtSec  float64 `json:"at_s"`
	Detail string  `json:"detail"`
}

func quantiles(ds []time.Duration) Quantiles {
	if len(ds) == 0 {
		return Quantiles{}
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	q := func(p float64) float64 { return ms(s[min(len(s)-1, int(p*float64(len(s))))]) }
	return Quantiles{Samples: len(s), P50: q(0.5), P95: q(0.95), P99: q(0.99), Max: ms(s[len(s)-1])}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// histogram buckets durations on a log2 scale from 1 ms.
func histogram(ds []time.Duration) []Bucket {
	var out []Bucket
	for lo := 0.0; ; {
		hi := max(1, lo*2)
		n := 0
		for _, d := range ds {
			if v := ms(d); v >= lo && v < hi {
				n++
			}
		}
		out = append(out, Bucket{LoMs: lo, HiMs: hi, Count: n})
		if lo > 0 && countAbove(ds, hi) == 0 {
			return out
		}
		lo = hi
		if lo > 1e7 {
			return out
		}
	}
}

func countAbove(ds []time.Duration, v float64) int {
	n := 0
	for _, d := range ds {
		if ms(d) >= v {
			n++
		}
	}
	return n
}

// WriteTable prints the report for a terminal.
func (r *Result) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "\nTally simulation — %d user chains, %d users, %d merchants, seed %d%s\n", r.Config.Chains, r.Config.Users,
		r.Config.Merchants, r.Config.Seed, map[bool]string{true: ", baseline " + r.Config.Baseline, false: ""}[r.Config.Baseline != ""])
	fmt.Fprintf(w, "%s\n", strings.Repeat("─", 72))
	fmt.Fprintf(w, "%-28s %10.0f tx/s over %.1fs (%d sent)\n", "throughput (committed ok)", r.TPS, r.LoadSeconds, r.Sent)
	for _, c := range sortedKeysOf(r.TPSPerChain) {
		fmt.Fprintf(w, "  %-26s %10.0f tx/s   epochs booked %d\n", c, r.TPSPerChain[c], r.EpochsBooked[c])
	}
	fmt.Fprintf(w, "%-28s p50 %7.1f  p95 %7.1f  p99 %7.1f  max %7.1f ms\n", "commit latency", r.Latency.P50, r.Latency.P95, r.Latency.P99, r.Latency.Max)
	fmt.Fprintf(w, "%-28s p50 %7.1f  p99 %7.1f ms (%d payments)\n", "settlement lag", r.SettlementLag.P50, r.SettlementLag.P99, r.SettlementLag.Samples)
	fmt.Fprintf(w, "%-28s %v\n", "committed by kind", r.Committed)
	fmt.Fprintf(w, "%-28s %v\n", "failed receipts", r.Failed)
	fmt.Fprintf(w, "%-28s %v\n", "refused at admission", r.Rejected)
	if sum(r.Lost) > 0 {
		fmt.Fprintf(w, "%-28s %v\n", "lost with a killed pool", r.Lost)
	}
	for _, f := range r.Faults {
		fmt.Fprintf(w, "%-28s %s at %.1fs: %s\n", "fault", f.Kind, f.AtSec, f.Detail)
	}
	fmt.Fprintf(w, "%s\ninvariants\n", strings.Repeat("─", 72))
	for _, c := range r.Invariants {
		fmt.Fprintf(w, "  %s  %-34s %s\n", map[bool]string{true: "PASS", false: "FAIL"}[c.OK], c.Name, c.Detail)
	}
	fmt.Fprintf(w, "\n%s\n", map[bool]string{true: "RESULT: PASS", false: "RESULT: FAIL"}[r.Pass])
}

func sortedKeysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
