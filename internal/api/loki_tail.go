package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/sluice-log/sluice/internal/logql"
	"github.com/sluice-log/sluice/internal/query"
	"github.com/sluice-log/sluice/internal/record"
)

// lokiTail serves Loki's live tail over a WebSocket: first the newest
// `limit` lines since `start` (default an hour ago), oldest first, then
// every new matching line as it is stored. The live part is Sluice's own
// tail (/api/v1/tail, or a querier's relay of its indexers'), read in
// process, so it has the same slots, tenants and slow-reader rule. It takes
// a stream selector with line filters and label filters on stream labels;
// parser stages and line_format are refused.
func (s *Server) lokiTail(w http.ResponseWriter, r *http.Request) {
	plan, q, err := s.lokiPlan(r.FormValue("query"))
	if err != nil {
		lokiError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if plan.Metric != nil || plan.Const != nil {
		lokiError(w, http.StatusBadRequest, "tail takes a log query, not a metric query")
		return
	}
	if len(q.Pipes) > 0 || plan.LineFormat != nil {
		lokiError(w, http.StatusBadRequest, "%v", &logql.UnsupportedError{Construct: "a parser, a label filter after a parser or line_format in a live tail"})
		return
	}
	now := time.Now()
	start, err := parseLokiTime(r.FormValue("start"), now, now.Add(-time.Hour).UnixNano(), false)
	if err != nil {
		lokiError(w, http.StatusBadRequest, "parameter 'start': %v", err)
		return
	}
	limit, err := s.lokiLimit(r)
	if err != nil {
		lokiError(w, http.StatusBadRequest, "%v", err)
		return
	}
	history, ok := s.lokiTailHistory(w, r, q, start, now.UnixNano(), limit)
	if !ok {
		return
	}
	// Only same-origin browsers may open it (coder/websocket's default):
	// a page elsewhere must not read logs through a user's browser.
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept answered the client
	}
	defer conn.CloseNow()
	ctx := conn.CloseRead(r.Context())
	send := func(recs []record.Record) error {
		if len(recs) == 0 {
			return nil
		}
		// The connection is the WebSocket's now, out of answerWriter's
		// reach: each message gets query.write_timeout itself.
		cutOff, err := writeWithin(ctx, s.cfg.Limits.WriteTimeout, func(wctx context.Context) error {
			return conn.Write(wctx, websocket.MessageText, lokiTailMessage(recs))
		})
		if cutOff {
			s.countCutOff(r)
		}
		return err
	}
	if send(history) != nil {
		return
	}
	reason, err := s.lokiTailLive(ctx, r, q.String(), func(rec record.Record) error { return send([]record.Record{rec}) })
	if err != nil {
		return
	}
	_ = conn.Close(websocket.StatusPolicyViolation, truncateReason(reason))
}

// errWriteTimeout ends the context of a write that waited
// query.write_timeout for its client.
var errWriteTimeout = errors.New("the client did not read within query.write_timeout")

// writeWithin runs write with a context that ends after timeout, and says
// whether the timeout ended it (the client did not read: the answer is cut
// off) rather than ctx. The timeout is told by its cause, not by whether
// ctx ended too: a WebSocket write whose deadline passes closes the
// connection, which ends the connection's reader and with it ctx, often
// before write returns.
func writeWithin(ctx context.Context, timeout time.Duration, write func(context.Context) error) (cutOff bool, err error) {
	wctx, cancel := context.WithTimeoutCause(ctx, timeout, errWriteTimeout)
	defer cancel()
	err = write(wctx)
	return err != nil && errors.Is(context.Cause(wctx), errWriteTimeout), err
}

// truncateReason fits a close reason into a control frame (123 bytes).
func truncateReason(s string) string {
	if len(s) > 120 {
		return s[:120]
	}
	return s
}

// lokiTailHistory runs the query over [start, end) for the newest limit
// lines and returns them oldest first.
func (s *Server) lokiTailHistory(w http.ResponseWriter, r *http.Request, q *query.Query, start, end int64, limit int) ([]record.Record, bool) {
	ctx, release, ok := s.acquire(w, r)
	if !ok {
		return nil, false
	}
	defer release()
	opts := s.baseOptions(r)
	opts.From, opts.To, opts.Limit = start, end, limit
	var recs []record.Record
	_, err := s.engine.Query(ctx, q, opts, func(row query.Row) error {
		if row.Record != nil {
			recs = append(recs, row.Record.Clone())
		}
		return nil
	})
	if err != nil {
		s.writeLokiQueryError(w, r, err)
		return nil, false
	}
	for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
		recs[i], recs[j] = recs[j], recs[i]
	}
	return recs, true
}

// lokiTailLive reads Sluice's live tail of filter in process and calls fn
// with each record until ctx ends, fn fails, or the tail ends; then it
// returns why the tail ended (for the close frame).
func (s *Server) lokiTailLive(ctx context.Context, r *http.Request, filter string, fn func(record.Record) error) (string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req := r.Clone(ctx)
	req.Method = http.MethodGet
	req.URL = &url.URL{Path: "/api/v1/tail", RawQuery: url.Values{"query": {filter}}.Encode()}
	req.Form, req.PostForm, req.Body = nil, nil, http.NoBody
	req.Header = req.Header.Clone()
	req.Header.Set("Accept", "application/x-ndjson")
	pr, pw := io.Pipe()
	defer pr.Close()
	rw := &pipeResponse{header: http.Header{}, w: pw}
	go func() {
		s.tailH.ServeHTTP(rw, req)
		_ = pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if rw.status() != http.StatusOK {
			var e struct {
				Error string `json:"error"`
			}
			_ = json.Unmarshal(line, &e)
			return fmt.Sprintf("live tail refused (%d): %s", rw.status(), e.Error), nil
		}
		rec, dropped, err := lokiTailRecord(line)
		if err != nil {
			return "", err
		}
		if dropped != "" {
			return dropped, nil
		}
		if err := fn(rec); err != nil {
			return "", err
		}
	}
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	return "live tail ended (server shutting down)", nil
}

// lokiTailRecord reads one line of Sluice's tail: a record, or the line
// that says a slow client was dropped (its message returned).
func lokiTailRecord(line []byte) (record.Record, string, error) {
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		return record.Record{}, "", fmt.Errorf("read live tail line: %w", err)
	}
	if d, _ := m["_dropped"].(bool); d {
		msg, _ := m["_msg"].(string)
		return record.Record{}, msg, nil
	}
	var rec record.Record
	ts, _ := m["_time"].(string)
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return rec, "", fmt.Errorf("read live tail time %q: %w", ts, err)
	}
	rec.Time = t.UnixNano()
	rec.Message, _ = m["_msg"].(string)
	st, _ := m["_stream"].(string)
	for n, v := range logql.ParseStream(st) {
		rec.Stream = append(rec.Stream, record.Field{Name: n, Value: v})
	}
	record.SortStream(rec.Stream)
	return rec, "", nil
}

// lokiTailMessage is one message of Loki's tail: {"streams":[…],
// "dropped_entries":null}.
func lokiTailMessage(recs []record.Record) []byte {
	b := []byte(`{"streams":[`)
	for i := range recs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"stream":`...)
		b = appendLabels(b, recordLabels(&recs[i], false))
		b = append(b, `,"values":[["`...)
		b = strconv.AppendInt(b, recs[i].Time, 10)
		b = append(b, `",`...)
		b = record.AppendJSONString(b, recs[i].Message)
		b = append(b, "]]}"...)
	}
	return append(b, `],"dropped_entries":null}`...)
}

// pipeResponse is the ResponseWriter of an in-process request whose body is
// read from a pipe as it is written.
type pipeResponse struct {
	header http.Header
	w      *io.PipeWriter
	code   atomic.Int32
}

func (p *pipeResponse) Header() http.Header  { return p.header }
func (p *pipeResponse) WriteHeader(code int) { p.code.CompareAndSwap(0, int32(code)) }
func (p *pipeResponse) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return p.w.Write(b)
}
func (p *pipeResponse) Flush()      {}
func (p *pipeResponse) status() int { return int(p.code.Load()) }
