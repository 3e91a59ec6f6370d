package p2p_test

import (
	"fmt"
	"syscall"
	"testing"

	"github.com/tallyhq/tally/engine/p2p"
)

// BenchmarkThroughput sends messages of one size from a to c over real
// mutual TLS on loopback and reports messages/s, MB/s, and the process's CPU
// time per message (both ends together), which stays meaningful on a
// machine shared with other work, where wall-clock rates do not. At most
// window messages are in flight, so the send queue never drops: this
// measures the transport, not the drop policy.
func BenchmarkThroughput(b *testing.B) {
	for _, size := range []int{256, 4 << 10, 64 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) { benchPair(b, size) })
	}
}

func benchPair(b *testing.B, size int) {
	caDir := newCA(b)
	roomy := func(c *p2p.Config) { c.QueueLen, c.QueueBytes = 4096, 256<<20 }
	a := newNode(b, "a", loadTLS(b, issue(b, caDir, "a")), roomy)
	c := newNode(b, "c", loadTLS(b, issue(b, caDir, "c")), roomy)
	window := min(2048, max(8, (64<<20)/size))
	inflight := make(chan struct{}, window)
	chA, _ := join(b, a, "bench", a, c)
	_, err := c.net.Join("bench", ids(a, c), func(p2p.NodeID, uint32, []byte) error {
		<-inflight
		return nil
	})
	mustOK(b, err)
	mustOK(b, a.net.Start())
	mustOK(b, c.net.Start())
	connect(b, a, c)
	payload := make([]byte, size)

	b.SetBytes(int64(size))
	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		inflight <- struct{}{}
		if err := chA.Send(c.id, 1, payload); err != nil {
			b.Fatal(err)
		}
	}
	for range window {
		inflight <- struct{}{} // every message delivered once the window is ours again
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/msg")
	if s := a.net.Stats(); s.QueueDrops != 0 {
		b.Fatalf("%d messages dropped", s.QueueDrops)
	}
}

// cpuTime is the process's user and system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
