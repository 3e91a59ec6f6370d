package exec

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

// A team is a block's worker goroutines, kept for the whole block and handed
// its parallel jobs one after another (decoding, scheduling, each wave and
// its fold). Starting goroutines for every job would wake an idle core each
// time, which on a virtual machine takes up to hundreds of microseconds,
// several times a block; a kept worker waits for the next job spinning for
// a while (yielding its core to any other goroutine) before it sleeps.
//
// A team is driven by one goroutine, its worker 0: run and parallelFor must
// not be called concurrently.
type team struct {
	n       int           // workers, the caller included
	gen     atomic.Uint64 // the job number; a change hands a job out
	job     func(w int)
	stop    bool
	pending atomic.Int32    // helpers still on the job
	crash   atomic.Value    // the first panic in a job, as a string
	kick    []chan struct{} // wakes helper w when it sleeps (index w-1)
	done    chan struct{}   // the last helper to finish a job reports here
}

// teamSpin is how long a worker spins, waiting for a job or for the other
// workers to finish one, before it sleeps. Between two jobs of a block the
// caller works alone (grouping waves, running a barrier), often for more
// than 100 µs; a helper that slept meanwhile takes a futex wake-up of its
// idle virtual CPU to start the next job, measured at 0.1-0.7 ms here. A
// spinning worker yields its core at every turn, so the spin costs no other
// goroutine its time.
const teamSpin = time.Millisecond

// newTeam starts a team of n workers (the caller and n-1 goroutines); close
// must be called when the block is done with it.
func newTeam(n int) *team {
	t := &team{n: max(n, 1)}
	if t.n == 1 {
		return t
	}
	t.kick, t.done = make([]chan struct{}, t.n-1), make(chan struct{}, 1)
	for w := 1; w < t.n; w++ {
		t.kick[w-1] = make(chan struct{}, 1)
		go t.helper(w, 0)
	}
	return t
}

// close ends the helpers.
func (t *team) close() {
	if t.n == 1 {
		return
	}
	t.stop = true
	t.gen.Add(1)
	t.wake()
}

func (t *team) wake() {
	for _, k := range t.kick {
		select {
		case k <- struct{}{}:
		default: // a wake-up is pending already
		}
	}
}

// spin waits, yielding, until cond holds or teamSpin has passed, and
// reports whether cond holds.
func spin(cond func() bool) bool {
	var start time.Time
	for i := 0; ; i++ {
		if cond() {
			return true
		}
		if i&63 == 0 {
			if i == 0 {
				start = time.Now()
			} else if time.Since(start) > teamSpin {
				return false
			}
		}
		runtime.Gosched()
	}
}

// helper is worker w; seen is the job number it starts from (the team's
// first, not whatever the caller may have moved on to before it runs).
func (t *team) helper(w int, seen uint64) {
	for {
		if !spin(func() bool { return t.gen.Load() != seen }) {
			for t.gen.Load() == seen {
				<-t.kick[w-1]
			}
		}
		seen = t.gen.Load()
		if t.stop {
			return
		}
		t.work(w, t.job)
		if t.pending.Add(-1) == 0 {
			t.done <- struct{}{}
		}
	}
}

// work runs f(w), keeping a panic for run to raise again.
func (t *team) work(w int, f func(w int)) {
	defer func() {
		if p := recover(); p != nil {
			t.crash.CompareAndSwap(nil, fmt.Sprint(p))
		}
	}()
	f(w)
}

// run runs f(0..n-1) on the team's n workers (f(0) on the caller) and
// returns when all have returned. A panic in a worker is raised again in the
// caller, as it would be serially.
func (t *team) run(f func(w int)) {
	if t.n > 1 {
		t.job = f
		t.pending.Store(int32(t.n - 1))
		t.gen.Add(1)
		t.wake()
	}
	t.work(0, f)
	if t.n > 1 {
		spin(func() bool { return t.pending.Load() == 0 })
		<-t.done // sent once per job, by the last helper
	}
	if p := t.crash.Load(); p != nil {
		panic(p) // a broken invariant in a worker stops the caller, as it would serially
	}
}

// parallelFor runs f over [0, n) in chunks on the team, handing chunks out
// in increasing order as workers free up; f's first argument is the
// worker's number. After a panic the other workers stop at their next
// chunk.
func (t *team) parallelFor(n int, f func(w, lo, hi int)) {
	t.parallelForChunks(n, t.chunk(n), f)
}

// chunk is the size of the chunks parallelFor cuts [0, n) into: small
// enough that the workers finish together, large enough that taking a
// chunk costs nothing next to running it. One worker takes all of [0, n).
func (t *team) chunk(n int) int {
	if t.n == 1 {
		return max(n, 1)
	}
	return min(max(n/(t.n*16), 1), 64)
}

// parallelForChunks is parallelFor with chunks of the given size, f being
// called with lo a multiple of chunk.
func (t *team) parallelForChunks(n, chunk int, f func(w, lo, hi int)) {
	if t.n == 1 || n <= 1 {
		if n > 0 {
			f(0, 0, n)
		}
		return
	}
	var next atomic.Int64
	t.run(func(w int) {
		defer func() {
			if p := recover(); p != nil {
				next.Store(int64(n)) // the others stop at their next chunk
				panic(p)
			}
		}()
		for {
			lo := int(next.Add(int64(chunk))) - chunk
			if lo >= n {
				return
			}
			f(w, lo, min(lo+chunk, n))
		}
	})
}
