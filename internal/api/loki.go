package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/logql"
	"github.com/sluice-log/sluice/internal/query"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// The read side of Loki's HTTP API, so that Grafana's Loki data source
// (Explore, dashboards, live tail) works on Sluice unchanged. LogQL is
// turned into Sluice's own query (internal/logql) and runs on the same
// engine, with the same tenants, keys, limits and slots as every other
// query route; the answers have Loki's JSON shapes. See docs/grafana.md.

const (
	lokiDefaultLimit = 100
	// lokiMaxPoints bounds the points of one series of a range query, as
	// Loki does (11000), so that a tiny step cannot ask for millions.
	lokiMaxPoints = 11000
)

func (s *Server) mountLoki(query func(http.HandlerFunc) http.Handler) {
	s.handle("/loki/api/v1/query_range", query(methods(s.lokiQueryRange, "GET", "POST").ServeHTTP))
	s.handle("/loki/api/v1/query", query(methods(s.lokiQuery, "GET", "POST").ServeHTTP))
	s.handle("/loki/api/v1/labels", query(methods(s.lokiLabels, "GET", "POST").ServeHTTP))
	s.handle("/loki/api/v1/label/{name}/values", query(methods(s.lokiLabelValues, "GET", "POST").ServeHTTP))
	s.handle("/loki/api/v1/series", query(methods(s.lokiSeries, "GET", "POST").ServeHTTP))
	s.handle("GET /loki/api/v1/tail", query(s.lokiTail))
	s.handle("/loki/api/v1/index/stats", query(methods(s.lokiIndexStats, "GET", "POST").ServeHTTP))
}

// lokiError answers as Loki does: the message as plain text, which
// Grafana shows as it is.
func lokiError(w http.ResponseWriter, code int, format string, args ...any) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = fmt.Fprintf(w, format+"\n", args...)
}

// parseLokiTime reads a time as Loki's API takes it: Unix nanoseconds,
// Unix seconds (10 digits or fewer, or with a fraction), RFC 3339, or
// Grafana's date math (now-1h).
func parseLokiTime(v string, now time.Time, def int64, upper bool) (int64, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return def, nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if len(strings.TrimPrefix(v, "-")) <= 10 {
			return n * int64(time.Second), nil
		}
		return n, nil
	}
	return parseBound(v, now, def, upper)
}

// parseLokiStep reads step as Loki does: a duration (15s, 1m) or seconds
// (15, 0.5).
func parseLokiStep(v string, start, end int64) (time.Duration, error) {
	if v == "" {
		// Loki's default: about 250 points, at least a second apart.
		return max(time.Duration((end-start)/250/int64(time.Second))*time.Second, time.Second), nil
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 && f < 1e9 {
		return time.Duration(f * float64(time.Second)), nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("invalid step %q: want a positive duration (15s) or seconds (15)", v)
}

// lokiPlan parses and translates the request's LogQL query.
func (s *Server) lokiPlan(qs string) (*logql.Plan, *query.Query, error) {
	if strings.TrimSpace(qs) == "" {
		return nil, nil, errors.New("missing parameter 'query' (a LogQL query such as {app=\"api\"})")
	}
	e, err := logql.Parse(qs)
	if err != nil {
		return nil, nil, err
	}
	plan, err := logql.Translate(e)
	if err != nil {
		return nil, nil, err
	}
	if plan.Const != nil {
		return plan, nil, nil
	}
	text := plan.Query
	if plan.Metric != nil {
		text += " | limit 1" // checked here; the stats query is built per request
	}
	q, err := query.ParseWith(plan.Query, s.parseOptions())
	if err != nil {
		return nil, nil, fmt.Errorf("translate LogQL into %q: %w", text, err)
	}
	return plan, q, nil
}

type lokiRange struct {
	start, end int64
	step       time.Duration
	limit      int
	forward    bool
}

func (s *Server) parseLokiRange(r *http.Request, now time.Time) (lokiRange, error) {
	var lr lokiRange
	var err error
	if lr.end, err = parseLokiTime(r.FormValue("end"), now, now.UnixNano(), true); err != nil {
		return lr, fmt.Errorf("parameter 'end': %w", err)
	}
	def := lr.end - int64(time.Hour)
	if since := r.FormValue("since"); since != "" {
		d, err := time.ParseDuration(since)
		if err != nil {
			return lr, fmt.Errorf("parameter 'since': %w", err)
		}
		def = lr.end - int64(d)
	}
	if lr.start, err = parseLokiTime(r.FormValue("start"), now, def, false); err != nil {
		return lr, fmt.Errorf("parameter 'start': %w", err)
	}
	if lr.end < lr.start {
		return lr, errors.New("end timestamp must not be before start time")
	}
	if lr.step, err = parseLokiStep(r.FormValue("step"), lr.start, lr.end); err != nil {
		return lr, err
	}
	if (lr.end-lr.start)/int64(lr.step) > lokiMaxPoints {
		return lr, fmt.Errorf("exceeded maximum resolution of %d points per timeseries; try decreasing the query resolution (step=XXs)", lokiMaxPoints)
	}
	lr.limit, err = s.lokiLimit(r)
	if err != nil {
		return lr, err
	}
	switch d := strings.ToLower(r.FormValue("direction")); d {
	case "", "backward":
	case "forward":
		lr.forward = true
	default:
		return lr, fmt.Errorf("invalid direction %q: want forward or backward", d)
	}
	return lr, nil
}

func (s *Server) lokiLimit(r *http.Request) (int, error) {
	v := r.FormValue("limit")
	if v == "" {
		return min(lokiDefaultLimit, s.cfg.Limits.MaxLimit), nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("parameter 'limit' must be a positive integer, got %q", v)
	}
	if n > s.cfg.Limits.MaxLimit {
		return 0, fmt.Errorf("max entries limit per query exceeded, limit > max_entries_limit (%d > %d; query.max_limit)", n, s.cfg.Limits.MaxLimit)
	}
	return n, nil
}

func (s *Server) lokiQueryRange(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	plan, q, err := s.lokiPlan(r.FormValue("query"))
	if err != nil {
		lokiError(w, http.StatusBadRequest, "%v", err)
		return
	}
	lr, err := s.parseLokiRange(r, now)
	if err != nil {
		lokiError(w, http.StatusBadRequest, "%v", err)
		return
	}
	s.lokiAnswer(w, r, plan, q, lr, false)
}

// lokiQuery is the instant query: a metric query evaluated at one time
// (time, default now), answered as a vector.
func (s *Server) lokiQuery(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	plan, q, err := s.lokiPlan(r.FormValue("query"))
	if err != nil {
		lokiError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if plan.Metric == nil && plan.Const == nil {
		lokiError(w, http.StatusBadRequest, "log queries are not supported as an instant query type, please change your query to a range query type")
		return
	}
	t, err := parseLokiTime(r.FormValue("time"), now, now.UnixNano(), false)
	if err != nil {
		lokiError(w, http.StatusBadRequest, "parameter 'time': %v", err)
		return
	}
	limit, err := s.lokiLimit(r)
	if err != nil {
		lokiError(w, http.StatusBadRequest, "%v", err)
		return
	}
	s.lokiAnswer(w, r, plan, q, lokiRange{start: t, end: t, step: 0, limit: limit}, true)
}

func (s *Server) lokiAnswer(w http.ResponseWriter, r *http.Request, plan *logql.Plan, q *query.Query, lr lokiRange, instant bool) {
	began := time.Now()
	if plan.Const != nil {
		series := []logql.Series{{Labels: logql.Labels{}}}
		for t := lr.start; ; t += int64(lr.step) {
			series[0].Points = append(series[0].Points, logql.Point{T: t, V: plan.Const.Value})
			if instant || t+int64(lr.step) > lr.end {
				break
			}
		}
		writeLokiMetric(w, series, instant, lokiStats(&store.SearchStats{}, 0, time.Since(began)), nil)
		return
	}
	ctx, release, ok := s.acquire(w, r)
	if !ok {
		return
	}
	defer release()
	opts := s.baseOptions(r)
	st := statsOf(&opts)
	if plan.Metric != nil {
		m := plan.Metric
		var bucket time.Duration
		if instant {
			// One window, exactly Loki's (t-range, t].
			opts.From, opts.To = lr.end-int64(m.Range)+1, lr.end+1
		} else {
			bucket = logql.BucketWidth(m.Range, lr.step, lr.start)
			opts.From = floorTo(lr.start, int64(bucket)) - int64(m.Range)
			opts.To = floorTo(lr.end, int64(bucket))
		}
		sq, err := query.ParseWith(plan.StatsQuery(bucket), s.parseOptions())
		if err != nil {
			lokiError(w, http.StatusBadRequest, "translate LogQL: %v", err)
			return
		}
		var buckets []logql.Bucket
		partial, err := s.engine.Query(ctx, sq, opts, func(row query.Row) error {
			b, err := lokiBucket(row)
			buckets = append(buckets, b)
			return err
		})
		if err != nil {
			s.writeLokiQueryError(w, r, err)
			return
		}
		var series []logql.Series
		if instant {
			series = m.Instant(buckets, lr.end)
		} else {
			series = m.Evaluate(buckets, lr.start, lr.end, lr.step, bucket)
		}
		writeLokiMetric(w, series, instant, lokiStats(st, 0, time.Since(began)), partial)
		return
	}
	opts.From, opts.To, opts.Limit = lr.start, lr.end, lr.limit
	var recs []record.Record
	partial, err := s.engine.Query(ctx, q, opts, func(row query.Row) error {
		if row.Record != nil {
			recs = append(recs, row.Record.Clone())
		}
		return nil
	})
	if err != nil {
		s.writeLokiQueryError(w, r, err)
		return
	}
	writeLokiStreams(w, lokiStreams(recs, plan, lr.forward), lokiStats(st, len(recs), time.Since(began)), partial)
}

func floorTo(t, g int64) int64 {
	r := t % g
	if r < 0 {
		r += g
	}
	return t - r
}

func (s *Server) writeLokiQueryError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case r.Context().Err() != nil:
	case errors.Is(err, context.DeadlineExceeded):
		lokiError(w, http.StatusGatewayTimeout, "%s", s.queryErrorText(err))
	default:
		lokiError(w, http.StatusUnprocessableEntity, "%s", s.queryErrorText(err))
	}
}

// lokiBucket reads one row of a metric query's stats answer.
func lokiBucket(row query.Row) (logql.Bucket, error) {
	b := logql.Bucket{Labels: logql.Labels{}}
	for _, v := range row.Values {
		switch v.Name {
		case "_stream":
			for n, x := range logql.ParseStream(v.Str) {
				b.Labels[n] = x
			}
		case "_time":
			t, err := time.Parse(time.RFC3339Nano, v.Str)
			if err != nil {
				return b, fmt.Errorf("read bucket time %q: %w", v.Str, err)
			}
			b.Start = t.UnixNano()
		case "v":
			b.V = v.Num
		default:
			if v.Str != "" {
				b.Labels[v.Name] = v.Str
			}
		}
	}
	return b, nil
}

// lokiStream is one stream of a log query's answer.
type lokiStream struct {
	labels logql.Labels
	key    string
	values [][2]string
}

// lokiStreams groups records into Loki's streams: one per label set (the
// stream labels, and the record's other fields when a parser ran, as Loki
// adds parsed labels), entries in the asked direction.
func lokiStreams(recs []record.Record, plan *logql.Plan, forward bool) []*lokiStream {
	if forward {
		sort.SliceStable(recs, func(i, j int) bool { return recs[i].Time < recs[j].Time })
	} else {
		sort.SliceStable(recs, func(i, j int) bool { return recs[i].Time > recs[j].Time })
	}
	byKey := map[string]*lokiStream{}
	var out []*lokiStream
	for i := range recs {
		rec := &recs[i]
		l := recordLabels(rec, plan.Parsed)
		k := l.Key()
		st := byKey[k]
		if st == nil {
			st = &lokiStream{labels: l, key: k}
			byKey[k] = st
			out = append(out, st)
		}
		line := rec.Message
		if plan.LineFormat != nil {
			var b strings.Builder
			for _, p := range plan.LineFormat {
				if p.Label == "" {
					b.WriteString(p.Text)
				} else if v, ok := rec.Get(p.Label); ok {
					b.WriteString(v)
				}
			}
			line = b.String()
		}
		st.values = append(st.values, [2]string{strconv.FormatInt(rec.Time, 10), line})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

func recordLabels(rec *record.Record, parsed bool) logql.Labels {
	l := logql.Labels{}
	for _, f := range rec.Stream {
		l[f.Name] = f.Value
	}
	if parsed {
		for _, f := range rec.Fields {
			if f.Value != "" {
				l[f.Name] = f.Value
			}
		}
	}
	return l
}

func appendLabels(dst []byte, l logql.Labels) []byte {
	names := make([]string, 0, len(l))
	for n := range l {
		names = append(names, n)
	}
	sort.Strings(names)
	dst = append(dst, '{')
	for i, n := range names {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = record.AppendJSONString(dst, n)
		dst = append(dst, ':')
		dst = record.AppendJSONString(dst, l[n])
	}
	return append(dst, '}')
}

// lokiStats is the stats member of a query answer, in Loki's shape, with
// what Sluice's store counted.
func lokiStats(st *store.SearchStats, entries int, took time.Duration) []byte {
	sec := took.Seconds()
	lines := st.RecordsScanned
	perSec := func(n int64) int64 {
		if sec <= 0 {
			return 0
		}
		return int64(float64(n) / sec)
	}
	return fmt.Appendf(nil, `{"summary":{"bytesProcessedPerSecond":%d,"linesProcessedPerSecond":%d,"totalBytesProcessed":%d,`+
		`"totalLinesProcessed":%d,"execTime":%g,"queueTime":0,"subqueries":0,"totalEntriesReturned":%d,"splits":0,"shards":0,`+
		`"totalPostFilterLines":%d,"totalStructuredMetadataBytesProcessed":0},"querier":{"store":{"totalChunksRef":%d,`+
		`"totalChunksDownloaded":%d,"chunksDownloadTime":0,"chunk":{"compressedBytes":%d,"totalLinesProcessed":%d}}},`+
		`"ingester":{"totalReached":0,"totalChunksMatched":0,"totalBatches":0,"totalLinesSent":0,"store":{"chunk":{}}}}`,
		perSec(st.BytesRead), perSec(lines), st.BytesRead, lines, sec, entries, st.RecordsMatched,
		st.Blocks, st.BlocksRead, st.BytesRead, lines)
}

// lokiSuccess writes Loki's envelope around data; a partial answer (a
// part or an indexer that could not be read) adds Sluice's partial member
// and the Sluice-Partial header.
func lokiSuccess(w http.ResponseWriter, resultType string, result, stats []byte, partial *Partial) {
	b := []byte(`{"status":"success","data":{"resultType":"` + resultType + `","result":`)
	b = append(b, result...)
	b = append(b, `,"stats":`...)
	b = append(b, stats...)
	b = append(b, '}')
	if partial != nil {
		w.Header().Set("Sluice-Partial", "true")
		b = append(b, `,"partial":`...)
		pb, _ := json.Marshal(partial) // strings only: always marshals
		b = append(b, pb...)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(b, "}\n"...))
}

func writeLokiStreams(w http.ResponseWriter, streams []*lokiStream, stats []byte, partial *Partial) {
	b := []byte{'['}
	for i, st := range streams {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"stream":`...)
		b = appendLabels(b, st.labels)
		b = append(b, `,"values":[`...)
		for j, v := range st.values {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, `["`...)
			b = append(b, v[0]...)
			b = append(b, `",`...)
			b = record.AppendJSONString(b, v[1])
			b = append(b, ']')
		}
		b = append(b, "]}"...)
	}
	lokiSuccess(w, "streams", append(b, ']'), stats, partial)
}

// appendSample writes [seconds, "value"] as Prometheus and Loki do.
func appendSample(b []byte, p logql.Point) []byte {
	b = append(b, '[')
	b = strconv.AppendFloat(b, float64(p.T/int64(time.Millisecond))/1000, 'f', -1, 64)
	b = append(b, `,"`...)
	switch {
	case math.IsNaN(p.V):
		b = append(b, "NaN"...)
	case math.IsInf(p.V, 1):
		b = append(b, "+Inf"...)
	case math.IsInf(p.V, -1):
		b = append(b, "-Inf"...)
	default:
		b = strconv.AppendFloat(b, p.V, 'f', -1, 64)
	}
	return append(b, `"]`...)
}

func writeLokiMetric(w http.ResponseWriter, series []logql.Series, instant bool, stats []byte, partial *Partial) {
	b := []byte{'['}
	n := 0
	for _, s := range series {
		if len(s.Points) == 0 {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(b, `{"metric":`...)
		b = appendLabels(b, s.Labels)
		if instant {
			b = append(b, `,"value":`...)
			b = appendSample(b, s.Points[len(s.Points)-1])
			b = append(b, '}')
			continue
		}
		b = append(b, `,"values":[`...)
		for j, p := range s.Points {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendSample(b, p)
		}
		b = append(b, "]}"...)
	}
	kind := "matrix"
	if instant {
		kind = "vector"
	}
	lokiSuccess(w, kind, append(b, ']'), stats, partial)
}
