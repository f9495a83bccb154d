package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestSystemAPIs(t *testing.T) {
	for _, tc := range []struct {
		sys                   system
		argHas, insert, query string
		fromKey, readyPath    string
	}{
		{system{binary: "sluice", config: "c.yaml"}, "--config", "/insert/jsonline", "/api/v1/query", "from", "/readyz"},
		{system{binary: "vl", vlogs: true}, "-retentionPeriod=100y", "/insert/jsonline?_msg_field=_msg&_stream_fields=service%2Chost%2Ccontainer&_time_field=_time", "/select/logsql/query", "start", "/health"},
	} {
		if args := strings.Join(tc.sys.args("/d", "127.0.0.1:1"), " "); !strings.Contains(args, tc.argHas) {
			t.Errorf("%s args %q lack %q", tc.sys.binary, args, tc.argHas)
		}
		if got := tc.sys.insertPath(); got != tc.insert {
			t.Errorf("%s insert path %q, want %q", tc.sys.binary, got, tc.insert)
		}
		if got := tc.sys.queryPath(); got != tc.query {
			t.Errorf("%s query path %q, want %q", tc.sys.binary, got, tc.query)
		}
		if f := tc.sys.queryForm("q", "a", "b", "1"); f.Get(tc.fromKey) != "a" || f.Get("query") != "q" {
			t.Errorf("%s query form %v", tc.sys.binary, f)
		}
		if got := tc.sys.readyPath(); got != tc.readyPath {
			t.Errorf("%s ready path %q, want %q", tc.sys.binary, got, tc.readyPath)
		}
	}
}

func TestReferenceReport(t *testing.T) {
	o := options{records: 10, runs: 1, queriesRepeat: 1, end: fakeEnd, vlogsBinary: "vl"}
	mk := func(rps float64, ms float64, correct bool) runResult {
		return runResult{Records: 10, RawBytes: 100, RecordsPerSec: figure(rps), DiskBytes: 50, PeakRSSIngest: 1e6,
			Queries: []queryResult{{Name: "term", MedianMs: figure(ms), Correct: correct}}}
	}
	for _, tc := range []struct {
		name      string
		ref       []runResult
		pass      bool
		wantLines []string
	}{
		{"sluice faster", []runResult{mk(50, 20, true)}, true, []string{"ingest records/s  2.00  met", "query term (idle, 24 h)  0.50  met"}},
		{"sluice slower", []runResult{mk(200, 5, true)}, true, []string{"ingest records/s  0.50  NOT met", "query term (idle, 24 h)  2.00  NOT met"}},
		{"reference wrong", []runResult{mk(50, 20, false)}, false, []string{"victorialogs run 1: query term"}},
		{"reference missing", nil, false, []string{"RESULT  FAIL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := newReport(o, []runResult{mk(100, 10, true)}, nil)
			rep.addReference(o, tc.ref)
			var out bytes.Buffer
			if err := rep.writeTable(&out); err != nil {
				t.Fatal(err)
			}
			if rep.Pass != tc.pass {
				t.Errorf("pass = %v, want %v", rep.Pass, tc.pass)
			}
			text := strings.Join(strings.Fields(out.String()), " ")
			for _, w := range tc.wantLines {
				if !strings.Contains(text, strings.Join(strings.Fields(w), " ")) {
					t.Errorf("report lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestBulkBody(t *testing.T) {
	for _, tc := range []struct{ lines, want string }{
		{"{\"a\":1}\n{\"b\":2}\n", bulkAction + "\n{\"a\":1}\n" + bulkAction + "\n{\"b\":2}\n"},
		{"{\"a\":1}", bulkAction + "\n{\"a\":1}"},
		{"", ""},
	} {
		if got := string(appendBulk(nil, []byte(tc.lines))); got != tc.want {
			t.Errorf("appendBulk(%q) = %q, want %q", tc.lines, got, tc.want)
		}
	}
	if p := (system{}).bulkPath(); p != "/_bulk?filter_path="+bulkFilterPath {
		t.Errorf("sluice bulk path %q", p)
	}
	if p := (system{vlogs: true}).bulkPath(); !strings.HasPrefix(p, "/insert/elasticsearch/_bulk?") || !strings.Contains(p, "_time_field=_time") {
		t.Errorf("victorialogs bulk path %q", p)
	}
	if !bulkItemErrors([]byte(`{"took":1,"errors":true,"items":[]}`)) || bulkItemErrors([]byte(`{"took":1,"errors":false,"items":[]}`)) {
		t.Error("bulkItemErrors misreads an answer")
	}
}
