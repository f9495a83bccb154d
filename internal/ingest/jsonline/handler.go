package jsonline

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/tenant"
)

// protocol labels this receiver's metrics and logs.
const protocol = "jsonline"

// maxListedErrors bounds the per-line errors an answer lists.
const maxListedErrors = 10

type handler struct {
	sink    ingest.Sink
	cfg     Config
	m       *ingest.Metrics
	log     *slog.Logger
	parsers sync.Pool // of *Parser for cfg.Record
}

// NewHandler returns the HTTP handler that accepts JSON lines by POST and
// hands each request's valid records to sink in one call, answering only
// after it returned. m may be nil.
func NewHandler(sink ingest.Sink, cfg Config, m *ingest.Metrics, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &handler{sink: sink, cfg: cfg, m: m, log: log.With("protocol", protocol)}
	h.parsers.New = func() any { return NewParser(cfg.Record) }
	return h
}

// lineError is one rejected line in the answer.
type lineError struct {
	Line  int    `json:"line"`
	Error string `json:"error"`
}

type result struct {
	Accepted int         `json:"accepted"`
	Rejected int         `json:"rejected"`
	Errors   []lineError `json:"errors"`
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	status := h.serve(w, r, start)
	h.m.Request(protocol, status, time.Since(start))
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request, now time.Time) int {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return writeError(w, http.StatusMethodNotAllowed, 0, "method "+r.Method+" not allowed; use POST")
	}
	var p *Parser
	if q := r.URL.Query(); overridesConfig(q) {
		p = NewParser(h.cfg.Record.WithQuery(q))
	} else {
		p = h.parsers.Get().(*Parser)
		defer h.parsers.Put(p)
	}
	body, err := ingest.OpenBody(r, h.cfg.MaxRequestBytes)
	if err != nil {
		return writeError(w, ingest.RequestStatus(err), 0, err.Error())
	}
	defer body.Close()

	tenant := tenant.Of(r)
	lr := ingest.NewLineReader(body, h.cfg.Record.MaxLineBytes)
	lr.HoldCPU(r.Context())
	defer lr.ReleaseCPU()
	p.sizer.Expect(r, body, h.cfg.MaxRequestBytes)
	var (
		recs    = p.sizer.Records()
		res     = result{Errors: []lineError{}}
		reasons = map[string]int{}
	)
	reject := func(err error) {
		res.Rejected++
		reasons[ingest.RejectReason(err)]++
		if len(res.Errors) < maxListedErrors {
			res.Errors = append(res.Errors, lineError{Line: lr.Line(), Error: err.Error()})
		}
	}
	for {
		line, err := lr.Next()
		if err == io.EOF {
			break
		}
		if errors.Is(err, ingest.ErrLineTooLong) {
			reject(err)
			continue
		}
		if err != nil {
			h.m.Bytes(protocol, lr.Bytes())
			return writeError(w, ingest.RequestStatus(err), 0, err.Error())
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		rec, err := p.ParseLine(line, now, tenant)
		if err != nil {
			reject(err)
			continue
		}
		recs = append(recs, rec)
	}
	h.m.Bytes(protocol, lr.Bytes())
	p.sizer.Done(len(recs), lr.Bytes())
	lr.ReleaseCPU() // the sink may wait (the WAL's fsync, a flush)

	if len(recs) > 0 {
		if err := h.sink.Ingest(r.Context(), recs); err != nil {
			status, retryAfter := ingest.SinkFailure(err)
			if retryAfter > 0 {
				// Flow control, not a fault: the client retries.
				h.log.Debug("sink pushed back", "tenant", tenant, "records", len(recs), "err", err)
			} else {
				h.log.Warn("sink refused records", "tenant", tenant, "records", len(recs), "status", status, "err", err)
			}
			return writeError(w, status, retryAfter, err.Error())
		}
	}
	res.Accepted = len(recs)
	h.m.Records(protocol, len(recs))
	for reason, n := range reasons {
		h.m.Rejected(protocol, reason, n)
	}
	if res.Rejected > 0 {
		h.log.Debug("rejected lines", "tenant", tenant, "rejected", res.Rejected, "first_err", res.Errors[0].Error)
	}
	status := http.StatusOK
	if res.Accepted == 0 && res.Rejected > 0 {
		status = http.StatusBadRequest
	}
	return writeJSON(w, status, 0, res)
}

// overridesConfig reports whether q changes the record configuration, in
// which case the request cannot use a pooled parser.
func overridesConfig(q url.Values) bool {
	return q.Has(ingest.QueryTimeField) || q.Has(ingest.QueryMsgField) || q.Has(ingest.QueryStreamFields)
}

func writeError(w http.ResponseWriter, status, retryAfter int, msg string) int {
	return writeJSON(w, status, retryAfter, struct {
		Error string `json:"error"`
	}{msg})
}

func writeJSON(w http.ResponseWriter, status, retryAfter int, v any) int {
	// Answers are structs of strings and ints, which always marshal.
	body, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
	return status
}
