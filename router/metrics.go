package router

import (
	"context"
	"net/http"
	"path"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// metrics are the router's Prometheus series, on a registry of its own.
type metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	lookups      *prometheus.CounterVec
	assigned     prometheus.Counter
	assignTxs    prometheus.Counter
	assignErrors prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tally_router_requests_total",
			Help: "Requests served, by method, transport (grpc or http) and result code (gRPC code name, or HTTP status)."},
			[]string{"method", "transport", "code"}),
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tally_router_lookups_total",
			Help: "User-to-chain lookups, by where the answer came from: the router's cache of assignments, or the hub's directory."},
			[]string{"source"}),
		assigned: prometheus.NewCounter(prometheus.CounterOpts{Name: "tally_router_assigned_users_total",
			Help: "Users assigned to a chain through the hub's directory."}),
		assignTxs: prometheus.NewCounter(prometheus.CounterOpts{Name: "tally_router_assign_transactions_total",
			Help: "Directory assign transactions the router sent (account openings are batched into them)."}),
		assignErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "tally_router_assign_errors_total",
			Help: "Batches of account openings that failed (every caller in the batch got the error)."}),
	}
	m.reg.MustRegister(m.requests, m.lookups, m.assigned, m.assignTxs, m.assignErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// UnaryInterceptor counts the router's gRPC requests by method and code.
func (r *Router) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		r.metrics.requests.WithLabelValues(path.Base(info.FullMethod), "grpc", status.Code(err).String()).Inc()
		return resp, err
	}
}

// statusWriter remembers the status an HTTP handler wrote.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// counted counts the requests h serves as method, by HTTP status.
func (r *Router) counted(method string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, req)
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		r.metrics.requests.WithLabelValues(method, "http", strconv.Itoa(sw.code)).Inc()
	})
}

// metricsHandler serves the router's metrics.
func (r *Router) metricsHandler() http.Handler {
	return promhttp.HandlerFor(r.metrics.reg, promhttp.HandlerOpts{})
}
