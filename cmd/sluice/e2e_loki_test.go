package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"
	"google.golang.org/protobuf/encoding/protowire"
)

// lokiEntry writes logproto.EntryAdapter{timestamp=1 (Timestamp{seconds=1,
// nanos=2}), line=2, structuredMetadata=3 (LabelPairAdapter{name=1,
// value=2})}.
func lokiEntry(ts time.Time, line string, meta ...string) []byte {
	var tsb []byte
	tsb = protowire.AppendTag(tsb, 1, protowire.VarintType)
	tsb = protowire.AppendVarint(tsb, uint64(ts.Unix()))
	tsb = protowire.AppendTag(tsb, 2, protowire.VarintType)
	tsb = protowire.AppendVarint(tsb, uint64(ts.Nanosecond()))
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendBytes(b, tsb)
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendString(b, line)
	for i := 0; i+1 < len(meta); i += 2 {
		var pair []byte
		pair = protowire.AppendTag(pair, 1, protowire.BytesType)
		pair = protowire.AppendString(pair, meta[i])
		pair = protowire.AppendTag(pair, 2, protowire.BytesType)
		pair = protowire.AppendString(pair, meta[i+1])
		b = protowire.AppendTag(b, 3, protowire.BytesType)
		b = protowire.AppendBytes(b, pair)
	}
	return b
}

// lokiStream writes logproto.StreamAdapter{labels=1, entries=2} as a
// PushRequest.streams (field 1) element.
func lokiStream(dst []byte, labels string, entries ...[]byte) []byte {
	var s []byte
	s = protowire.AppendTag(s, 1, protowire.BytesType)
	s = protowire.AppendString(s, labels)
	for _, e := range entries {
		s = protowire.AppendTag(s, 2, protowire.BytesType)
		s = protowire.AppendBytes(s, e)
	}
	dst = protowire.AppendTag(dst, 1, protowire.BytesType)
	return protowire.AppendBytes(dst, s)
}

func TestE2ELoki(t *testing.T) {
	needBinary(t)
	t.Parallel()
	s := startServer(t, t.TempDir(), fmt.Sprintf(`
forward: {enabled: false}
syslog: {enabled: false}
otlp: {grpc_addr: %q}
`, freeAddr(t)))
	now := time.Now()

	// 1. Protobuf + snappy, as Promtail and Alloy send it, for a tenant:
	// two streams of 150 entries, every third with structured metadata.
	var push []byte
	for _, app := range []string{"web", "worker"} {
		var entries [][]byte
		for i := range 150 {
			line := fmt.Sprintf("%s request %d done", app, i)
			if i%3 == 0 {
				entries = append(entries, lokiEntry(now.Add(time.Duration(i)*time.Millisecond), line, "trace_id", fmt.Sprintf("t%d", i), "pod", app+"-0"))
			} else {
				entries = append(entries, lokiEntry(now.Add(time.Duration(i)*time.Millisecond), line))
			}
		}
		push = lokiStream(push, fmt.Sprintf(`{job="lokiproto", app=%q, path="C:\\logs\\%s"}`, app, app), entries...)
	}
	status, answer, _ := s.post("/loki/api/v1/push", "application/x-protobuf", snappy.Encode(nil, push), "X-Scope-OrgID", "team-loki")
	if status != 204 {
		t.Fatalf("protobuf push: status %d: %s", status, answer)
	}

	// 2. JSON with gzip, default tenant.
	var js strings.Builder
	js.WriteString(`{"streams":[{"stream":{"job":"lokijson","env":"prod"},"values":[`)
	for i := range 100 {
		if i > 0 {
			js.WriteByte(',')
		}
		fmt.Fprintf(&js, `["%d","json line %d",{"user":"u%d"}]`, now.Add(time.Duration(i)*time.Millisecond).UnixNano(), i, i%4)
	}
	js.WriteString(`]}]}`)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(js.String()))
	_ = zw.Close()
	status, answer, _ = s.post("/loki/api/v1/push", "application/json", gz.Bytes(), "Content-Encoding", "gzip")
	if status != 204 {
		t.Fatalf("JSON push: status %d: %s", status, answer)
	}

	// 3. Bad input: one stream with a broken label set (rejected, the good
	// stream is stored), a body that is not snappy, and backpressure-free
	// JSON garbage.
	bad := lokiStream(nil, `{job="lokipartial"}`, lokiEntry(now, "good"))
	bad = lokiStream(bad, `{job="unterminated}`, lokiEntry(now, "bad"))
	status, answer, _ = s.post("/loki/api/v1/push", "application/x-protobuf", snappy.Encode(nil, bad))
	if status != 400 || !strings.Contains(answer, "1 entries rejected, 1 stored") {
		t.Fatalf("partial push: status %d: %s", status, answer)
	}
	status, answer, _ = s.post("/loki/api/v1/push", "application/x-protobuf", push)
	if status != 400 || !strings.Contains(answer, "snappy") {
		t.Fatalf("uncompressed push: status %d: %s", status, answer)
	}
	status, answer, _ = s.post("/loki/api/v1/push", "application/json", []byte(`{"streams":[{"values":[["1"]]}]}`))
	if status != 400 {
		t.Fatalf("bad JSON push: status %d: %s", status, answer)
	}

	for _, c := range []struct {
		q      string
		tenant string
		want   int
	}{
		{`job:"lokiproto"`, "team-loki", 300},
		{`job:"lokiproto"`, "", 0},
		{`job:"lokiproto" AND app:worker`, "team-loki", 150},
		{`job:"lokiproto" AND pod:"web-0"`, "team-loki", 50},
		{`job:"lokijson" AND env:prod`, "", 100},
		{`job:"lokijson" AND user:u1`, "", 25},
		{`job:"lokipartial"`, "", 1},
		{`"bad"`, "", 0},
	} {
		var extra []string
		if c.tenant != "" {
			extra = []string{"--tenant", c.tenant}
		}
		if got := otlpCount(s, c.q, extra...); got != c.want {
			t.Errorf("%s (tenant %q): %d records, want %d", c.q, c.tenant, got, c.want)
		}
	}
	rows := s.queryRows(`trace_id:t42 AND app:worker`, "--tenant", "team-loki")
	if len(rows) != 1 || rows[0]["_msg"] != "worker request 42 done" ||
		rows[0]["_stream"] != `{app="worker",job="lokiproto",path="C:\\logs\\worker"}` {
		t.Fatalf("trace_id t42: %v", rows)
	}
	lokiReadMatchesQuery(t, s, now)
	s.stop()
}

// lokiReadMatchesQuery reads the pushed records back through Loki's read
// API, with requests shaped as Grafana's Loki data source sends them, and
// checks the answers against what `sluice query` prints for the same
// records (docs/grafana.md).
func lokiReadMatchesQuery(t *testing.T, s *server, now time.Time) {
	t.Helper()
	lokiGet := func(path string, params url.Values) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, s.url+path+"?"+params.Encode(), nil)
		req.Header.Set("X-Scope-OrgID", "team-loki")
		req.Header.Set("X-Query-Tags", "Source=grafana")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: status %d: %v", path, resp.StatusCode, err)
		}
		return m["data"].(map[string]any)
	}
	ns := func(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) }
	// Explore's logs query.
	data := lokiGet("/loki/api/v1/query_range", url.Values{"query": {`{job="lokiproto", app="worker"} |= "request 4"`},
		"start": {ns(now.Add(-time.Hour))}, "end": {ns(now.Add(time.Hour))}, "limit": {"1000"}, "direction": {"backward"}, "step": {"2000ms"}})
	var got []string
	for _, st := range data["result"].([]any) {
		for _, v := range st.(map[string]any)["values"].([]any) {
			got = append(got, v.([]any)[0].(string)+" "+v.([]any)[1].(string))
		}
	}
	var want []string
	for _, row := range s.queryRows(`_stream:{job="lokiproto",app="worker"} AND _msg:/request 4/`, "--tenant", "team-loki") {
		ts, _ := time.Parse(time.RFC3339Nano, row["_time"].(string))
		want = append(want, strconv.FormatInt(ts.UnixNano(), 10)+" "+row["_msg"].(string))
	}
	if len(want) != 11 || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Loki query_range:\n got %q\nwant %q (sluice query)", got, want)
	}
	// A metric panel's instant query.
	data = lokiGet("/loki/api/v1/query", url.Values{"query": {`sum by (app) (count_over_time({job="lokiproto"}[1h]))`}, "time": {ns(now.Add(time.Minute))}})
	counts := map[string]string{}
	for _, r := range data["result"].([]any) {
		m := r.(map[string]any)
		counts[m["metric"].(map[string]any)["app"].(string)] = m["value"].([]any)[1].(string)
	}
	for _, row := range s.queryRows(`job:"lokiproto" | stats count() as n by app`, "--tenant", "team-loki") {
		if n := fmt.Sprint(row["n"]); counts[row["app"].(string)] != n {
			t.Errorf("app %v: Loki instant query %q, sluice query %s", row["app"], counts[row["app"].(string)], n)
		}
	}
	if len(counts) != 2 {
		t.Errorf("instant query series: %v", counts)
	}
	// The label browser.
	req, _ := http.NewRequest(http.MethodGet, s.url+"/loki/api/v1/labels?start="+ns(now.Add(-time.Hour))+"&end="+ns(now.Add(time.Hour)), nil)
	req.Header.Set("X-Scope-OrgID", "team-loki")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var labels struct{ Data []string }
	if err := json.NewDecoder(resp.Body).Decode(&labels); err != nil || strings.Join(labels.Data, ",") != "app,job,path" {
		t.Errorf("labels %v (%v)", labels.Data, err)
	}
}
