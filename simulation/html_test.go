package simulation

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("Chromium is not installed here (CI installs Debian's chromium): skipping the rendered-report check")
	return ""
}

// TestHTMLReportRendersInChromium runs a short simulation, writes its HTML
// report and loads it in headless Chromium: the page must render with its
// three charts drawn (series and bars with real geometry) and the verdict.
func TestHTMLReportRendersInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a consortium and a browser")
	}
	bin := chromium(t)
	cfg := DefaultConfig()
	cfg.Chains, cfg.Users, cfg.Merchants, cfg.RatePerSec, cfg.Duration, cfg.Dir = 2, 200, 3, 300, 3*time.Second, t.TempDir()
	res, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	path, err := res.WriteHTML(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dom := renderDOM(t, bin, path)
	for _, id := range []string{"throughput-chart", "latency-chart", "lag-chart", "invariants", "verdict"} {
		if !strings.Contains(dom, `id="`+id+`"`) {
			t.Errorf("rendered page lacks #%s", id)
		}
	}
	if n := len(regexp.MustCompile(`<polyline class="series"[^>]*points="[0-9.]+,[0-9.]+ [0-9.]+,`).FindAllString(dom, -1)); n != cfg.Chains {
		t.Errorf("throughput chart draws %d series, want %d", n, cfg.Chains)
	}
	if n := len(regexp.MustCompile(`<rect class="bar"[^>]*height="[1-9]`).FindAllString(dom, -1)); n < 2 {
		t.Errorf("histograms draw %d non-empty bars", n)
	}
	if !strings.Contains(dom, ">PASS</span>") {
		t.Errorf("verdict missing or not PASS")
	}
	shot := filepath.Join(filepath.Dir(path), "report.png")
	run(t, bin, "--screenshot="+shot, "--window-size=900,1600", "file://"+path)
	if st, err := os.Stat(shot); err != nil || st.Size() < 10_000 {
		t.Errorf("screenshot missing or empty: %v", err)
	}
}

func renderDOM(t *testing.T, bin, path string) string {
	return run(t, bin, "--dump-dom", "file://"+path)
}

func run(t *testing.T, bin string, args ...string) string {
	t.Helper()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir=" + t.TempDir()}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, append(base, args...)...).Output()
	if err != nil {
		t.Fatalf("chromium %v: %v", args, err)
	}
	return string(out)
}
