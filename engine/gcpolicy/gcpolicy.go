// Package gcpolicy sets the Go collector's pacing for a long-running Tally
// process (a node, or the simulator that runs many in one process).
//
// Executing a block allocates about a kilobyte per transaction (receipts,
// logs, decoded calls, keys), while a node's live heap is small: its state
// lives in badger. With Go's default pacing (GOGC=100) the collector then
// starts a cycle every few megabytes, several times per 10,000-transaction
// block, and while it marks, every pointer write pays a barrier. On two
// cores that is the largest cost parallel execution pays and serial
// execution does not (a serial run leaves a core idle, which marks for
// free).
//
// The policy raises GOGC (400 by default: a cycle per 4x the live heap
// allocated, a quarter of the collections) and bounds the heap with a soft
// memory limit (by default 3/4 of the memory the process may use, from the
// cgroup limit or the machine's memory), so that a larger heap goal never
// runs the process out of memory: near the limit the collector runs as
// often as it must. This is the pacing Go's GC guide recommends for
// throughput-bound servers. GOGC and GOMEMLIMIT in the environment win over
// the configuration, as operators of Go programs expect.
package gcpolicy

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// Config is the `[runtime]` table of a node's configuration.
type Config struct {
	// GCPercent is GOGC: the collector starts a cycle when the heap has
	// grown by this percentage of the live heap. 0 takes the default (400);
	// -1 turns pacing off, leaving only the memory limit, which must then
	// be set.
	GCPercent int `toml:"gc_percent"`
	// MemoryLimit is the soft limit on the Go runtime's memory, as
	// GOMEMLIMIT: a size ("512MiB", "4GiB", "1500000000"), "auto" (3/4 of
	// the memory available to the process; the default) or "off".
	MemoryLimit string `toml:"memory_limit"`
}

// DefaultGCPercent is the default GOGC of a Tally process.
const DefaultGCPercent = 400

// Default is the policy of a Tally process with no [runtime] table.
func Default() Config { return Config{GCPercent: DefaultGCPercent, MemoryLimit: "auto"} }

// WithDefaults fills the zero fields of c from Default.
func (c Config) WithDefaults() Config {
	d := Default()
	if c.GCPercent == 0 {
		c.GCPercent = d.GCPercent
	}
	if c.MemoryLimit == "" {
		c.MemoryLimit = d.MemoryLimit
	}
	return c
}

// ErrConfig wraps every configuration error of the policy.
var ErrConfig = errors.New("runtime")

// Validate checks c (after WithDefaults).
func (c Config) Validate() error {
	if c.GCPercent < -1 {
		return fmt.Errorf("%w: gc_percent %d: use a positive percentage, or -1 for off", ErrConfig, c.GCPercent)
	}
	limit, err := parseLimit(c.MemoryLimit)
	if err != nil {
		return err
	}
	if c.GCPercent == -1 && limit == noLimit {
		return fmt.Errorf("%w: gc_percent = -1 turns the collector's pacing off: set memory_limit (a size or \"auto\"), or the heap grows without bound", ErrConfig)
	}
	return nil
}

// noLimit is the runtime's "no memory limit".
const noLimit = int64(math.MaxInt64)

// autoLimit marks "auto" in parseLimit's result.
const autoLimit = int64(-2)

// parseLimit reads a memory_limit: a size in bytes with an optional unit
// (B, KiB, MiB, GiB, TiB, as GOMEMLIMIT), "auto" (autoLimit) or "off"
// (noLimit).
func parseLimit(s string) (int64, error) {
	switch strings.TrimSpace(s) {
	case "auto":
		return autoLimit, nil
	case "off":
		return noLimit, nil
	}
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		shift  uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}
	shift := uint(0)
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t, shift = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > noLimit>>shift {
		return 0, fmt.Errorf("%w: memory_limit %q: use a size such as \"512MiB\" or \"4GiB\" (units B, KiB, MiB, GiB, TiB), \"auto\" or \"off\"", ErrConfig, s)
	}
	return n << shift, nil
}

// Applied is the pacing a process runs with after Apply.
type Applied struct {
	GCPercent   int   // -1: off
	MemoryLimit int64 // bytes; math.MaxInt64: none
	// FromEnv names the settings the environment made (GOGC, GOMEMLIMIT),
	// which Apply left as they were.
	FromEnv []string
}

// String describes the pacing for a log line.
func (a Applied) String() string {
	gc := strconv.Itoa(a.GCPercent)
	if a.GCPercent < 0 {
		gc = "off"
	}
	lim := "none"
	if a.MemoryLimit != noLimit {
		lim = fmt.Sprintf("%d MiB", a.MemoryLimit>>20)
	}
	s := fmt.Sprintf("gogc=%s memory_limit=%s", gc, lim)
	if len(a.FromEnv) > 0 {
		s += " (from the environment: " + strings.Join(a.FromEnv, ", ") + ")"
	}
	return s
}

// Host is where Apply learns the environment and the memory available.
// The zero value reads the process's: os.Getenv and the files of /proc and
// /sys/fs/cgroup.
type Host struct {
	Getenv   func(string) string
	ReadFile func(string) ([]byte, error)
}

func (h Host) getenv(k string) string {
	if h.Getenv == nil {
		return os.Getenv(k)
	}
	return h.Getenv(k)
}

func (h Host) readFile(p string) ([]byte, error) {
	if h.ReadFile == nil {
		return os.ReadFile(p)
	}
	return h.ReadFile(p)
}

// Available returns the memory the process may use: the smallest of the
// cgroup v2 and v1 limits and the machine's memory, or 0 when none of
// them can be read.
func (h Host) Available() int64 {
	var best int64
	take := func(n int64) {
		if n > 0 && (best == 0 || n < best) {
			best = n
		}
	}
	if b, err := h.readFile("/proc/meminfo"); err == nil {
		take(memTotal(b))
	}
	if b, err := h.readFile("/sys/fs/cgroup/memory.max"); err == nil {
		take(cgroupBytes(b))
	}
	if b, err := h.readFile("/sys/fs/cgroup/memory/memory.limit_in_bytes"); err == nil {
		take(cgroupBytes(b))
	}
	return best
}

// memTotal reads MemTotal (in kB) from /proc/meminfo, in bytes.
func memTotal(b []byte) int64 {
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil || kb <= 0 || kb > noLimit>>10 {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// cgroupBytes reads a cgroup memory limit: bytes, or "max" (none). cgroup
// v1 writes "none" as a huge number, which is no limit either.
func cgroupBytes(b []byte) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n <= 0 || n >= 1<<60 {
		return 0
	}
	return n
}

// Apply sets the collector's pacing from c (after WithDefaults), except what
// the environment sets, and returns what the process now runs with. It
// fails, changing nothing, on an invalid c.
func Apply(c Config, h Host) (Applied, error) {
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		return Applied{}, err
	}
	limit, _ := parseLimit(c.MemoryLimit)
	if limit == autoLimit {
		limit = noLimit
		if avail := h.Available(); avail > 0 {
			limit = avail / 4 * 3
		}
	}
	var a Applied
	if h.getenv("GOGC") != "" {
		a.FromEnv = append(a.FromEnv, "GOGC")
		a.GCPercent = debug.SetGCPercent(100)
		debug.SetGCPercent(a.GCPercent) // read it back unchanged
	} else {
		debug.SetGCPercent(c.GCPercent)
		a.GCPercent = c.GCPercent
	}
	if h.getenv("GOMEMLIMIT") != "" {
		a.FromEnv = append(a.FromEnv, "GOMEMLIMIT")
		a.MemoryLimit = debug.SetMemoryLimit(-1) // a negative limit only reads it
	} else {
		debug.SetMemoryLimit(limit)
		a.MemoryLimit = limit
	}
	return a, nil
}

// Current returns the pacing the process runs with now.
func Current() Applied {
	gc := debug.SetGCPercent(100)
	debug.SetGCPercent(gc)
	return Applied{GCPercent: gc, MemoryLimit: debug.SetMemoryLimit(-1)}
}

// Restore sets the pacing back to a, as Current returned it (for tests and
// benchmarks that change it).
func Restore(a Applied) {
	debug.SetGCPercent(a.GCPercent)
	debug.SetMemoryLimit(a.MemoryLimit)
}
