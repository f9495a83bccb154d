package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/sluice-log/sluice/internal/cpuslot"
	"github.com/sluice-log/sluice/internal/query"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// queryRequest is what the query endpoints read from form or URL values.
type queryRequest struct {
	q    *query.Query
	opts query.Options
}

func (s *Server) parseQueryRequest(r *http.Request, defFrom int64) (queryRequest, error) {
	qs := r.FormValue("query")
	if qs == "" {
		return queryRequest{}, errors.New("missing parameter 'query' (use * for every record)")
	}
	q, err := query.ParseWith(qs, s.parseOptions())
	if err != nil {
		return queryRequest{}, err
	}
	now := time.Now()
	from, err := parseTime(r.FormValue("from"), now, defFrom)
	if err != nil {
		return queryRequest{}, fmt.Errorf("parameter 'from': %w", err)
	}
	to, err := parseUpperTime(r.FormValue("to"), now, 0)
	if err != nil {
		return queryRequest{}, fmt.Errorf("parameter 'to': %w", err)
	}
	if to != 0 && to < from {
		return queryRequest{}, fmt.Errorf("'to' (%s) is before 'from' (%s)", r.FormValue("to"), r.FormValue("from"))
	}
	limit := s.cfg.Limits.DefaultLimit
	if v := r.FormValue("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return queryRequest{}, fmt.Errorf("parameter 'limit' must be a positive integer, got %q", v)
		}
		if n > s.cfg.Limits.MaxLimit {
			return queryRequest{}, fmt.Errorf("parameter 'limit' %d is over the server's maximum of %d (query.max_limit)", n, s.cfg.Limits.MaxLimit)
		}
		limit = n
	}
	opts := s.baseOptions(r)
	opts.From, opts.To, opts.Limit = from, to, limit
	return queryRequest{q: q, opts: opts}, nil
}

func (s *Server) parseOptions() query.ParseOptions {
	return query.ParseOptions{MaxRegexSize: s.cfg.Limits.MaxRegexSize}
}

// acquire takes a query slot, waiting at most the query timeout, and returns
// the query's context, whose deadline is the query timeout from the moment
// it got its slot. It answers the client itself when it fails.
//
// Slots are handed out in the order queries asked for them (a channel's
// waiting senders are served first in, first out), and every query gives
// its slot back at its deadline however costly it is (the store and the
// filters look at the context between records, blocks and within long
// values). So queries that run to their timeout hold their slots for at
// most that long, and a query queued behind them then runs with a timeout
// of its own rather than what its wait left of it.
func (s *Server) acquire(w http.ResponseWriter, r *http.Request) (context.Context, func(), bool) {
	wait := time.NewTimer(s.cfg.Limits.Timeout)
	defer wait.Stop()
	select {
	case s.sem <- struct{}{}:
	case <-r.Context().Done():
		return nil, nil, false
	case <-wait.C:
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, "too many concurrent queries (query.max_concurrent=%d); retry later", cap(s.sem))
		return nil, nil, false
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Limits.Timeout)
	return ctx, func() { <-s.sem; cancel() }, true
}

// writeQueryError maps an execution error to a status and a message that
// says what to do.
func (s *Server) writeQueryError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case r.Context().Err() != nil:
		// The client went away; nobody reads the answer.
	case errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusGatewayTimeout, "%s", s.queryErrorText(err))
	default:
		writeError(w, http.StatusUnprocessableEntity, "%s", s.queryErrorText(err))
	}
}

// queryErrorText says what stopped a query and, for the server's limits,
// which one and what to do.
func (s *Server) queryErrorText(err error) string {
	var le *store.ScanLimitError
	var re *query.ResultLimitError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		s.refused.WithLabelValues("timeout").Inc()
		return fmt.Sprintf("query timed out after %s (query.timeout); narrow the time range or the filter", s.cfg.Limits.Timeout)
	case errors.As(err, &le) && le.Bytes:
		s.refused.WithLabelValues("max_scanned_bytes").Inc()
		return fmt.Sprintf("query stopped: it would read more than %d bytes (query.max_scanned_bytes); narrow the time range or the filter", le.Max)
	case errors.As(err, &le):
		s.refused.WithLabelValues("max_scanned_records").Inc()
		return fmt.Sprintf("query stopped: it would scan more than %d records (query.max_scanned_records); narrow the time range or the filter", le.Max)
	case errors.As(err, &re):
		s.refused.WithLabelValues("max_result_bytes").Inc()
		return fmt.Sprintf("query stopped: the records kept for its answer would take more than %d bytes (query.max_result_bytes); ask for fewer records (limit), keep fewer fields (| fields …), or narrow the filter or the time range", re.Max)
	}
	return err.Error()
}

// query answers NDJSON: one object per record, or one per group for stats;
// with explain=1, the plan and its cost instead.
func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	s.runQuery(w, r, explainAsked(r))
}

// explain answers the plan of a query and its measured cost.
func (s *Server) explain(w http.ResponseWriter, r *http.Request) {
	s.runQuery(w, r, true)
}

func (s *Server) runQuery(w http.ResponseWriter, r *http.Request, explain bool) {
	req, err := s.parseQueryRequest(r, 0)
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	ctx, release, ok := s.acquire(w, r)
	if !ok {
		return
	}
	defer release()
	if explain {
		s.writeExplain(ctx, w, r, req)
		return
	}
	// The query's CPU slot is taken here rather than in the engine, so
	// that the answer's writes to the client can give it back (see
	// NDJSONWriter).
	cpu := cpuslot.Shared().NewHold(cpuslot.High)
	defer cpu.Release()
	ctx = cpuslot.WithHold(ctx, cpu)
	out := NewNDJSONWriter(w, cpu)
	var rows int
	partial, err := s.engine.Query(ctx, req.q, req.opts, func(row query.Row) error {
		rows++
		return out.Write(row.AppendJSON(out.Buf()))
	})
	if err != nil && !out.Started() {
		s.writeQueryError(w, r, err)
		return
	}
	if err != nil {
		// Rows already went out with 200; the last line says what failed.
		_ = out.Fail(errors.New(s.queryErrorText(err)))
	}
	_ = out.Close(partial)
	s.rowsOut.WithLabelValues("query").Add(float64(rows))
	s.bytesOut.WithLabelValues("query").Add(float64(out.Bytes()))
}

// explainAsked reports whether the client wants the plan instead of the
// rows (explain=1 or explain=true).
func explainAsked(r *http.Request) bool {
	v, _ := strconv.ParseBool(r.FormValue("explain"))
	return v
}

func (s *Server) writeExplain(ctx context.Context, w http.ResponseWriter, r *http.Request, req queryRequest) {
	plan, partial, err := s.engine.Explain(ctx, req.q, req.opts)
	if err != nil {
		s.writeQueryError(w, r, err)
		return
	}
	WriteJSON(w, plan, partial)
}

// maxContext bounds the records on each side of a context answer.
const maxContext = 1000

// context answers the records around a hit in its stream: the hit's
// _stream and _time, and before=N, after=N (default 10 each).
func (s *Server) context(w http.ResponseWriter, r *http.Request) {
	stream := r.FormValue("_stream")
	if stream == "" {
		writeError(w, http.StatusBadRequest, "missing parameter '_stream' (the hit's _stream, like {host=\"web-1\"})")
		return
	}
	t, err := time.Parse(time.RFC3339Nano, r.FormValue("_time"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "parameter '_time' must be the hit's _time in RFC 3339, got %q", r.FormValue("_time"))
		return
	}
	var n [2]int
	for i, name := range []string{"before", "after"} {
		n[i] = 10
		if v := r.FormValue(name); v != "" {
			if n[i], err = strconv.Atoi(v); err != nil || n[i] < 0 || n[i] > maxContext {
				writeError(w, http.StatusBadRequest, "parameter '%s' must be an integer from 0 to %d, got %q", name, maxContext, v)
				return
			}
		}
	}
	ctx, release, ok := s.acquire(w, r)
	if !ok {
		return
	}
	defer release()
	got, partial, err := s.engine.Context(ctx, stream, t.UnixNano(), n[0], n[1], s.baseOptions(r))
	if err != nil {
		s.writeQueryError(w, r, err)
		return
	}
	raw := func(recs []*record.Record) []json.RawMessage {
		out := make([]json.RawMessage, len(recs))
		for i, rec := range recs {
			out[i] = record.AppendJSON(nil, rec)
		}
		return out
	}
	WriteJSON(w, map[string][]json.RawMessage{"before": raw(got.Before), "at": raw(got.At), "after": raw(got.After)}, partial)
}

// hits answers the number of matching records per time bucket.
func (s *Server) hits(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	req, err := s.parseQueryRequest(r, now.Add(-24*time.Hour).UnixNano())
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if len(req.q.Pipes) > 0 {
		writeError(w, http.StatusBadRequest, "hits takes a filter without pipes; drop everything from the first '|'")
		return
	}
	to := req.opts.To
	if to == 0 {
		to = now.UnixNano()
	}
	step, err := hitsStep(r.FormValue("step"), time.Duration(to-req.opts.From))
	if err != nil {
		writeError(w, http.StatusBadRequest, "parameter 'step': %v", err)
		return
	}
	hq, err := query.ParseWith(req.q.String()+" | stats count() as hits by _time:"+formatStep(step), s.parseOptions())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "build hits query: %v", err)
		return
	}
	ctx, release, ok := s.acquire(w, r)
	if !ok {
		return
	}
	defer release()
	type bucket struct {
		Time  string `json:"time"`
		Count int64  `json:"count"`
	}
	resp := struct {
		Step    string   `json:"step"`
		Total   int64    `json:"total"`
		Buckets []bucket `json:"buckets"`
	}{Step: formatStep(step), Buckets: []bucket{}}
	req.opts.To = to
	partial, err := s.engine.Query(ctx, hq, req.opts, func(row query.Row) error {
		var b bucket
		for _, v := range row.Values {
			switch v.Name {
			case "_time":
				b.Time = v.Str
			case "hits":
				b.Count = int64(v.Num)
			}
		}
		if b.Count > 0 {
			resp.Total += b.Count
			resp.Buckets = append(resp.Buckets, b)
		}
		return nil
	})
	if err != nil {
		s.writeQueryError(w, r, err)
		return
	}
	WriteJSON(w, resp, partial)
}

// fieldNames answers every field of the matching records with its top values.
func (s *Server) fieldNames(w http.ResponseWriter, r *http.Request) {
	req, err := s.parseQueryRequest(r, time.Now().Add(-24*time.Hour).UnixNano())
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	top := 10
	if v := r.FormValue("top"); v != "" {
		if top, err = strconv.Atoi(v); err != nil || top < 0 || top > 1000 {
			writeError(w, http.StatusBadRequest, "parameter 'top' must be an integer from 0 to 1000, got %q", v)
			return
		}
	}
	ctx, release, ok := s.acquire(w, r)
	if !ok {
		return
	}
	defer release()
	fields, partial, err := s.engine.FieldNames(ctx, req.q, req.opts, top)
	if err != nil {
		s.writeQueryError(w, r, err)
		return
	}
	if fields == nil {
		fields = []query.FieldStats{}
	}
	// An object, not the bare list, so that it can say when it is partial.
	WriteJSON(w, struct {
		Fields []query.FieldStats `json:"fields"`
	}{fields}, partial)
}

// hitsStep picks the bucket width: the one asked for, or about 60 buckets.
func hitsStep(s string, span time.Duration) (time.Duration, error) {
	if s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < time.Millisecond {
			return 0, fmt.Errorf("want a duration of at least 1ms such as 30s, 5m or 1h, got %q", s)
		}
		return d, nil
	}
	for _, d := range []time.Duration{time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second,
		time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour, 3 * time.Hour,
		6 * time.Hour, 12 * time.Hour} {
		if span/d <= 120 {
			return d, nil
		}
	}
	return 24 * time.Hour, nil
}

// formatStep writes a duration in the query language's units.
func formatStep(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

func jsonString(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}
