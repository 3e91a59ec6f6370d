package simulation

import (
	"testing"
	"time"
)

func TestCapacityModel(t *testing.T) {
	m := CapacityModel{PerChainTPS: 5000, HubBookingsPerSec: 100, EpochInterval: time.Second, MachineTPS: 6000}
	cases := []struct {
		n          int
		perChain   float64
		dist, shar float64
	}{
		{1, 1000, 5000, 1000},
		{4, 1000, 20000, 4000},
		{8, 1000, 40000, 6000},  // the shared machine saturates
		{200, 10, 500000, 2000}, // the hub follows at most 100 chains at a 1 s epoch
	}
	for _, c := range cases {
		if got := m.Distributed(c.n); got != c.dist {
			t.Errorf("Distributed(%d) = %.0f, want %.0f", c.n, got, c.dist)
		}
		if got := m.Shared(c.n, c.perChain); got != c.shar {
			t.Errorf("Shared(%d, %.0f) = %.0f, want %.0f", c.n, c.perChain, got, c.shar)
		}
	}
	if m.MaxChains() != 100 {
		t.Fatalf("MaxChains %d", m.MaxChains())
	}
}
