package esbulk

import (
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/tenant"
)

// protocol labels this receiver's metrics and logs.
const protocol = "elasticsearch"

const bulkSuffix = "/_bulk"

type handler struct {
	sink    ingest.Sink
	cfg     Config
	m       *ingest.Metrics
	log     *slog.Logger
	info    []byte
	ids     *idGen
	seqNo   atomic.Int64
	parsers sync.Pool // of *bulkParser for cfg.Record
}

// NewHandler returns the handler for POST and PUT /_bulk and
// /{index}/_bulk, and GET and HEAD / (the info document clients check
// first). Every answer carries X-Elastic-Product: Elasticsearch, without
// which the official clients refuse to talk. Each request's records reach
// sink in one call, and the answer is written only after it returned. m may
// be nil.
func NewHandler(sink ingest.Sink, cfg Config, m *ingest.Metrics, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &handler{
		sink: sink,
		cfg:  cfg,
		m:    m,
		log:  log.With("protocol", protocol),
		info: newInfo(),
		ids:  newIDGen(),
	}
	h.parsers.New = func() any {
		p := newBulkParser(cfg.Record)
		p.indexField = cfg.IndexField
		return p
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.Header().Set("Content-Type", "application/json")
	path := r.URL.Path
	if path == "/" {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.methodNotAllowed(w, r, "GET, HEAD")
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(h.info)))
		_, _ = w.Write(h.info)
		return
	}
	index, ok := bulkIndex(path)
	if !ok {
		writeBody(w, http.StatusBadRequest, 0, appendRouteError(nil, http.StatusBadRequest,
			"no handler found for uri ["+path+"] and method ["+r.Method+"]"))
		return
	}
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		h.methodNotAllowed(w, r, "POST, PUT")
		return
	}
	start := time.Now()
	status := h.bulk(w, r, index, start)
	h.m.Request(protocol, status, time.Since(start))
}

// bulkIndex returns the index that path names for its documents: "" for
// /_bulk, the first segment of /{index}/_bulk; false for any other path.
func bulkIndex(path string) (string, bool) {
	if path == bulkSuffix {
		return "", true
	}
	index, ok := strings.CutSuffix(strings.TrimPrefix(path, "/"), bulkSuffix)
	if !ok || index == "" || strings.Contains(index, "/") {
		return "", false
	}
	return index, true
}

func (h *handler) methodNotAllowed(w http.ResponseWriter, r *http.Request, allowed string) {
	w.Header().Set("Allow", allowed)
	writeBody(w, http.StatusMethodNotAllowed, 0, appendRouteError(nil, http.StatusMethodNotAllowed,
		"Incorrect HTTP method for uri ["+r.URL.Path+"] and method ["+r.Method+"], allowed: ["+allowed+"]"))
}

func (h *handler) bulk(w http.ResponseWriter, r *http.Request, index string, start time.Time) int {
	var p *bulkParser
	q := r.URL.Query()
	filter := parseFilterPath(q.Get("filter_path"))
	if overridesConfig(q) {
		p = newBulkParser(h.cfg.Record.WithQuery(q))
		p.indexField = h.cfg.IndexField
	} else {
		p = h.parsers.Get().(*bulkParser)
		defer h.parsers.Put(p)
	}
	body, err := ingest.OpenBody(r, h.cfg.MaxRequestBytes)
	if err != nil {
		return writeError(w, requestError(err), 0)
	}
	defer body.Close()

	p.sizer.Expect(r, body, h.cfg.MaxRequestBytes)
	tenant := tenant.Of(r)
	lr := ingest.NewLineReader(body, h.cfg.Record.MaxLineBytes)
	lr.HoldCPU(r.Context())
	defer lr.ReleaseCPU() // also should parse panic: a slot lost is lost to all
	items, recs, bad := p.parse(lr, index, tenant, start, h.ids)
	lr.ReleaseCPU() // the sink may wait (the WAL's fsync, a flush)
	h.m.Bytes(protocol, lr.Bytes())
	if bad != nil {
		return writeError(w, bad, 0)
	}
	if len(recs) > 0 {
		if err := h.sink.Ingest(r.Context(), recs); err != nil {
			status, retryAfter := ingest.SinkFailure(err)
			typ := typeUnavailable
			if status == http.StatusTooManyRequests {
				// Flow control, not a fault: the client retries.
				typ = typeRejectedExecution
				h.log.Debug("sink pushed back", "tenant", tenant, "records", len(recs), "err", err)
			} else {
				h.log.Warn("sink refused records", "tenant", tenant, "records", len(recs), "status", status, "err", err)
			}
			return writeError(w, &esError{status, typ, err.Error()}, retryAfter)
		}
	}
	h.m.Records(protocol, len(recs))
	// Sequence numbers are handed out only to stored documents, in request
	// order, as a shard would.
	seq := h.seqNo.Add(int64(len(recs))) - int64(len(recs))
	rejected := map[string]int{}
	for i := range items {
		if items[i].status == 0 {
			items[i].status = http.StatusCreated
			items[i].seqNo = seq
			seq++
		} else {
			rejected[items[i].label]++
		}
	}
	for reason, n := range rejected {
		h.m.Rejected(protocol, reason, n)
	}
	took := time.Since(start).Milliseconds()
	size := 64 + 200*len(items)
	if filter.fields&^(fieldStatus|fieldError) == 0 {
		size = 64 + 32*len(items)
	}
	answer := appendBulkResponse(slices.Grow(p.answer[:0], size), took, items, h.ids, filter)
	status := writeBody(w, http.StatusOK, 0, answer)
	if cap(answer) <= maxPooledAnswer {
		p.answer = answer
	}
	return status
}

// maxPooledAnswer bounds the answer buffer a pooled parser keeps for its
// next request: the shippers' filter_path answer to 5,000 documents is
// 130 kB.
const maxPooledAnswer = 1 << 20

// overridesConfig reports whether q changes the record configuration, in
// which case the request cannot use a pooled parser.
func overridesConfig(q url.Values) bool {
	return q.Has(ingest.QueryTimeField) || q.Has(ingest.QueryMsgField) || q.Has(ingest.QueryStreamFields)
}

func writeError(w http.ResponseWriter, e *esError, retryAfter int) int {
	return writeBody(w, e.status, retryAfter, appendError(nil, e))
}

func writeBody(w http.ResponseWriter, status, retryAfter int, body []byte) int {
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return status
}
