package api

import (
	"context"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluice-log/sluice/internal/auth"
	"github.com/sluice-log/sluice/internal/dashboard"
	"github.com/sluice-log/sluice/internal/pipeline"
	"github.com/sluice-log/sluice/internal/query"
	"github.com/sluice-log/sluice/internal/quota"
	"github.com/sluice-log/sluice/internal/store"
)

// Backend is what the API needs from the pipeline.
type Backend interface {
	Searcher() store.Searcher
	// Subscribe starts a live feed of newly stored records that ends once
	// more than maxBytes of them wait for the consumer.
	Subscribe(maxBytes int64) *pipeline.Subscription
	Flush(ctx context.Context) error
	Ready() bool
	Status() pipeline.Status
}

// QueryLimits bound what one query may cost.
type QueryLimits struct {
	DefaultLimit  int
	MaxLimit      int
	MaxGroups     int
	Timeout       time.Duration
	MaxConcurrent int
	// MaxScannedRecords and MaxScannedBytes bound what one query's search
	// reads (query.Options); 0 means no bound.
	MaxScannedRecords, MaxScannedBytes int64
	// MaxRegexSize bounds each regular expression's program
	// (query.ParseOptions); 0 means query.DefaultMaxRegexSize.
	MaxRegexSize int
	// TailBufferBytes is how far a live-tail client may fall behind
	// before it is dropped; 0 means DefaultTailBufferBytes.
	TailBufferBytes int64
	// MaxResultBytes bounds the records one query keeps for its answer
	// (query.Options); 0 means no bound.
	MaxResultBytes int64
	// MaxAggregationBytes bounds what one query's aggregation holds
	// (query.Options.MaxMemory); 0 means its default.
	MaxAggregationBytes int64
	// WriteTimeout bounds each write of an answer to its client (a query's,
	// a live tail's): a client that reads nothing for this long is cut
	// off; 0 means DefaultWriteTimeout.
	WriteTimeout time.Duration
}

// Config assembles the server.
type Config struct {
	Backend  Backend
	Limits   QueryLimits
	Ingest   map[string]http.Handler // route pattern → handler, e.g. "POST /insert/jsonline"
	Gatherer prometheus.Gatherer
	Registry prometheus.Registerer
	Version  string
	Log      *slog.Logger
	// UI serves the web UI (index.html for "/" and assets under /ui/);
	// nil serves none.
	UI http.Handler
	// Kafka, when set (a store indexer), says where the indexer stands in
	// its consumer group, for the status endpoint.
	Kafka func() (*KafkaStatus, error)
	// Engine runs the queries; nil runs them on Backend's store.
	Engine Engine
	// Tail, when set, serves live tail instead of Backend's subscriptions
	// (a querier relays its indexers').
	Tail http.Handler
	// Querier, when set, is a querier's view of its indexers, added to
	// the status answer.
	Querier func() any
	// Routes are more endpoints (alerts, saved searches …): route pattern
	// → handler. They need a key with role query, and their handlers read
	// the request's tenant with tenant.Of, as the query routes do.
	Routes map[string]http.Handler
	// Ready, when set, is asked by /readyz besides the backend (an
	// indexer's consumer: is its sink failing?); an error answers 503 with
	// its text.
	Ready func(ctx context.Context) error
	// Guard authenticates every route but health, readiness and the UI's
	// files; nil is authentication off (the tenant is X-Scope-OrgID's).
	Guard *auth.Guard
	// Quotas, when set, bounds each tenant's queries.
	Quotas *quota.Quotas
	// Dashboards keeps the UI's dashboards; nil (a querier) answers 501.
	Dashboards *dashboard.Store
	// MaxRequestBytes is the receivers' largest request body
	// (ingest.max_request_bytes), which the status shows beside the bound
	// on bytes in flight; 0 where no receiver runs.
	MaxRequestBytes int64
}

// Server is the HTTP handler of `sluice serve`.
type Server struct {
	cfg      Config
	engine   Engine
	mux      *http.ServeMux
	sem      chan struct{} // query slots (query.max_concurrent)
	tails    chan struct{} // the share of them live tails may hold
	latency  *prometheus.HistogramVec
	rowsOut  *prometheus.CounterVec
	refused  *prometheus.CounterVec
	cutOff   *prometheus.CounterVec
	bytesOut *prometheus.CounterVec
	rates    ingestRates
	results  query.ResultMeter // what running queries keep for their answers
	tailH    http.Handler      // live tail: Backend's subscriptions or Config.Tail
	started  time.Time
}

// New builds the server's routes.
func New(cfg Config) *Server {
	if cfg.Limits.MaxConcurrent <= 0 {
		cfg.Limits.MaxConcurrent = 2 * runtime.GOMAXPROCS(0)
	}
	if cfg.Limits.TailBufferBytes <= 0 {
		cfg.Limits.TailBufferBytes = DefaultTailBufferBytes
	}
	if cfg.Limits.WriteTimeout <= 0 {
		cfg.Limits.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.Limits.MaxRegexSize <= 0 {
		cfg.Limits.MaxRegexSize = query.DefaultMaxRegexSize
	}
	s := &Server{
		cfg:     cfg,
		engine:  cfg.Engine,
		mux:     http.NewServeMux(),
		sem:     make(chan struct{}, cfg.Limits.MaxConcurrent),
		tails:   make(chan struct{}, max(1, cfg.Limits.MaxConcurrent/2)),
		started: time.Now(),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sluice_http_request_duration_seconds",
			Help:    "Latency of HTTP requests by route and status code.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
		}, []string{"route", "code"}),
		rowsOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_query_rows_total", Help: "Rows returned by queries and live tail.",
		}, []string{"endpoint"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_query_bytes_total", Help: "Bytes of query and live-tail answers.",
		}, []string{"endpoint"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_query_limit_stops_total", Help: "Queries stopped by a limit, by the limit's configuration key (timeout, max_scanned_records, max_scanned_bytes, max_result_bytes).",
		}, []string{"limit"}),
		cutOff: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_query_answers_cut_off_total", Help: "Answers of queries and live tails cut off because one write to their client waited query.write_timeout for it to read, by route.",
		}, []string{"route"}),
	}
	cfg.Registry.MustRegister(s.latency, s.rowsOut, s.bytesOut, s.refused, s.cutOff,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sluice_query_running",
			Help: "Queries and live tails holding one of the query.max_concurrent slots."}, func() float64 { return float64(len(s.sem)) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sluice_query_max_concurrent",
			Help: "query.max_concurrent: the query slots; live tails may hold at most half of them."}, func() float64 { return float64(cap(s.sem)) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sluice_query_max_result_bytes",
			Help: "query.max_result_bytes: the most bytes of records one query keeps for its answer."}, func() float64 { return float64(s.cfg.Limits.MaxResultBytes) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sluice_query_result_bytes",
			Help: "Bytes of records the running queries keep for their answers (each bounded by query.max_result_bytes)."}, func() float64 { return float64(s.results.Bytes()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sluice_tail_running",
			Help: "Live tails holding a query slot (at most half of query.max_concurrent)."}, func() float64 { return float64(len(s.tails)) }))
	if s.engine == nil {
		s.engine = localEngine{cfg.Backend}
	}
	tail := http.Handler(http.HandlerFunc(s.tail))
	if cfg.Tail != nil {
		tail = s.withTailSlot(cfg.Tail)
	}
	s.tailH = tail

	g := cfg.Guard
	s.handle("GET /healthz", http.HandlerFunc(s.healthz))
	s.handle("GET /readyz", http.HandlerFunc(s.readyz))
	s.handle("GET /metrics", g.Require(auth.RoleAdmin, promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{})))
	for pattern, h := range cfg.Ingest {
		if pattern == rootPattern {
			// Elasticsearch's info document: clients probe it, it holds
			// no data.
			s.handle(pattern, s.withUI(pattern, h))
			continue
		}
		s.handle(pattern, IngestHandler(g, cfg.Quotas, h))
	}
	s.mountUI()
	s.handle("GET /api/v1/whoami", g.Require(auth.RoleAny, http.HandlerFunc(s.whoami)))
	s.handle("GET /api/v1/status", g.Require(auth.RoleAny, http.HandlerFunc(s.status)))
	query := func(h http.HandlerFunc) http.Handler {
		return g.Require(auth.RoleQuery, s.tenantQuota(s.boundWrites(h)))
	}
	s.handle("/api/v1/query", query(methods(s.query, "GET", "POST").ServeHTTP))
	s.handle("/api/v1/hits", query(methods(s.hits, "GET", "POST").ServeHTTP))
	s.handle("/api/v1/field_names", query(methods(s.fieldNames, "GET", "POST").ServeHTTP))
	s.handle("/api/v1/tail", query(methods(tail.ServeHTTP, "GET", "POST").ServeHTTP))
	s.handle("/api/v1/explain", query(methods(s.explain, "GET", "POST").ServeHTTP))
	s.handle("POST /api/v1/context", query(s.context))
	s.handle("POST "+PartialPath, query(s.partialAnswer))
	s.mountDashboards()
	s.mountLoki(query)
	admin := func(action string, h http.Handler) http.Handler {
		return g.Require(auth.RoleAdmin, s.audited(action, h))
	}
	s.handle("POST /internal/force_flush", admin("force_flush", http.HandlerFunc(s.forceFlush)))
	s.handle("/api/v1/quarantine", g.Require(auth.RoleAdmin, methods(s.quarantineList, "GET", "POST")))
	s.handle("POST /internal/quarantine/drop", admin("quarantine_drop", s.quarantineAction("drop")))
	s.handle("POST /internal/quarantine/restore", admin("quarantine_restore", s.quarantineAction("restore")))
	// More routes (alerts, silences, saved searches) act for the tenant
	// the key and X-Scope-OrgID decide, as queries do.
	for pattern, h := range cfg.Routes {
		s.handle(pattern, g.Require(auth.RoleQuery, h))
	}
	return s
}

// audited reports an admin action, with its outcome, to the audit trail.
func (s *Server) audited(action string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		ev := auth.Event{Action: action, Remote: r.RemoteAddr, Method: r.Method, Path: r.URL.Path, Status: rec.code, Reason: r.FormValue("part")}
		if p := auth.PrincipalFrom(r.Context()); p != nil {
			ev.Key = p.Name
		}
		s.cfg.Guard.Audit(ev)
	})
}

// whoami answers who the caller is: the UI's sign-in asks it.
func (s *Server) whoami(w http.ResponseWriter, r *http.Request) {
	type answer struct {
		Auth    bool     `json:"auth"`
		Name    string   `json:"name,omitempty"`
		Tenants []string `json:"tenants"`
		Roles   []string `json:"roles"`
	}
	a := answer{Auth: s.cfg.Guard != nil, Tenants: []string{}, Roles: []string{}}
	if p := auth.PrincipalFrom(r.Context()); p != nil {
		a.Name, a.Tenants = p.Name, p.Tenants
		for _, role := range p.Roles {
			a.Roles = append(a.Roles, string(role))
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, a)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// handle mounts h under pattern and measures its latency under that route.
func (s *Server) handle(pattern string, h http.Handler) {
	route := pattern
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		s.latency.WithLabelValues(route, strconv.Itoa(rec.code)).Observe(time.Since(start).Seconds())
	}))
}

func methods(f http.HandlerFunc, allowed ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, m := range allowed {
			if r.Method == m {
				f(w, r)
				return
			}
		}
		w.Header().Set("Allow", allowed[0]+", "+allowed[len(allowed)-1])
		writeError(w, http.StatusMethodNotAllowed, "method %s not allowed; use GET or POST", r.Method)
	})
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !s.cfg.Backend.Ready() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("not ready\n"))
		return
	}
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(r.Context()); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready: " + err.Error() + "\n"))
			return
		}
	}
	_, _ = w.Write([]byte("ready\n"))
}

func (s *Server) forceFlush(w http.ResponseWriter, r *http.Request) {
	if err := s.cfg.Backend.Flush(r.Context()); err != nil {
		writeError(w, http.StatusInternalServerError, "flush: %v", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"flushed"}` + "\n"))
}

// statusRecorder remembers the status code for metrics and passes Flush
// through, with its error, which streaming answers need.
type statusRecorder struct {
	http.ResponseWriter
	code    int
	written bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.written {
		r.code = code
		r.written = true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.written = true
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Flush() { _ = r.FlushError() }

// FlushError is http.ResponseController's Flush, with its error.
func (r *statusRecorder) FlushError() error {
	return http.NewResponseController(r.ResponseWriter).Flush()
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
