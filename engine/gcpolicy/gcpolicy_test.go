package gcpolicy

import (
	"errors"
	"io/fs"
	"runtime/debug"
	"strings"
	"testing"
)

// fakeHost is a Host over an environment and a file system given as maps.
func fakeHost(env, files map[string]string) Host {
	return Host{
		Getenv: func(k string) string { return env[k] },
		ReadFile: func(p string) ([]byte, error) {
			if s, ok := files[p]; ok {
				return []byte(s), nil
			}
			return nil, fs.ErrNotExist
		},
	}
}

const meminfo = "MemTotal:       25000000 kB\nMemFree:        20000000 kB\n"

func TestParseLimit(t *testing.T) {
	good := map[string]int64{
		"auto": autoLimit, "off": noLimit, " off ": noLimit,
		"1": 1, "1500000000": 1500000000, "2048B": 2048,
		"64KiB": 64 << 10, "512MiB": 512 << 20, "4GiB": 4 << 30, "4 GiB": 4 << 30, "1TiB": 1 << 40,
	}
	for s, want := range good {
		got, err := parseLimit(s)
		if err != nil || got != want {
			t.Errorf("parseLimit(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "0", "-1GiB", "4GB", "4gib", "lots", "1.5GiB", "9999999999TiB", "0x100", "GiB", "auto off"} {
		if _, err := parseLimit(s); !errors.Is(err, ErrConfig) {
			t.Errorf("parseLimit(%q): want a config error, got %v", s, err)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []Config{Default(), {GCPercent: 50, MemoryLimit: "off"}, {GCPercent: -1, MemoryLimit: "2GiB"}, {GCPercent: -1, MemoryLimit: "auto"}} {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
	for _, c := range []Config{{GCPercent: -2, MemoryLimit: "auto"}, {GCPercent: -1, MemoryLimit: "off"}, {GCPercent: 100, MemoryLimit: "much"}} {
		err := c.Validate()
		if !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: want a config error, got %v", c, err)
		}
	}
	if got := (Config{}).WithDefaults(); got != Default() {
		t.Fatalf("zero config with defaults: %+v", got)
	}
	if got := (Config{GCPercent: 150}).WithDefaults(); got.GCPercent != 150 || got.MemoryLimit != "auto" {
		t.Fatalf("a set field is kept, the other defaulted: %+v", got)
	}
}

func TestAvailable(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  int64
	}{
		{"machine only", map[string]string{"/proc/meminfo": meminfo}, 25000000 << 10},
		{"cgroup v2 below the machine", map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory.max": "2147483648\n"}, 2 << 30},
		{"cgroup v2 unlimited", map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory.max": "max\n"}, 25000000 << 10},
		{"cgroup v1 below the machine", map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory/memory.limit_in_bytes": "1073741824\n"}, 1 << 30},
		{"cgroup v1 unlimited", map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n"}, 25000000 << 10},
		{"garbage everywhere", map[string]string{"/proc/meminfo": "MemTotal: lots kB\n", "/sys/fs/cgroup/memory.max": "-5"}, 0},
		{"nothing readable", nil, 0},
	}
	for _, c := range cases {
		if got := fakeHost(nil, c.files).Available(); got != c.want {
			t.Errorf("%s: Available = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestApply(t *testing.T) {
	saved := Current()
	defer Restore(saved)

	files := map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory.max": "8589934592"}
	a, err := Apply(Config{}, fakeHost(nil, files))
	if err != nil {
		t.Fatal(err)
	}
	if a.GCPercent != DefaultGCPercent || a.MemoryLimit != 6<<30 || len(a.FromEnv) != 0 {
		t.Fatalf("applied %+v; want gogc %d and 3/4 of the 8 GiB cgroup", a, DefaultGCPercent)
	}
	if got := Current(); got.GCPercent != DefaultGCPercent || got.MemoryLimit != 6<<30 {
		t.Fatalf("the runtime runs with %+v", got)
	}
	if !strings.Contains(a.String(), "gogc=400") || !strings.Contains(a.String(), "memory_limit=6144 MiB") {
		t.Fatalf("log line %q", a)
	}

	// Explicit values; no readable memory makes "auto" no limit.
	if _, err := Apply(Config{GCPercent: 250, MemoryLimit: "3GiB"}, fakeHost(nil, nil)); err != nil {
		t.Fatal(err)
	}
	if got := Current(); got.GCPercent != 250 || got.MemoryLimit != 3<<30 {
		t.Fatalf("explicit: the runtime runs with %+v", got)
	}
	if a, _ := Apply(Config{MemoryLimit: "auto"}, fakeHost(nil, nil)); a.MemoryLimit != noLimit {
		t.Fatalf("auto with nothing to read: %+v", a)
	}

	// The environment wins: what GOGC and GOMEMLIMIT set stays.
	debug.SetGCPercent(77)
	debug.SetMemoryLimit(123 << 20)
	a, err = Apply(Config{GCPercent: 400, MemoryLimit: "1GiB"}, fakeHost(map[string]string{"GOGC": "77", "GOMEMLIMIT": "123MiB"}, files))
	if err != nil {
		t.Fatal(err)
	}
	if a.GCPercent != 77 || a.MemoryLimit != 123<<20 || strings.Join(a.FromEnv, ",") != "GOGC,GOMEMLIMIT" {
		t.Fatalf("with the environment set: %+v", a)
	}
	if got := Current(); got.GCPercent != 77 || got.MemoryLimit != 123<<20 {
		t.Fatalf("the environment's values were overridden: %+v", got)
	}

	// An invalid policy changes nothing.
	before := Current()
	if _, err := Apply(Config{GCPercent: -1, MemoryLimit: "off"}, fakeHost(nil, files)); !errors.Is(err, ErrConfig) {
		t.Fatalf("invalid policy: %v", err)
	}
	if got := Current(); got.GCPercent != before.GCPercent || got.MemoryLimit != before.MemoryLimit {
		t.Fatalf("an invalid policy changed the runtime: %+v, was %+v", got, before)
	}
}

func FuzzParseLimit(f *testing.F) {
	for _, s := range []string{"auto", "off", "512MiB", "4GiB", "1", "-1", "9223372036854775807", "8TiB", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseLimit(s)
		if err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("%q: error %v is not a config error", s, err)
			}
			return
		}
		if n <= 0 && n != autoLimit {
			t.Fatalf("%q parsed to %d", s, n)
		}
	})
}
