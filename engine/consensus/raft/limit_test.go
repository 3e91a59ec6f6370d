package raft

import (
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

func TestWantLimiter(t *testing.T) {
	var l WantLimiter
	a, b := common.Address{1}, common.Address{2}
	t0 := time.Unix(1000, 0)
	if !l.Allow(a, t0) || !l.Allow(b, t0) {
		t.Fatal("first asks refused")
	}
	// A peer asking in a loop is answered once per WantInterval.
	answered := 0
	for ms := 1; ms <= 2000; ms++ {
		if l.Allow(a, t0.Add(time.Duration(ms)*time.Millisecond)) {
			answered++
		}
	}
	if answered != 4 {
		t.Fatalf("a peer asking every millisecond for 2 s was answered %d times, want 4", answered)
	}
	// An honest node asking once per AskInterval is always answered.
	for i := 1; i <= 10; i++ {
		if !l.Allow(b, t0.Add(time.Duration(i)*AskInterval)) {
			t.Fatalf("an ask %d intervals in refused", i)
		}
	}
	// Peers silent for a minute are forgotten.
	if !l.Allow(common.Address{3}, t0.Add(10*time.Minute)) || l.Len() != 1 {
		t.Fatalf("after ten minutes the limiter remembers %d peers, want 1", l.Len())
	}
}
