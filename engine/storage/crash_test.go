package storage_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tallyhq/tally/engine/storage"
)

// The crash test runs this test binary again as a child that commits
// numbered batches until the parent SIGKILLs it.
const (
	crashDirEnv  = "TALLY_STORAGE_CRASH_DIR"
	crashSeedEnv = "TALLY_STORAGE_CRASH_SEED" // set to replay a run's kill timings
	crashKeys    = 100
)

var crashLast = []byte("last")

func crashKey(i int) []byte { return fmt.Appendf(nil, "k%d", i) }

// crashValue is batch number n padded to size bytes.
func crashValue(n uint64, size int) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, size), n)[:size]
}

// TestCrashChild is the child side; it does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("only runs as the child of TestCrashAtomicity")
	}
	db := openBadger(t, dir, storage.DefaultBadgerOptions())
	n := uint64(0)
	if v, err := db.Get(crashLast); err == nil {
		n = binary.BigEndian.Uint64(v)
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		n++
		if err := commitCrashBatch(db, n); err != nil {
			t.Fatal(err)
		}
		// Reported only once Commit has returned: the parent holds us to it.
		fmt.Fprintln(os.Stdout, n)
	}
}

// commitCrashBatch writes n to every key; "blob" is large enough to go to
// badger's value log, so both write paths are in the batch.
func commitCrashBatch(db storage.DB, n uint64) error {
	b := db.NewBatch()
	for i := range crashKeys {
		if err := b.Put(crashKey(i), crashValue(n, 100)); err != nil {
			return err
		}
	}
	if err := b.Put([]byte("blob"), crashValue(n, 16<<10)); err != nil {
		return err
	}
	if err := b.Put(crashLast, crashValue(n, 8)); err != nil {
		return err
	}
	return b.Commit()
}

func TestCrashAtomicity(t *testing.T) {
	rounds := 5
	if testing.Short() {
		rounds = 2
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(crashSeedEnv); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%s=%d", crashSeedEnv, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	dir := t.TempDir()
	var reported uint64
	for round := range rounds {
		delay := time.Duration(rng.IntN(300_000)) * time.Microsecond
		reported = max(reported, runChildUntilKilled(t, dir, delay))
		last := checkCrashState(t, dir, reported)
		t.Logf("round %d: killed %v after the first commit; child reported %d, disk holds %d", round, delay, reported, last)
	}
}

// runChildUntilKilled starts the child, SIGKILLs it delay after its first
// reported commit, and returns the highest batch number it reported.
func runChildUntilKilled(t *testing.T, dir string, delay time.Duration) uint64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var reported atomic.Uint64
	first, eof := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(eof)
		readReports(stdout, &reported, first)
	}()
	select {
	case <-first:
		time.Sleep(delay)
	case <-eof:
	case <-time.After(30 * time.Second):
	}
	_ = cmd.Process.Kill() // SIGKILL
	<-eof
	if err := cmd.Wait(); !strings.Contains(fmt.Sprint(err), "killed") {
		t.Fatalf("child ended by itself (%v) before the kill:\n%s", err, stderr.String())
	}
	if reported.Load() == 0 {
		t.Fatalf("child reported no commit:\n%s", stderr.String())
	}
	return reported.Load()
}

// readReports records the numbers the child prints, closing first after the
// first one. Other lines come from the test framework.
func readReports(r io.Reader, reported *atomic.Uint64, first chan struct{}) {
	s := bufio.NewScanner(r)
	for s.Scan() {
		n, err := strconv.ParseUint(s.Text(), 10, 64)
		if err != nil {
			continue
		}
		if reported.Swap(n) == 0 {
			close(first)
		}
	}
}

// checkCrashState reopens the database and checks that it holds exactly one
// whole batch, no older than the last one the child reported.
func checkCrashState(t *testing.T, dir string, reported uint64) uint64 {
	t.Helper()
	db := openBadger(t, dir, storage.DefaultBadgerOptions())
	defer db.Close()
	last := batchNumber(t, db, crashLast)
	// The child may have been killed between Commit and its report.
	if last != reported && last != reported+1 {
		t.Fatalf("disk holds batch %d, child reported %d as committed", last, reported)
	}
	keys := [][]byte{[]byte("blob")}
	for i := range crashKeys {
		keys = append(keys, crashKey(i))
	}
	for _, k := range keys {
		if n := batchNumber(t, db, k); n != last {
			t.Fatalf("torn batch: %q holds batch %d, %q holds %d", k, n, crashLast, last)
		}
	}
	return last
}

func batchNumber(t *testing.T, db storage.Reader, key []byte) uint64 {
	t.Helper()
	v, err := db.Get(key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return binary.BigEndian.Uint64(v)
}
