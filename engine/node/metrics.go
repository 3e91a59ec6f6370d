package node

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the node's Prometheus series, on a registry of its own so
// several nodes can live in one process (the simulator).
type metrics struct {
	reg      *prometheus.Registry
	blocks   *prometheus.CounterVec
	txs      *prometheus.CounterVec
	sealTime *prometheus.HistogramVec
	pool     *prometheus.GaugeVec
	height   *prometheus.GaugeVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg:    prometheus.NewRegistry(),
		blocks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tally_blocks_committed_total", Help: "Blocks committed."}, []string{"chain"}),
		txs:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tally_txs_committed_total", Help: "Transactions committed."}, []string{"chain"}),
		sealTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tally_block_seal_seconds",
			Help: "Time to build, execute and commit a block.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}, []string{"chain"}),
		pool:   prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tally_txpool_pending", Help: "Transactions waiting in the pool."}, []string{"chain"}),
		height: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tally_chain_height", Help: "Committed head height."}, []string{"chain"}),
	}
	m.reg.MustRegister(m.blocks, m.txs, m.sealTime, m.pool, m.height,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) committed(chainID string, txs int, took time.Duration, pending int, height uint64) {
	m.blocks.WithLabelValues(chainID).Inc()
	m.txs.WithLabelValues(chainID).Add(float64(txs))
	m.sealTime.WithLabelValues(chainID).Observe(took.Seconds())
	m.pool.WithLabelValues(chainID).Set(float64(pending))
	m.height.WithLabelValues(chainID).Set(float64(height))
}
