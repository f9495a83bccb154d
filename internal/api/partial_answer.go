package api

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/sluice-log/sluice/internal/query"
	"github.com/sluice-log/sluice/internal/store"
)

// PartialPath is where an indexer answers its share of a querier's query
// (query.ExecutePartial and its siblings). It is internal: the form and
// the binary answer change with the version, and querier and indexers run
// the same one.
//
// Form: kind (query, fields or context); query; within, a filter that
// also selects (the partitions the querier asks this indexer for); from,
// to and now in Unix nanoseconds (now resolves relative times alike on
// every indexer); limit; top (fields); _stream, _time (Unix ns), before,
// after (context). The answer is AppendEnvelope's.
const PartialPath = "/internal/v1/partial"

func (s *Server) partialAnswer(w http.ResponseWriter, r *http.Request) {
	ints := map[string]int64{}
	for _, name := range []string{"from", "to", "now", "limit", "top", "_time", "before", "after"} {
		v := r.FormValue(name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "parameter '%s' must be a non-negative integer, got %q", name, v)
			return
		}
		ints[name] = n
	}
	opts := s.baseOptions(r)
	opts.From, opts.To = ints["from"], ints["to"]
	opts.Limit = int(min(ints["limit"], 1<<31))
	opts.Now = time.Unix(0, ints["now"])
	if ints["now"] == 0 {
		opts.Now = time.Now()
	}
	var within *query.Query
	if v := r.FormValue("within"); v != "" {
		var err error
		if within, err = query.ParseWith(v, s.parseOptions()); err != nil {
			writeError(w, http.StatusBadRequest, "parameter 'within': %v", err)
			return
		}
	}
	kind := r.FormValue("kind")
	var q *query.Query
	if kind != "context" {
		var err error
		if q, err = query.ParseWith(r.FormValue("query"), s.parseOptions()); err != nil {
			writeError(w, http.StatusBadRequest, "%v", err)
			return
		}
		if within != nil {
			q = q.AndFilter(within.Filter)
		}
	}
	ctx, release, ok := s.acquire(w, r)
	if !ok {
		return
	}
	defer release()
	var st store.SearchStats
	opts.Stats = &st
	var payload []byte
	var err error
	switch kind {
	case "query":
		payload, err = query.ExecutePartial(ctx, s.cfg.Backend.Searcher(), q, opts)
	case "fields":
		payload, err = query.FieldNamesPartial(ctx, s.cfg.Backend.Searcher(), q, opts, ints["top"] > 0)
	case "context":
		before, after := int(min(ints["before"], maxContext)), int(min(ints["after"], maxContext))
		payload, err = query.ContextPartial(ctx, s.cfg.Backend.Searcher(), r.FormValue("_stream"), ints["_time"], before, after, opts, within)
	default:
		writeError(w, http.StatusBadRequest, "parameter 'kind' must be query, fields or context, got %q", kind)
		return
	}
	if err != nil {
		s.writeQueryError(w, r, err)
		return
	}
	var pj []byte
	if p := PartialOfSearch(&st); p != nil {
		pj, _ = json.Marshal(p)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(AppendEnvelope(nil, pj, payload))
}

// AppendEnvelope is the body of an indexer's partial answer: the JSON of
// its own Partial (what its store could not read; empty when complete),
// then the query package's encoded partial answer.
func AppendEnvelope(dst, partialJSON, payload []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(partialJSON)))
	return append(append(dst, partialJSON...), payload...)
}

// SplitEnvelope reads what AppendEnvelope wrote.
func SplitEnvelope(b []byte) (*Partial, []byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, errors.New("corrupt partial answer envelope")
	}
	var p *Partial
	if n > 0 {
		if err := json.Unmarshal(b[k:k+int(n)], &p); err != nil {
			return nil, nil, fmt.Errorf("partial answer envelope: %w", err)
		}
	}
	return p, b[k+int(n):], nil
}
