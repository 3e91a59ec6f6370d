package relay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// collector reports the relay's counters and, per chain, the last height
// it has fully relayed, at scrape time.
type collector struct{ r *Relay }

var (
	relayCounters = []struct {
		desc *prometheus.Desc
		get  func(Stats) int
	}{
		{prometheus.NewDesc("tally_relay_booked_total", "Epoch summaries the hub booked from this relay's submissions.", nil, nil),
			func(s Stats) int { return s.Booked }},
		{prometheus.NewDesc("tally_relay_duplicate_books_total", "Submissions the hub had booked already (another relay, or a retry): harmless.", nil, nil),
			func(s Stats) int { return s.DuplicateBooks }},
		{prometheus.NewDesc("tally_relay_sweeps_total", "Sweep packets carried from the hub to user chains.", nil, nil),
			func(s Stats) int { return s.Sweeps }},
		{prometheus.NewDesc("tally_relay_allocations_total", "Allocation packets carried from the hub to user chains.", nil, nil),
			func(s Stats) int { return s.Allocations }},
		{prometheus.NewDesc("tally_relay_settles_total", "Settlement triggers sent to user chains.", nil, nil),
			func(s Stats) int { return s.Settles }},
		{prometheus.NewDesc("tally_relay_retries_total", "Submissions retried after a failure.", nil, nil),
			func(s Stats) int { return s.Retries }},
		{prometheus.NewDesc("tally_relay_client_updates_total", "Light-client validator-set updates carried between chains.", nil, nil),
			func(s Stats) int { return s.ClientUpdates }},
	}
	relayCursor = prometheus.NewDesc("tally_relay_cursor_height",
		"The last block of the chain the relay has fully handled (its cursor).", []string{"chain"}, nil)
	relayCursorErrors = prometheus.NewDesc("tally_relay_cursor_read_errors",
		"Cursors that could not be read at this scrape (a database fault).", nil, nil)
)

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range relayCounters {
		ch <- m.desc
	}
	ch <- relayCursor
	ch <- relayCursorErrors
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c.r.Stats()
	for _, m := range relayCounters {
		ch <- prometheus.MustNewConstMetric(m.desc, prometheus.CounterValue, float64(m.get(s)))
	}
	chains := []string{c.r.hub.ChainID}
	for id := range c.r.users {
		chains = append(chains, id)
	}
	sort.Strings(chains[1:])
	failed := 0
	for _, id := range chains {
		h, err := c.r.cursor(id)
		if err != nil {
			failed++
			continue
		}
		ch <- prometheus.MustNewConstMetric(relayCursor, prometheus.GaugeValue, float64(h), id)
	}
	ch <- prometheus.MustNewConstMetric(relayCursorErrors, prometheus.GaugeValue, float64(failed))
}

// Handler serves the relay's Prometheus metrics at /metrics (with the Go
// runtime's and the process's) and a liveness probe at /healthz.
func (r *Relay) Handler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{r}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintln(w, "ok")
	})
	return mux
}

// Serve listens on addr at once (so that a taken port fails the start, not
// a later scrape) and serves Handler until ctx ends. It returns a channel
// that reports a server failure.
func (r *Relay) Serve(ctx context.Context, addr string) (<-chan error, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("relay http_addr: %w", err)
	}
	srv := &http.Server{Handler: r.Handler(), ReadHeaderTimeout: 5 * time.Second}
	failed := make(chan error, 1)
	go func() {
		if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			failed <- fmt.Errorf("relay http server: %w", err)
		}
	}()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	return failed, nil
}
