package node

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"

	"github.com/tallyhq/tally/engine/chain"
)

// metrics are the node's Prometheus series, on a registry of its own so
// several nodes can live in one process (the simulator).
type metrics struct {
	reg        *prometheus.Registry
	blocks     *prometheus.CounterVec
	txs        *prometheus.CounterVec
	sealTime   *prometheus.HistogramVec
	pool       *prometheus.GaugeVec
	height     *prometheus.GaugeVec
	certHeight *prometheus.GaugeVec
	exportH    *prometheus.GaugeVec
	regossiped *prometheus.CounterVec
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
		certHeight: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tally_raft_certified_height",
			Help: "Highest block of a Raft chain whose majority finality certificate is stored."}, []string{"chain"}),
		exportH: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tally_export_kafka_height",
			Help: "Highest block whose messages Kafka has acknowledged (export.kafka)."}, []string{"chain"}),
		regossiped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tally_txpool_regossiped_total",
			Help: "Transactions submitted here and gossiped again because they waited longer than pool.regossip_ms."}, []string{"chain"}),
	}
	m.reg.MustRegister(m.blocks, m.txs, m.sealTime, m.pool, m.height, m.certHeight, m.exportH, m.regossiped,
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

// exported records the height the Kafka exporter has published up to.
func (m *metrics) exported(chainID string, height uint64) {
	m.exportH.WithLabelValues(chainID).Set(float64(height))
}

// certified records a Raft block's certificate being stored.
func (m *metrics) certified(chainID string, height uint64) {
	g := m.certHeight.WithLabelValues(chainID)
	if prev := readGauge(g); float64(height) > prev {
		g.Set(float64(height))
	}
}

func readGauge(g prometheus.Gauge) float64 {
	var out dto.Metric
	if g.Write(&out) != nil || out.Gauge == nil {
		return 0
	}
	return out.Gauge.GetValue()
}

// stateCacheCollector reports each chain's state cache at scrape time.
type stateCacheCollector struct {
	chains []*chain.Chain
}

var (
	stateCacheMisses = prometheus.NewDesc("tally_state_cache_misses_total",
		"State reads of block execution that the chain's state cache could not serve and went to the database.", []string{"chain"}, nil)
	stateCacheEntries = prometheus.NewDesc("tally_state_cache_entries",
		"State keys held by the chain's state cache.", []string{"chain"}, nil)
	stateCacheBytes = prometheus.NewDesc("tally_state_cache_bytes",
		"Approximate bytes held by the chain's state cache (bounded by state_cache_mb).", []string{"chain"}, nil)
)

func (c stateCacheCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- stateCacheMisses
	ch <- stateCacheEntries
	ch <- stateCacheBytes
}

func (c stateCacheCollector) Collect(ch chan<- prometheus.Metric) {
	for _, cc := range c.chains {
		misses, entries, bytes := cc.StateCacheStats()
		ch <- prometheus.MustNewConstMetric(stateCacheMisses, prometheus.CounterValue, float64(misses), cc.ID())
		ch <- prometheus.MustNewConstMetric(stateCacheEntries, prometheus.GaugeValue, float64(entries), cc.ID())
		ch <- prometheus.MustNewConstMetric(stateCacheBytes, prometheus.GaugeValue, float64(bytes), cc.ID())
	}
}
