package storage

import "testing"

// TestMemoryCopiesOnlyForLiveSnapshots: a commit copies the map only while
// an unreleased snapshot holds it; once every snapshot of it is released,
// commits write in place again (a chain takes a snapshot per block).
func TestMemoryCopiesOnlyForLiveSnapshots(t *testing.T) {
	m := NewMemory().(*memoryDB)
	put := func(k string) {
		b := m.NewBatch()
		if err := b.Put([]byte(k), []byte("v")); err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		s, err := m.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		s.Release()
		put("a")
	}
	if m.gen != 0 {
		t.Fatalf("commits after released snapshots copied the map %d times", m.gen)
	}
	s, _ := m.Snapshot()
	put("b")
	put("c")
	if m.gen != 1 {
		t.Fatalf("commits under a live snapshot copied the map %d times, want once", m.gen)
	}
	s.Release() // of an older map: the current one is not held
	put("d")
	if m.gen != 1 || m.snaps != 0 {
		t.Fatalf("after the release: %d copies, %d snapshots counted", m.gen, m.snaps)
	}
}
