package solo

import "testing"

func TestNoEmptyBlocks(t *testing.T) {
	s := New(Config{IntervalTicks: 3, BatchTxs: 10})
	for i := 0; i < 100; i++ {
		if s.Tick(0) {
			t.Fatal("sealed with nothing pending")
		}
	}
}

func TestSealsAfterInterval(t *testing.T) {
	s := New(Config{IntervalTicks: 3, BatchTxs: 10})
	got := []bool{s.Tick(1), s.Tick(1), s.Tick(1)}
	if got[0] || got[1] || !got[2] {
		t.Fatalf("seal pattern %v, want [false false true]", got)
	}
	s.Sealed()
	if s.Tick(1) {
		t.Fatal("interval did not restart after sealing")
	}
}

func TestSealsOnBatch(t *testing.T) {
	s := New(Config{IntervalTicks: 100, BatchTxs: 10})
	if s.Arrived(9) || !s.Arrived(10) {
		t.Fatal("batch threshold not honoured")
	}
}
