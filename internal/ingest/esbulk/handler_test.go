package esbulk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/tenant"
)

// recordingSink keeps what it is given, or fails with err.
type recordingSink struct {
	mu    sync.Mutex
	calls [][]record.Record
	n     int
	err   error
}

func (s *recordingSink) Ingest(_ context.Context, recs []record.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, recs)
	if s.err == nil {
		s.n += len(recs)
	}
	return s.err
}

type bulkAnswer struct {
	Took   *int64 `json:"took"`
	Errors bool   `json:"errors"`
	Items  []map[string]struct {
		Index       *string `json:"_index"`
		ID          *string `json:"_id"`
		Version     int     `json:"_version"`
		Result      string  `json:"result"`
		Status      int     `json:"status"`
		SeqNo       *int64  `json:"_seq_no"`
		PrimaryTerm int     `json:"_primary_term"`
		Shards      *struct {
			Total, Successful, Failed int
		} `json:"_shards"`
		Error *struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"error"`
	} `json:"items"`
}

type esErrorAnswer struct {
	Error struct {
		RootCause []struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"root_cause"`
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
	Status int `json:"status"`
}

func serve(t *testing.T, h http.Handler, method, target string, body []byte, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	tenant.FromHeader(h).ServeHTTP(rec, req)
	if got := rec.Header().Get("X-Elastic-Product"); got != "Elasticsearch" {
		t.Errorf("%s %s: X-Elastic-Product = %q", method, target, got)
	}
	if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
		t.Errorf("%s %s: Content-Type = %q", method, target, got)
	}
	return rec
}

func ndjson(lines ...string) []byte {
	return []byte(strings.Join(lines, "\n") + "\n")
}

func TestBulkItems(t *testing.T) {
	sink := &recordingSink{}
	h := NewHandler(sink, DefaultConfig(), nil, nil)
	body := ndjson(
		`{"index":{"_index":"logs","_id":"a1"}}`,
		`{"@timestamp":"2024-01-02T03:04:05Z","message":"one","host":{"name":"h1"},"level":"info"}`,
		`{"create":{}}`,
		`{"message":"two"}`,
		`{"update":{"_id":"a1"}}`,
		`{"doc":{"level":"warn"}}`,
		`{"delete":{"_id":"a1"}}`,
		`{"upsert":{}}`,
		`{"message":"ignored"}`,
		`{"index":{}}`,
		`{"message":"bad time","@timestamp":"tomorrow"}`,
		`{"index":{}}`,
		`not json`,
		`{"index":{"_id":""}}`,
		`{"message":"empty id"}`,
		`{"index":{"_id":7}}`,
		`{"message":"three"}`,
	)
	rec := serve(t, h, http.MethodPost, "/fallback/_bulk", body, map[string]string{"X-Scope-OrgID": "acme"})
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d; body %s", rec.Code, rec.Body)
	}
	var a bulkAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatalf("answer %s: %v", rec.Body, err)
	}
	if a.Took == nil || !a.Errors {
		t.Errorf("took %v errors %v, want took present and errors true", a.Took, a.Errors)
	}
	want := []struct {
		action, index, id string
		status            int
		errType           string
	}{
		{"index", "logs", "a1", 201, ""},
		{"create", "fallback", "", 201, ""},
		{"update", "fallback", "a1", 400, typeValidation},
		{"delete", "fallback", "a1", 400, typeValidation},
		{"upsert", "fallback", "", 400, typeIllegalArgument},
		{"index", "fallback", "", 400, typeDocumentParsing},
		{"index", "fallback", "", 400, typeDocumentParsing},
		{"index", "fallback", "", 400, typeValidation},
		{"index", "fallback", "7", 201, ""},
	}
	if len(a.Items) != len(want) {
		t.Fatalf("%d items, want %d: %s", len(a.Items), len(want), rec.Body)
	}
	seq := int64(0)
	for i, w := range want {
		it, ok := a.Items[i][w.action]
		if !ok || len(a.Items[i]) != 1 {
			t.Errorf("item %d = %v, want one %q", i, a.Items[i], w.action)
			continue
		}
		if it.Status != w.status || it.Index == nil || *it.Index != w.index {
			t.Errorf("item %d: status %d index %v, want %d %q", i, it.Status, it.Index, w.status, w.index)
		}
		if w.id != "" && (it.ID == nil || *it.ID != w.id) {
			t.Errorf("item %d: _id %v, want %q", i, it.ID, w.id)
		}
		if w.status == 201 {
			if it.Result != "created" || it.Version != 1 || it.PrimaryTerm != 1 || it.SeqNo == nil || *it.SeqNo != seq ||
				it.Shards == nil || it.Shards.Total != 1 || it.Shards.Successful != 1 || it.Error != nil {
				t.Errorf("item %d: not a created item: %+v", i, it)
			}
			if it.ID == nil || *it.ID == "" {
				t.Errorf("item %d: no _id", i)
			}
			seq++
			continue
		}
		if it.Error == nil || it.Error.Type != w.errType || it.Error.Reason == "" {
			t.Errorf("item %d: error %+v, want type %s with a reason", i, it.Error, w.errType)
		}
	}

	if len(sink.calls) != 1 || len(sink.calls[0]) != 3 {
		t.Fatalf("sink calls %d, want one with 3 records", len(sink.calls))
	}
	first := sink.calls[0][0]
	if first.Message != "one" || first.Tenant != "acme" || first.StreamString() != `{host.name="h1"}` ||
		first.Time != time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano() {
		t.Errorf("first record = %+v", first)
	}
	if v, _ := first.Get("_index"); v != "logs" {
		t.Errorf("_index = %q", v)
	}
	if v, _ := first.Get("_id"); v != "a1" {
		t.Errorf("_id = %q", v)
	}
	// A generated id is answered, not stored.
	second := sink.calls[0][1]
	if v, ok := second.Get("_id"); ok {
		t.Errorf("generated _id %q stored", v)
	}
	if id := a.Items[1]["create"].ID; id == nil || len(*id) != idLen {
		t.Errorf("generated _id %v, want %d characters", id, idLen)
	}
}

func TestBulkRequestErrors(t *testing.T) {
	tests := []struct {
		name     string
		target   string
		body     []byte
		header   map[string]string
		cfg      func(*Config)
		sinkErr  error
		status   int
		errType  string
		retry    string
		sinkCall bool
	}{
		{name: "malformed action", body: ndjson(`{"index":`, `{}`), status: 400, errType: typeIllegalArgument},
		{name: "action not an object", body: ndjson(`["index"]`), status: 400, errType: typeIllegalArgument},
		{name: "two actions on one line", body: ndjson(`{"index":{},"create":{}}`, `{}`), status: 400, errType: typeIllegalArgument},
		{name: "metadata not an object", body: ndjson(`{"index":"logs"}`, `{}`), status: 400, errType: typeIllegalArgument},
		{name: "missing source", body: []byte(`{"index":{"_index":"a"}}`), status: 400, errType: typeIllegalArgument},
		{name: "empty body", body: nil, status: 400, errType: typeValidation},
		{name: "action line too long", cfg: func(c *Config) { c.Record.MaxLineBytes = 32 },
			body: ndjson(`{"index":{"_index":"`+strings.Repeat("a", 64)+`"}}`, `{}`), status: 400, errType: typeIllegalArgument},
		{name: "unsupported encoding", body: ndjson(`{"index":{"_index":"a"}}`, `{}`), header: map[string]string{"Content-Encoding": "br"},
			status: 415, errType: typeUnsupportedEncoding},
		{name: "corrupt gzip", body: []byte("nope"), header: map[string]string{"Content-Encoding": "gzip"}, status: 400, errType: typeParse},
		{name: "too large", cfg: func(c *Config) { c.MaxRequestBytes = 64 },
			body: ndjson(`{"index":{"_index":"a"}}`, `{"message":"`+strings.Repeat("x", 100)+`"}`), status: 413, errType: typeContentTooLong},
		{name: "backpressure", body: ndjson(`{"index":{"_index":"a"}}`, `{}`), sinkErr: &ingest.BackpressureError{RetryAfter: time.Second, Reason: "full"},
			status: 429, errType: typeRejectedExecution, retry: "1", sinkCall: true},
		{name: "sink failure", body: ndjson(`{"index":{"_index":"a"}}`, `{}`), sinkErr: errors.New("wal broken"),
			status: 503, errType: typeUnavailable, sinkCall: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			sink := &recordingSink{err: tt.sinkErr}
			target := tt.target
			if target == "" {
				target = "/_bulk"
			}
			rec := serve(t, NewHandler(sink, cfg, nil, nil), http.MethodPost, target, tt.body, tt.header)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			var a esErrorAnswer
			if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
				t.Fatalf("answer %s: %v", rec.Body, err)
			}
			if a.Status != tt.status || a.Error.Type != tt.errType || a.Error.Reason == "" ||
				len(a.Error.RootCause) != 1 || a.Error.RootCause[0].Type != tt.errType {
				t.Errorf("answer %s, want type %s", rec.Body, tt.errType)
			}
			if got := rec.Header().Get("Retry-After"); got != tt.retry {
				t.Errorf("Retry-After = %q, want %q", got, tt.retry)
			}
			if (len(sink.calls) > 0) != tt.sinkCall {
				t.Errorf("sink called %d times", len(sink.calls))
			}
		})
	}
}

func TestBulkGzipAndQuery(t *testing.T) {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write(ndjson(`{"create":{"_index":"x"}}`, `{"text":"hi","app":"a","when":"1700000000"}`))
	_ = zw.Close()
	sink := &recordingSink{}
	h := NewHandler(sink, DefaultConfig(), nil, nil)
	rec := serve(t, h, http.MethodPut, "/_bulk?_msg_field=text&_stream_fields=app&_time_field=when", b.Bytes(),
		map[string]string{"Content-Encoding": "gzip"})
	if rec.Code != 200 || sink.n != 1 {
		t.Fatalf("status %d, %d records; body %s", rec.Code, sink.n, rec.Body)
	}
	r := sink.calls[0][0]
	if r.Message != "hi" || r.StreamString() != `{app="a"}` || r.Time != 1700000000e9 {
		t.Errorf("record = %+v", r)
	}
}

func TestRoutes(t *testing.T) {
	h := NewHandler(&recordingSink{}, DefaultConfig(), nil, nil)
	tests := []struct {
		method, target string
		status         int
	}{
		{http.MethodGet, "/", 200},
		{http.MethodHead, "/", 200},
		{http.MethodPost, "/", 405},
		{http.MethodGet, "/_bulk", 405},
		{http.MethodDelete, "/logs/_bulk", 405},
		{http.MethodPost, "/a/b/_bulk", 400},
		{http.MethodGet, "/_cat/indices", 400},
	}
	for _, tt := range tests {
		rec := serve(t, h, tt.method, tt.target, nil, nil)
		if rec.Code != tt.status {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.target, rec.Code, tt.status)
		}
	}
}

func TestInfo(t *testing.T) {
	rec := serve(t, NewHandler(&recordingSink{}, DefaultConfig(), nil, nil), http.MethodGet, "/", nil, nil)
	var doc struct {
		Name        string `json:"name"`
		ClusterName string `json:"cluster_name"`
		ClusterUUID string `json:"cluster_uuid"`
		Version     struct {
			Number                           string `json:"number"`
			BuildFlavor                      string `json:"build_flavor"`
			LuceneVersion                    string `json:"lucene_version"`
			MinimumWireCompatibilityVersion  string `json:"minimum_wire_compatibility_version"`
			MinimumIndexCompatibilityVersion string `json:"minimum_index_compatibility_version"`
		} `json:"version"`
		Tagline string `json:"tagline"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.ClusterName != "sluice" || doc.Name == "" || doc.ClusterUUID == "" || doc.Version.Number != "8.17.0" ||
		doc.Version.BuildFlavor != "default" || doc.Version.LuceneVersion == "" || doc.Version.MinimumWireCompatibilityVersion == "" ||
		doc.Version.MinimumIndexCompatibilityVersion == "" || doc.Tagline != "You Know, for Search" {
		t.Errorf("info = %s", rec.Body)
	}
}

// FuzzBulk sends arbitrary bodies through the handler: it must never
// panic, never answer 5xx, and answer one item per action when it answers 200.
func FuzzBulk(f *testing.F) {
	for _, s := range []string{
		"{\"index\":{\"_index\":\"a\"}}\n{\"message\":\"x\"}\n",
		"{\"delete\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"create\":{\"_index\":\"a\"}}\n{}\n",
		"{\"update\":{\"_index\":\"a\",\"_id\":1}}\n{\"doc\":{}}\n",
		"{\"x\":{}}\n\n{\"index\":{}}\n[1]\n",
		"{\"index\":{\"_index\":\"a\"}}",
		"\xff\n\xfe",
	} {
		f.Add([]byte(s))
	}
	sink := &recordingSink{}
	h := NewHandler(sink, DefaultConfig(), nil, nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		before := sink.n
		req := httptest.NewRequest(http.MethodPost, "/idx/_bulk", bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("answer is not JSON: %q", rec.Body)
		}
		if rec.Code != http.StatusOK {
			return
		}
		var a bulkAnswer
		if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
			t.Fatalf("answer %s: %v", rec.Body, err)
		}
		created := 0
		for _, it := range a.Items {
			for _, v := range it {
				if v.Status == http.StatusCreated {
					created++
				}
			}
		}
		if created != sink.n-before {
			t.Fatalf("%d items created but the sink got %d records", created, sink.n-before)
		}
	})
}

// TestBulkLongSource checks that an over-long document fails only its item
// and that the following actions are read in step.
func TestBulkLongSource(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Record.MaxLineBytes = 100
	sink := &recordingSink{}
	body := ndjson(
		`{"index":{"_index":"a"}}`,
		`{"message":"`+strings.Repeat("x", 5000)+`"}`,
		`{"update":{"_index":"a","_id":"1"}}`,
		`{"doc":"`+strings.Repeat("x", 5000)+`"}`,
		`{"index":{"_index":"a"}}`,
		`{"message":"fine"}`,
	)
	rec := serve(t, NewHandler(sink, cfg, nil, nil), http.MethodPost, "/_bulk", body, nil)
	var a bulkAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil || rec.Code != 200 {
		t.Fatalf("status %d answer %s: %v", rec.Code, rec.Body, err)
	}
	if len(a.Items) != 3 || a.Items[0]["index"].Error.Type != typeDocumentParsing ||
		a.Items[1]["update"].Error.Type != typeValidation || a.Items[2]["index"].Status != 201 {
		t.Fatalf("items %s", rec.Body)
	}
	if sink.n != 1 || sink.calls[0][0].Message != "fine" {
		t.Errorf("sink got %d records", sink.n)
	}
}

// TestBulkTimeWindow: a document whose time is outside the window fails
// its own item with the reason; the others are stored.
func TestBulkTimeWindow(t *testing.T) {
	sink := &recordingSink{}
	cfg := DefaultConfig()
	cfg.Record.Window = ingest.NewTimeWindow(ingest.WindowConfig{MaxFuture: 48 * time.Hour}, nil)
	h := NewHandler(sink, cfg, nil, nil)
	body := ndjson(
		`{"create":{}}`, `{"message":"now"}`,
		`{"create":{}}`, `{"message":"ahead","@timestamp":"2100-01-01T00:00:00Z"}`,
	)
	rec := serve(t, h, http.MethodPost, "/logs/_bulk", body, nil)
	var a bulkAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("status %d, answer %s (%v)", rec.Code, rec.Body, err)
	}
	if len(a.Items) != 2 || !a.Errors {
		t.Fatalf("answer %s", rec.Body)
	}
	ok, bad := a.Items[0]["create"], a.Items[1]["create"]
	if ok.Status != http.StatusCreated || bad.Status != http.StatusBadRequest || bad.Error == nil ||
		bad.Error.Type != "document_parsing_exception" ||
		!strings.Contains(bad.Error.Reason, "failed to parse document on line [4]: time too far in the future: 2100-01-01T00:00:00Z is after") {
		t.Errorf("items %s", rec.Body)
	}
	if len(sink.calls) != 1 || len(sink.calls[0]) != 1 || sink.calls[0][0].Message != "now" {
		t.Errorf("stored %v", sink.calls)
	}
}

// TestBulkIndexField checks Config.IndexField: the index name goes to the
// named field, or nowhere when it is empty; a client's _id is stored
// either way.
func TestBulkIndexField(t *testing.T) {
	for _, tc := range []struct{ field, want string }{{"_index", "_index"}, {"es_index", "es_index"}, {"", ""}} {
		sink := &recordingSink{}
		cfg := DefaultConfig()
		cfg.IndexField = tc.field
		h := NewHandler(sink, cfg, nil, nil)
		body := ndjson(`{"create":{"_index":"logs"}}`, `{"message":"a"}`, `{"index":{"_index":"logs","_id":"x1"}}`, `{"message":"b"}`)
		if rec := serve(t, h, http.MethodPost, "/_bulk", body, nil); rec.Code != http.StatusOK {
			t.Fatalf("field %q: status %d: %s", tc.field, rec.Code, rec.Body)
		}
		if len(sink.calls) != 1 || len(sink.calls[0]) != 2 {
			t.Fatalf("field %q: sink calls %v", tc.field, sink.calls)
		}
		for i, r := range sink.calls[0] {
			for _, name := range []string{"_index", "es_index"} {
				v, ok := r.Get(name)
				if want := name == tc.want; ok != want || ok && v != "logs" {
					t.Errorf("field %q, record %d: %s = %q (%v)", tc.field, i, name, v, ok)
				}
			}
			if id, _ := r.Get("_id"); id != []string{"", "x1"}[i] {
				t.Errorf("field %q, record %d: _id %q", tc.field, i, id)
			}
		}
	}
}

// TestRecsCap: the second request gets its records slice sized (the
// sizing itself: ingest.TestRecordsSizer), and stores all its documents.
func TestRecsCap(t *testing.T) {
	sink := &recordingSink{}
	h := NewHandler(sink, DefaultConfig(), nil, nil)
	for _, n := range []int{3, 7} {
		var lines []string
		for i := range n {
			lines = append(lines, `{"create":{}}`, fmt.Sprintf(`{"message":"m%d"}`, i))
		}
		if rec := serve(t, h, http.MethodPost, "/logs/_bulk", ndjson(lines...), nil); rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	if len(sink.calls) != 2 || len(sink.calls[1]) != 7 || sink.calls[1][6].Message != "m6" {
		t.Errorf("stored %v, want 3 then 7 records", sink.calls)
	}
}
