package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/testutil/testpipeline"
)

// lokiTestRecords: app=api on web-1 (JSON lines, every 3rd an error) and
// app=web on web-2 (logfmt), one a minute over the half hour before
// base, and one record of tenant "acme".
func lokiTestRecords(base time.Time) []record.Record {
	var recs []record.Record
	for i := 0; i < 30; i++ {
		level, status := "info", 200
		if i%3 == 0 {
			level, status = "error", 500
		}
		recs = append(recs, record.Record{
			Time:    base.Add(-time.Duration(i)*time.Minute - time.Second).UnixNano(),
			Stream:  []record.Field{{Name: "app", Value: "api"}, {Name: "host", Value: "web-1"}},
			Message: fmt.Sprintf(`{"level":%q,"status":%d,"msg":"req %d"}`, level, status, i),
		})
		if i%2 == 0 {
			recs = append(recs, record.Record{
				Time:    base.Add(-time.Duration(i)*time.Minute - 2*time.Second).UnixNano(),
				Stream:  []record.Field{{Name: "app", Value: "web"}, {Name: "host", Value: "web-2"}},
				Message: fmt.Sprintf("level=info path=/p/%d took=%d", i, i*10),
			})
		}
	}
	return append(recs, record.Record{Time: base.Add(-time.Minute).UnixNano(), Tenant: "acme",
		Stream: []record.Field{{Name: "app", Value: "acme-api"}}, Message: "acme error"})
}

// lokiGet sends a request as Grafana's Loki data source does (its
// parameters, its X-Query-Tags header) and decodes the JSON answer.
func lokiGet(t *testing.T, base, path string, params url.Values, hdr map[string]string) (int, map[string]any, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path+"?"+params.Encode(), nil)
	req.Header.Set("X-Query-Tags", "Source=grafana")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("%s: answer is not JSON: %v: %s", path, err, body)
		}
		if m["status"] != "success" {
			t.Fatalf("%s: status %v", path, m["status"])
		}
	}
	return resp.StatusCode, m, string(body)
}

// nativeEntries runs a Sluice query over [from, to) and returns
// "time message" of its records, newest first.
func nativeEntries(t *testing.T, base, q string, from, to time.Time) []string {
	t.Helper()
	code, body := get(t, base+"/api/v1/query?"+url.Values{"query": {q}, "limit": {"1000"},
		"from": {from.Format(time.RFC3339Nano)}, "to": {to.Format(time.RFC3339Nano)}}.Encode())
	if code != 200 {
		t.Fatalf("native %s: %d %s", q, code, body)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		if line == "" {
			continue
		}
		var m map[string]string
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		ts, _ := time.Parse(time.RFC3339Nano, m["_time"])
		out = append(out, strconv.FormatInt(ts.UnixNano(), 10)+" "+m["_msg"])
	}
	return out
}

// streamEntries flattens a streams answer to "time line", in answer order
// within each stream, streams sorted by labels.
func streamEntries(t *testing.T, m map[string]any) (entries []string, labels []string) {
	t.Helper()
	data := m["data"].(map[string]any)
	if data["resultType"] != "streams" {
		t.Fatalf("resultType %v", data["resultType"])
	}
	if _, ok := data["stats"].(map[string]any)["summary"]; !ok {
		t.Fatalf("no stats.summary in %v", data)
	}
	for _, s := range data["result"].([]any) {
		st := s.(map[string]any)
		lb, _ := json.Marshal(st["stream"])
		labels = append(labels, string(lb))
		for _, v := range st["values"].([]any) {
			pair := v.([]any)
			entries = append(entries, pair[0].(string)+" "+pair[1].(string))
		}
	}
	return entries, labels
}

func TestLokiGrafanaRequests(t *testing.T) {
	base := time.Now().Truncate(time.Minute)
	srv, _ := newTestServer(t, lokiTestRecords(base), QueryLimits{})
	start, end := base.Add(-time.Hour), base
	ns := func(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) }
	// Explore's logs query, as Grafana 11's Loki data source sends it.
	rangeParams := func(q, direction string) url.Values {
		return url.Values{"direction": {direction}, "end": {ns(end)}, "limit": {"1000"}, "query": {q},
			"start": {ns(start)}, "step": {"2000ms"}}
	}

	t.Run("logs backward and forward", func(t *testing.T) {
		want := nativeEntries(t, srv.URL, `_stream:{app="api"} AND _msg:/error/`, start, end)
		if len(want) != 10 {
			t.Fatalf("native query found %d records, want 10", len(want))
		}
		_, m, body := lokiGet(t, srv.URL, "/loki/api/v1/query_range", rangeParams(`{app="api"} |= "error"`, "backward"), nil)
		got, labels := streamEntries(t, m)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("backward:\n got %q\nwant %q\n%s", got, want, body)
		}
		if strings.Join(labels, "") != `{"app":"api","host":"web-1"}` {
			t.Errorf("stream labels %s", labels)
		}
		_, m, _ = lokiGet(t, srv.URL, "/loki/api/v1/query_range", rangeParams(`{app="api"} |= "error"`, "forward"), nil)
		got, _ = streamEntries(t, m)
		sort.Strings(want)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("forward:\n got %q\nwant %q", got, want)
		}
	})

	t.Run("json, label filter, line_format", func(t *testing.T) {
		_, m, _ := lokiGet(t, srv.URL, "/loki/api/v1/query_range",
			rangeParams(`{app="api"} | json | status >= 500 | line_format "{{.status}} {{.msg}}"`, "backward"), nil)
		got, labels := streamEntries(t, m)
		sort.Strings(got)
		if len(got) != 10 || !strings.HasSuffix(got[0], " 500 req 27") || !strings.HasSuffix(got[9], " 500 req 0") {
			t.Errorf("got %q", got)
		}
		for _, l := range labels { // as Loki, the parsed fields are labels
			if !strings.Contains(l, `"app":"api","host":"web-1","level":"error","msg":"req `) || !strings.Contains(l, `"status":"500"`) {
				t.Errorf("labels %s", l)
			}
		}
	})

	t.Run("metric range", func(t *testing.T) {
		// A dashboard's time series panel: sum by level, step = range.
		p := rangeParams(`sum by (level) (count_over_time({app=~"api|web"} | logfmt | json [1m]))`, "backward")
		p.Set("step", "60")
		_, m, body := lokiGet(t, srv.URL, "/loki/api/v1/query_range", p, nil)
		data := m["data"].(map[string]any)
		if data["resultType"] != "matrix" {
			t.Fatalf("resultType %v: %s", data["resultType"], body)
		}
		totals := map[string]float64{}
		for _, s := range data["result"].([]any) {
			st := s.(map[string]any)
			level, _ := st["metric"].(map[string]any)["level"].(string)
			for _, v := range st["values"].([]any) {
				pair := v.([]any)
				if _, ok := pair[0].(float64); !ok {
					t.Fatalf("sample time %T, want a number", pair[0])
				}
				f, err := strconv.ParseFloat(pair[1].(string), 64)
				if err != nil {
					t.Fatal(err)
				}
				totals[level] += f
			}
		}
		_, native := get(t, srv.URL+"/api/v1/query?"+url.Values{"query": {`_stream:{app=~"api|web"} | unpack_logfmt | unpack_json | stats count() as n by level`},
			"from": {start.Format(time.RFC3339)}, "to": {end.Format(time.RFC3339)}}.Encode())
		for _, line := range strings.Split(strings.TrimSpace(native), "\n") {
			var row struct {
				Level string  `json:"level"`
				N     float64 `json:"n"`
			}
			_ = json.Unmarshal([]byte(line), &row)
			if totals[row.Level] != row.N {
				t.Errorf("level %q: Loki answer adds up to %g, sluice query counts %g (%s)", row.Level, totals[row.Level], row.N, body)
			}
		}
		if len(totals) != 2 {
			t.Errorf("levels %v", totals)
		}
	})

	t.Run("instant", func(t *testing.T) {
		want := len(nativeEntries(t, srv.URL, `_stream:{app=~".+"}`, end.Add(-time.Hour), end))
		_, m, body := lokiGet(t, srv.URL, "/loki/api/v1/query", url.Values{"query": {`sum(count_over_time({app=~".+"}[1h]))`},
			"time": {ns(end)}, "direction": {"backward"}, "limit": {"100"}}, nil)
		data := m["data"].(map[string]any)
		res := data["result"].([]any)
		if data["resultType"] != "vector" || len(res) != 1 {
			t.Fatalf("%s", body)
		}
		v := res[0].(map[string]any)["value"].([]any)
		if v[1] != strconv.Itoa(want) || v[0].(float64) != float64(end.Unix()) {
			t.Errorf("instant value %v, want [%d, %q]", v, end.Unix(), strconv.Itoa(want))
		}
		// Grafana's connection test.
		_, m, _ = lokiGet(t, srv.URL, "/loki/api/v1/query", url.Values{"query": {`vector(1)+vector(1)`}, "time": {ns(end)}}, nil)
		if got := m["data"].(map[string]any)["result"].([]any)[0].(map[string]any)["value"].([]any)[1]; got != "2" {
			t.Errorf("vector(1)+vector(1) = %v", got)
		}
	})

	t.Run("labels, values, series, tenant", func(t *testing.T) {
		span := url.Values{"start": {ns(start)}, "end": {ns(end)}}
		_, m, _ := lokiGet(t, srv.URL, "/loki/api/v1/labels", span, nil)
		if fmt.Sprint(m["data"]) != "[app host]" {
			t.Errorf("labels %v", m["data"])
		}
		_, m, _ = lokiGet(t, srv.URL, "/loki/api/v1/label/app/values", span, nil)
		if fmt.Sprint(m["data"]) != "[api web]" {
			t.Errorf("values %v", m["data"])
		}
		_, m, _ = lokiGet(t, srv.URL, "/loki/api/v1/label/app/values", span, map[string]string{"X-Scope-OrgID": "acme"})
		if fmt.Sprint(m["data"]) != "[acme-api]" {
			t.Errorf("acme's values %v", m["data"])
		}
		code, body := get(t, srv.URL+"/loki/api/v1/index/stats?"+url.Values{"query": {`{app="web"}`}, "start": {ns(start)}, "end": {ns(end)}}.Encode())
		var bytes int
		for _, e := range nativeEntries(t, srv.URL, `_stream:{app="web"}`, start, end) {
			bytes += len(e) - len(strings.SplitN(e, " ", 2)[0]) - 1
		}
		if code != 200 || !strings.Contains(body, fmt.Sprintf(`{"streams":1,"chunks":0,"bytes":%d,"entries":15}`, bytes)) {
			t.Errorf("index/stats: %d %s (want %d bytes)", code, body, bytes)
		}
		p := url.Values{"match[]": {`{app="web"}`}, "start": {ns(start)}, "end": {ns(end)}}
		_, m, _ = lokiGet(t, srv.URL, "/loki/api/v1/series", p, nil)
		if b, _ := json.Marshal(m["data"]); string(b) != `[{"app":"web","host":"web-2"}]` {
			t.Errorf("series %s", b)
		}
	})

	t.Run("refused", func(t *testing.T) {
		for q, want := range map[string]string{
			`{app="api"} | pattern "<a>"`:                          "the pattern parser",
			`sum without (host) (rate({app="api"}[1m]))`:           "without",
			`quantile_over_time(0.5, {app="api"} | unwrap x [1m])`: "quantile_over_time",
		} {
			code, _, body := lokiGet(t, srv.URL, "/loki/api/v1/query_range", rangeParams(q, "backward"), nil)
			if code != 400 || !strings.Contains(body, want) || !strings.Contains(body, "unsupported") {
				t.Errorf("%s: %d %s, want 400 naming %q", q, code, body, want)
			}
		}
		code, _, body := lokiGet(t, srv.URL, "/loki/api/v1/query", url.Values{"query": {`{app="api"}`}}, nil)
		if code != 400 || !strings.Contains(body, "instant query") {
			t.Errorf("log instant query: %d %s", code, body)
		}
	})
}

// TestLokiTailWebSocket tails as Grafana's live view does, with a real
// WebSocket client: the recent lines first, then a new one as it is
// stored.
func TestLokiTailWebSocket(t *testing.T) {
	base := time.Now().Truncate(time.Minute)
	srv, p := newTestServer(t, lokiTestRecords(base), QueryLimits{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(srv.URL, "http") + "/loki/api/v1/tail?" + url.Values{
		"query": {`{app="web"} |= "took"`}, "limit": {"2"}, "start": {strconv.FormatInt(base.Add(-time.Hour).UnixNano(), 10)}}.Encode()
	conn, resp, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	defer conn.CloseNow()
	type msg struct {
		Streams []struct {
			Stream map[string]string `json:"stream"`
			Values [][2]string       `json:"values"`
		} `json:"streams"`
	}
	read := func() msg {
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var m msg
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		return m
	}
	first := read()
	want := nativeEntries(t, srv.URL, `_stream:{app="web"} AND _msg:/took/`, base.Add(-time.Hour), base)[:2]
	if len(first.Streams) != 2 || first.Streams[0].Values[0][0]+" "+first.Streams[0].Values[0][1] != want[1] ||
		first.Streams[1].Values[0][0]+" "+first.Streams[1].Values[0][1] != want[0] {
		t.Fatalf("history %+v, want %q oldest first", first, want)
	}
	// Tail subscribes after the history: wait until the live tail holds
	// its slot before storing the new record.
	deadline := time.Now().Add(10 * time.Second)
	for tailsRunning(t, srv.URL) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	now := time.Now().UnixNano()
	if err := p.Ingest(ctx, []record.Record{
		{Time: now, Stream: []record.Field{{Name: "app", Value: "api"}}, Message: "took other stream"},
		{Time: now, Stream: []record.Field{{Name: "app", Value: "web"}, {Name: "host", Value: "web-2"}}, Message: "live took=1"},
	}); err != nil {
		t.Fatal(err)
	}
	live := read()
	if len(live.Streams) != 1 || live.Streams[0].Values[0][1] != "live took=1" || live.Streams[0].Stream["host"] != "web-2" ||
		live.Streams[0].Values[0][0] != strconv.FormatInt(now, 10) {
		t.Fatalf("live message %+v", live)
	}
}

func tailsRunning(t *testing.T, base string) int {
	_, body := get(t, base+"/metrics")
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, "sluice_tail_running "); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

// TestLokiRoutesAuth: the Loki routes need a key with role query and read
// the tenant the key and X-Scope-OrgID choose, as every query route.
func TestLokiRoutesAuth(t *testing.T) {
	guard, both, ingestOnly := testGuard(t)
	now := time.Now()
	recs := []record.Record{
		{Time: now.Add(-time.Minute).UnixNano(), Tenant: "a", Stream: []record.Field{{Name: "app", Value: "in-a"}}, Message: "x"},
		{Time: now.Add(-time.Minute).UnixNano(), Tenant: "b", Stream: []record.Field{{Name: "app", Value: "in-b"}}, Message: "y"},
	}
	reg := prometheus.NewRegistry()
	p := testpipeline.Open(t, recs, reg)
	srv := httptest.NewServer(New(Config{Backend: p, Limits: QueryLimits{DefaultLimit: 100, MaxLimit: 1000, MaxGroups: 1000, Timeout: 10 * time.Second, MaxConcurrent: 2},
		Gatherer: reg, Registry: reg, Log: slogDiscard(), Guard: guard}))
	defer srv.Close()
	for _, tt := range []struct {
		key, org string
		code     int
		body     string
	}{
		{"", "", http.StatusUnauthorized, ""},
		{ingestOnly, "a", http.StatusForbidden, ""},
		{both, "b", http.StatusOK, `"data":["in-b"]`},
		{both, "a", http.StatusOK, `"data":["in-a"]`},
		{both, "c", http.StatusForbidden, ""},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/loki/api/v1/label/app/values", nil)
		if tt.key != "" {
			req.Header.Set("Authorization", "Bearer "+tt.key)
		}
		if tt.org != "" {
			req.Header.Set("X-Scope-OrgID", tt.org)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code || !strings.Contains(string(b), tt.body) {
			t.Errorf("key %q org %q: %d %s, want %d %s", tt.key, tt.org, resp.StatusCode, b, tt.code, tt.body)
		}
	}
}
