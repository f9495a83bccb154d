package api

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/logql"
	"github.com/sluice-log/sluice/internal/query"
)

// Labels, label values and series of Loki's API are the stream labels of
// the streams that have records in the time range (default: the last six
// hours, as Loki), read with one stats query over the streams.

const lokiLabelsDefaultSince = 6 * time.Hour

// lokiStreamsIn runs `FILTER | stats count() by _stream` over the
// request's range and calls fn with each stream's labels.
func (s *Server) lokiStreamsIn(w http.ResponseWriter, r *http.Request, filter string, fn func(logql.Labels)) (*Partial, bool) {
	now := time.Now()
	end, err := parseLokiTime(r.FormValue("end"), now, now.UnixNano(), true)
	if err != nil {
		lokiError(w, http.StatusBadRequest, "parameter 'end': %v", err)
		return nil, false
	}
	def := end - int64(lokiLabelsDefaultSince)
	if since := r.FormValue("since"); since != "" {
		d, err := time.ParseDuration(since)
		if err != nil {
			lokiError(w, http.StatusBadRequest, "parameter 'since': %v", err)
			return nil, false
		}
		def = end - int64(d)
	}
	start, err := parseLokiTime(r.FormValue("start"), now, def, false)
	if err != nil {
		lokiError(w, http.StatusBadRequest, "parameter 'start': %v", err)
		return nil, false
	}
	q, err := query.ParseWith(filter+" | stats count() as n by _stream", s.parseOptions())
	if err != nil {
		lokiError(w, http.StatusBadRequest, "%v", err)
		return nil, false
	}
	ctx, release, ok := s.acquire(w, r)
	if !ok {
		return nil, false
	}
	defer release()
	opts := s.baseOptions(r)
	opts.From, opts.To = start, end
	partial, err := s.engine.Query(ctx, q, opts, func(row query.Row) error {
		for _, v := range row.Values {
			if v.Name == "_stream" {
				fn(logql.ParseStream(v.Str))
			}
		}
		return nil
	})
	if err != nil {
		s.writeLokiQueryError(w, r, err)
		return nil, false
	}
	return partial, true
}

// lokiSelectorFilter reads an optional LogQL selector (labels' and label
// values' query parameter, series' match[]) as a Sluice filter.
func lokiSelectorFilter(selector string) (string, error) {
	if strings.TrimSpace(selector) == "" {
		return "*", nil
	}
	e, err := logql.Parse(selector)
	if err != nil {
		return "", err
	}
	le, ok := e.(*logql.LogExpr)
	if !ok {
		return "", fmt.Errorf("expected a stream selector such as {app=\"api\"}, got a metric query")
	}
	plan, err := logql.Translate(le)
	if err != nil {
		return "", err
	}
	if strings.Contains(plan.Query, "|") {
		return "", &logql.UnsupportedError{Construct: "a parser stage in a label or series selector"}
	}
	return plan.Query, nil
}

func lokiStringList(w http.ResponseWriter, set map[string]bool, partial *Partial) {
	list := make([]string, 0, len(set))
	for v := range set {
		list = append(list, v)
	}
	sort.Strings(list)
	WriteJSON(w, struct {
		Status string   `json:"status"`
		Data   []string `json:"data"`
	}{"success", list}, partial)
}

func (s *Server) lokiLabels(w http.ResponseWriter, r *http.Request) {
	filter, err := lokiSelectorFilter(r.FormValue("query"))
	if err != nil {
		lokiError(w, http.StatusBadRequest, "%v", err)
		return
	}
	names := map[string]bool{}
	partial, ok := s.lokiStreamsIn(w, r, filter, func(l logql.Labels) {
		for n := range l {
			names[n] = true
		}
	})
	if ok {
		lokiStringList(w, names, partial)
	}
}

func (s *Server) lokiLabelValues(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	filter, err := lokiSelectorFilter(r.FormValue("query"))
	if err != nil {
		lokiError(w, http.StatusBadRequest, "%v", err)
		return
	}
	values := map[string]bool{}
	partial, ok := s.lokiStreamsIn(w, r, filter, func(l logql.Labels) {
		if v, ok := l[name]; ok && v != "" {
			values[v] = true
		}
	})
	if ok {
		lokiStringList(w, values, partial)
	}
}

// lokiSeries answers the label sets of the streams that match any of the
// match[] selectors.
func (s *Server) lokiSeries(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	var filters []string
	for _, m := range r.Form["match[]"] {
		f, err := lokiSelectorFilter(m)
		if err != nil {
			lokiError(w, http.StatusBadRequest, "match[] %q: %v", m, err)
			return
		}
		filters = append(filters, "("+f+")")
	}
	if len(filters) == 0 {
		lokiError(w, http.StatusBadRequest, "missing parameter 'match[]' (a stream selector such as {app=\"api\"})")
		return
	}
	data := []logql.Labels{}
	seen := map[string]bool{}
	partial, ok := s.lokiStreamsIn(w, r, strings.Join(filters, " OR "), func(l logql.Labels) {
		if k := l.Key(); !seen[k] {
			seen[k] = true
			data = append(data, l)
		}
	})
	if !ok {
		return
	}
	sort.Slice(data, func(i, j int) bool { return data[i].Key() < data[j].Key() })
	WriteJSON(w, struct {
		Status string         `json:"status"`
		Data   []logql.Labels `json:"data"`
	}{"success", data}, partial)
}

// lokiIndexStats answers what Grafana's query editor asks before it runs a
// query, to show its size: the streams, entries and bytes of the lines
// that the query's selector and filters match in start…end (chunks: 0,
// Sluice has none).
func (s *Server) lokiIndexStats(w http.ResponseWriter, r *http.Request) {
	filter, err := lokiSelectorFilter(r.FormValue("query"))
	if err != nil {
		lokiError(w, http.StatusBadRequest, "%v", err)
		return
	}
	now := time.Now()
	end, err := parseLokiTime(r.FormValue("end"), now, now.UnixNano(), true)
	if err != nil {
		lokiError(w, http.StatusBadRequest, "parameter 'end': %v", err)
		return
	}
	start, err := parseLokiTime(r.FormValue("start"), now, end-int64(time.Hour), false)
	if err != nil {
		lokiError(w, http.StatusBadRequest, "parameter 'start': %v", err)
		return
	}
	q, err := query.ParseWith(filter+" | stats count_uniq(_stream) as streams, count() as entries, sum_len(_msg) as bytes", s.parseOptions())
	if err != nil {
		lokiError(w, http.StatusBadRequest, "%v", err)
		return
	}
	ctx, release, ok := s.acquire(w, r)
	if !ok {
		return
	}
	defer release()
	opts := s.baseOptions(r)
	opts.From, opts.To = start, end
	var st struct {
		Streams int64 `json:"streams"`
		Chunks  int64 `json:"chunks"`
		Bytes   int64 `json:"bytes"`
		Entries int64 `json:"entries"`
	}
	partial, err := s.engine.Query(ctx, q, opts, func(row query.Row) error {
		for _, v := range row.Values {
			switch v.Name {
			case "streams":
				st.Streams = int64(v.Num)
			case "entries":
				st.Entries = int64(v.Num)
			case "bytes":
				st.Bytes = int64(v.Num)
			}
		}
		return nil
	})
	if err != nil {
		s.writeLokiQueryError(w, r, err)
		return
	}
	WriteJSON(w, st, partial)
}
