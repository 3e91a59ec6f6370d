package simulation

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// WriteHTML writes a self-contained report page (inline SVG charts, no
// scripts or external files) to dir/index.html.
func (r *Result) WriteHTML(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "index.html")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return path, r.renderHTML(f)
}

var palette = []string{"#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d"}

const chartW, chartH, pad = 720.0, 260.0, 40.0

// lineChart draws committed tx/s per chain over time.
func (r *Result) lineChart() template.HTML {
	peak := 1
	for _, p := range r.Timeline {
		for _, v := range p.PerChain {
			peak = max(peak, v)
		}
	}
	n := max(1, len(r.Timeline)-1)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg id="throughput-chart" class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="throughput over time">`, chartW, chartH)
	axes(&b, fmt.Sprintf("%d tx/s", peak), fmt.Sprintf("%ds", n))
	for i, chain := range sortedKeysOf(r.TPSPerChain) {
		var pts []string
		for _, p := range r.Timeline {
			x := pad + float64(p.Second)/float64(n)*(chartW-2*pad)
			y := chartH - pad - float64(p.PerChain[chain])/float64(peak)*(chartH-2*pad)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
		}
		c := palette[i%len(palette)]
		fmt.Fprintf(&b, `<polyline class="series" data-chain="%s" fill="none" stroke="%s" stroke-width="2" points="%s"/>`, chain, c, strings.Join(pts, " "))
		fmt.Fprintf(&b, `<text x="%.0f" y="%d" fill="%s" font-size="12">%s</text>`, chartW-pad-90, 16+14*i, c, chain)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func axes(b *strings.Builder, yMax, xMax string) {
	fmt.Fprintf(b, `<line class="axis" x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#999"/>`, pad, chartH-pad, chartW-pad, chartH-pad)
	fmt.Fprintf(b, `<line class="axis" x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#999"/>`, pad, pad, pad, chartH-pad)
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" font-size="11">%s</text>`, pad+4, pad-6, template.HTMLEscapeString(yMax))
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" font-size="11" text-anchor="end">%s</text>`, chartW-pad, chartH-pad+16, template.HTMLEscapeString(xMax))
}

// barChart draws a histogram.
func barChart(id, label string, hist []Bucket) template.HTML {
	peak := 1
	for _, h := range hist {
		peak = max(peak, h.Count)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg id="%s" class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, id, chartW, chartH, label)
	axes(&b, fmt.Sprintf("%d", peak), "ms (log2 buckets)")
	w := (chartW - 2*pad) / math.Max(1, float64(len(hist)))
	for i, h := range hist {
		bh := float64(h.Count) / float64(peak) * (chartH - 2*pad)
		x := pad + float64(i)*w
		fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#2563eb"><title>%g–%g ms: %d</title></rect>`,
			x+1, chartH-pad-bh, w-2, bh, h.LoMs, h.HiMs, h.Count)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" font-size="9" text-anchor="middle">%g</text>`, x+w/2, chartH-pad+12, h.HiMs)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

var page = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tally simulation report</title>
<style>body{font-family:system-ui,sans-serif;max-width:800px;margin:2em auto;color:#111}
table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left}
.PASS{color:#16a34a;font-weight:bold}.FAIL{color:#dc2626;font-weight:bold}svg{width:100%;height:auto;background:#fafafa}</style></head>
<body><h1>Tally simulation <span class="{{.Verdict}}" id="verdict">{{.Verdict}}</span></h1>
<p>{{.R.Config.Chains}} user chains, {{.R.Config.Users}} users, {{.R.Config.Merchants}} merchants, seed {{.R.Config.Seed}}{{if .R.Config.Baseline}}, baseline {{.R.Config.Baseline}}{{end}}.</p>
<table id="summary"><tr><th>throughput</th><td>{{printf "%.0f" .R.TPS}} tx/s over {{printf "%.1f" .R.LoadSeconds}} s</td></tr>
<tr><th>commit latency</th><td>p50 {{.R.Latency.P50}} · p95 {{.R.Latency.P95}} · p99 {{.R.Latency.P99}} ms</td></tr>
<tr><th>settlement lag</th><td>p50 {{.R.SettlementLag.P50}} · p99 {{.R.SettlementLag.P99}} ms ({{.R.SettlementLag.Samples}} payments)</td></tr></table>
<h2>Throughput over time</h2>{{.Line}}
<h2>Commit latency distribution</h2>{{.Latency}}
<h2>Settlement lag</h2>{{.Lag}}
<h2>Invariants</h2><table id="invariants">{{range .R.Invariants}}<tr><td class="{{if .OK}}PASS{{else}}FAIL{{end}}">{{if .OK}}PASS{{else}}FAIL{{end}}</td><td>{{.Name}}</td><td>{{.Detail}}</td></tr>{{end}}</table>
<h2>Faults</h2><table id="faults">{{range .R.Faults}}<tr><td>{{.Kind}}</td><td>{{printf "%.1f" .AtSec}} s</td><td>{{.Detail}}</td></tr>{{else}}<tr><td>none</td></tr>{{end}}</table>
<h2>Raw report</h2><pre id="raw">{{.JSON}}</pre></body></html>
`))

func (r *Result) renderHTML(w io.Writer) error {
	raw, _ := json.MarshalIndent(r, "", "  ")
	verdict := "FAIL"
	if r.Pass {
		verdict = "PASS"
	}
	return page.Execute(w, map[string]any{"R": r, "Verdict": verdict, "Line": r.lineChart(),
		"Latency": barChart("latency-chart", "commit latency", r.LatencyHist), "Lag": barChart("lag-chart", "settlement lag", r.LagHist),
		"JSON": string(raw)})
}
