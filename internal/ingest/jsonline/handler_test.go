package jsonline

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
	"github.com/klauspost/compress/zstd"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/tenant"
)

// recordingSink keeps what it is given, or fails with err.
type recordingSink struct {
	mu    sync.Mutex
	calls [][]record.Record
	err   error
}

func (s *recordingSink) Ingest(_ context.Context, recs []record.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, recs)
	return s.err
}

func (s *recordingSink) messages() []string {
	var out []string
	for _, call := range s.calls {
		for _, r := range call {
			out = append(out, r.Message)
		}
	}
	return out
}

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zst(t *testing.T, s string) []byte {
	t.Helper()
	w, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	return w.EncodeAll([]byte(s), nil)
}

type answer struct {
	Accepted int `json:"accepted"`
	Rejected int `json:"rejected"`
	Errors   []struct {
		Line  int    `json:"line"`
		Error string `json:"error"`
	} `json:"errors"`
	Error string `json:"error"`
}

func TestHandler(t *testing.T) {
	many := strings.Repeat("bad\n", 15) + `{"msg":"ok"}` + "\n"
	tests := []struct {
		name      string
		method    string
		query     string
		encoding  string
		body      []byte
		cfg       func(*Config)
		sinkErr   error
		status    int
		accepted  int
		rejected  int
		errLines  []int
		messages  []string // what the sink got, in one call
		wantError string   // in a request-level error answer
		retry     string
	}{
		{name: "all good", body: []byte(`{"msg":"a"}` + "\n" + `{"msg":"b"}` + "\n" + `{"msg":"c"}`),
			status: 200, accepted: 3, messages: []string{"a", "b", "c"}},
		{name: "partial rejects", body: []byte(`{"msg":"a"}` + "\nnot json\n" + `{"msg":"b"}` + "\n[1]\n" + `{"ts":"never"}` + "\n"),
			status: 200, accepted: 2, rejected: 3, errLines: []int{2, 4, 5}, messages: []string{"a", "b"}},
		{name: "all rejected", body: []byte("x\ny\n"), status: 400, rejected: 2, errLines: []int{1, 2}},
		{name: "empty body", body: nil, status: 200},
		{name: "blank lines and crlf", body: []byte("\r\n  \n" + `{"msg":"a"}` + "\r\n\r\n" + `{"msg":"b"}` + "\r\n"),
			status: 200, accepted: 2, messages: []string{"a", "b"}},
		{name: "oversize line skipped", cfg: func(c *Config) { c.Record.MaxLineBytes = 64 },
			body:   []byte(`{"msg":"a"}` + "\n" + `{"msg":"` + strings.Repeat("x", 10000) + `"}` + "\n" + `{"msg":"b"}` + "\n"),
			status: 200, accepted: 2, rejected: 1, errLines: []int{2}, messages: []string{"a", "b"}},
		{name: "errors listed are capped", body: []byte(many), status: 200, accepted: 1, rejected: 15,
			errLines: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, messages: []string{"ok"}},
		{name: "gzip", encoding: "gzip", body: gz(t, `{"msg":"a"}`+"\n"), status: 200, accepted: 1, messages: []string{"a"}},
		{name: "zstd", encoding: "zstd", body: zst(t, `{"msg":"a"}`+"\n"), status: 200, accepted: 1, messages: []string{"a"}},
		{name: "corrupt gzip", encoding: "gzip", body: []byte("nope"), status: 400, wantError: "gzip"},
		{name: "unknown encoding", encoding: "br", body: []byte(`{"msg":"a"}`), status: 415, wantError: "gzip, zstd"},
		{name: "too large", cfg: func(c *Config) { c.MaxRequestBytes = 100 },
			body: []byte(strings.Repeat(`{"msg":"a"}`+"\n", 20)), status: 413, wantError: "too large"},
		{name: "too large after decompression", cfg: func(c *Config) { c.MaxRequestBytes = 100 }, encoding: "gzip",
			body: gz(t, strings.Repeat(`{"msg":"a"}`+"\n", 20)), status: 413, wantError: "too large"},
		{name: "backpressure", body: []byte(`{"msg":"a"}`), sinkErr: &ingest.BackpressureError{RetryAfter: 2100 * time.Millisecond, Reason: "wal full"},
			status: 429, retry: "3", messages: []string{"a"}, wantError: "wal full"},
		{name: "sink failure", body: []byte(`{"msg":"a"}`), sinkErr: errors.New("disk on fire"),
			status: 503, messages: []string{"a"}, wantError: "disk on fire"},
		{name: "query overrides message field", query: "?_msg_field=text", body: []byte(`{"text":"t","msg":"m"}`),
			status: 200, accepted: 1, messages: []string{"t"}},
		{name: "GET is refused", method: http.MethodGet, status: 405, wantError: "POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			sink := &recordingSink{err: tt.sinkErr}
			h := NewHandler(sink, cfg, nil, nil)
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, "/insert/jsonline"+tt.query, bytes.NewReader(tt.body))
			if tt.encoding != "" {
				req.Header.Set("Content-Encoding", tt.encoding)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if got := rec.Header().Get("Retry-After"); got != tt.retry {
				t.Errorf("Retry-After = %q, want %q", got, tt.retry)
			}
			var a answer
			if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
				t.Fatalf("answer %q: %v", rec.Body, err)
			}
			if tt.wantError != "" {
				if !strings.Contains(a.Error, tt.wantError) {
					t.Errorf("error = %q, want it to mention %q", a.Error, tt.wantError)
				}
			} else {
				if a.Accepted != tt.accepted || a.Rejected != tt.rejected {
					t.Errorf("accepted %d rejected %d, want %d and %d", a.Accepted, a.Rejected, tt.accepted, tt.rejected)
				}
				var lines []int
				for _, e := range a.Errors {
					lines = append(lines, e.Line)
					if e.Error == "" {
						t.Errorf("line %d rejected without a reason", e.Line)
					}
				}
				if fmt.Sprint(lines) != fmt.Sprint(tt.errLines) {
					t.Errorf("error lines = %v, want %v", lines, tt.errLines)
				}
			}
			wantCalls := 0
			if len(tt.messages) > 0 {
				wantCalls = 1
			}
			if len(sink.calls) != wantCalls {
				t.Fatalf("sink called %d times, want %d", len(sink.calls), wantCalls)
			}
			if got := sink.messages(); fmt.Sprint(got) != fmt.Sprint(tt.messages) {
				t.Errorf("sink got %q, want %q", got, tt.messages)
			}
		})
	}
}

func TestHandlerRecordContent(t *testing.T) {
	sink := &recordingSink{}
	h := NewHandler(sink, DefaultConfig(), nil, nil)
	body := `{"ts":1700000000.25,"service":"api","host":"h1","log":"hello","http":{"status":500}}`
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("X-Scope-OrgID", "acme")
	rec := httptest.NewRecorder()
	tenant.FromHeader(h).ServeHTTP(rec, req)
	if rec.Code != 200 || len(sink.calls) != 1 {
		t.Fatalf("status %d, %d calls; body %s", rec.Code, len(sink.calls), rec.Body)
	}
	got := sink.calls[0][0]
	want := record.Record{
		Time:    1700000000250000000,
		Tenant:  "acme",
		Stream:  []record.Field{{Name: "host", Value: "h1"}, {Name: "service", Value: "api"}},
		Message: "hello",
		Fields:  []record.Field{{Name: "http.status", Value: "500"}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("record = %+v, want %+v", got, want)
	}
}

func TestHandlerMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	h := NewHandler(&recordingSink{}, DefaultConfig(), ingest.NewMetrics(reg), nil)
	body := `{"msg":"a"}` + "\nbad\n"
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := ""
			for _, l := range m.GetLabel() {
				labels += l.GetName() + "=" + l.GetValue() + ","
			}
			switch {
			case m.GetCounter() != nil:
				got[mf.GetName()+"{"+labels+"}"] = fmt.Sprint(m.GetCounter().GetValue())
			case m.GetHistogram() != nil:
				got[mf.GetName()+"{"+labels+"}"] = fmt.Sprint(m.GetHistogram().GetSampleCount())
			}
		}
	}
	want := map[string]string{
		"sluice_ingest_requests_total{code=200,protocol=jsonline,}":                    "1",
		"sluice_ingest_records_total{protocol=jsonline,}":                              "1",
		"sluice_ingest_rejected_records_total{protocol=jsonline,reason=invalid_json,}": "1",
		"sluice_ingest_bytes_total{protocol=jsonline,}":                                fmt.Sprint(len(body)),
		"sluice_ingest_request_duration_seconds{protocol=jsonline,}":                   "1",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("metrics\n got %v\nwant %v", got, want)
	}
}

// TestHandlerTimeWindow: a line whose time is outside the window is
// rejected on its own, with its line number and reason, and counted.
func TestHandlerTimeWindow(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	cfg := DefaultConfig()
	cfg.Record.Window = ingest.NewTimeWindow(ingest.WindowConfig{Retention: 24 * time.Hour, MaxFuture: time.Hour}, reg)
	sink := &recordingSink{}
	h := NewHandler(sink, cfg, ingest.NewMetrics(reg), nil)
	now := time.Now().UTC()
	body := fmt.Sprintf(`{"_time":%q,"msg":"now"}`+"\n"+`{"_time":%q,"msg":"ahead"}`+"\n"+`{"_time":"2001-01-01T00:00:00Z","msg":"old"}`+"\n",
		now.Format(time.RFC3339Nano), now.Add(3*time.Hour).Format(time.RFC3339Nano))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)))
	var a answer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("status %d, body %s (%v)", rec.Code, rec.Body, err)
	}
	if a.Accepted != 1 || a.Rejected != 2 || len(a.Errors) != 2 ||
		a.Errors[0].Line != 2 || !strings.HasPrefix(a.Errors[0].Error, "time too far in the future: ") ||
		a.Errors[1].Line != 3 || !strings.HasPrefix(a.Errors[1].Error, "time older than the retention: 2001-01-01T00:00:00Z is before") {
		t.Errorf("answer %+v", a)
	}
	if got := sink.messages(); len(got) != 1 || got[0] != "now" {
		t.Errorf("stored %q", got)
	}
	rejected := map[string]float64{}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if mf.GetName() == "sluice_ingest_rejected_records_total" {
				rejected[m.GetLabel()[1].GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	if rejected["too_old"] != 1 || rejected["too_far_in_future"] != 1 {
		t.Errorf("rejected records by reason: %v", rejected)
	}
}

// TestHandlerSizesRecords: after a first request, the next one's records
// slice is sized from it (ingest.RecordsSizer), larger or smaller, and
// every record of each is stored.
func TestHandlerSizesRecords(t *testing.T) {
	sink := &recordingSink{}
	h := NewHandler(sink, DefaultConfig(), nil, nil)
	for _, n := range []int{3, 7, 2} {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "{\"_msg\":\"m%d\"}\n", i)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(b.String())))
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	if len(sink.calls) != 3 || len(sink.calls[1]) != 7 || sink.calls[1][6].Message != "m6" || len(sink.calls[2]) != 2 {
		t.Fatalf("stored %v, want 3, 7 and 2 records", sink.calls)
	}
	// The third body is 2/7 of the second's bytes: 2 records and one
	// more, not a slice grown by appending.
	if c := cap(sink.calls[2]); c != 3 {
		t.Errorf("third request's records slice has capacity %d, want 3 (sized from the second's 7 records)", c)
	}
}

// TestHandlerSizesGzipRecords: a gzip body, whose decoded size is unknown
// until its end, gets its records slice sized from the gzip body before
// (records per byte sent): the same 100 lines again get 100 and a
// sixteenth, not the 128 of a slice grown by appending.
func TestHandlerSizesGzipRecords(t *testing.T) {
	sink := &recordingSink{}
	h := NewHandler(sink, DefaultConfig(), nil, nil)
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, "{\"_msg\":\"m%d\"}\n", i)
	}
	body := gz(t, b.String())
	for range 2 {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set("Content-Encoding", "gzip")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	if len(sink.calls) != 2 || len(sink.calls[1]) != 100 || sink.calls[1][99].Message != "m99" {
		t.Fatalf("stored %d requests, want 2 of 100 records", len(sink.calls))
	}
	if c := cap(sink.calls[1]); c != 100+100/16+1 {
		t.Errorf("second gzip request's records slice has capacity %d, want %d", c, 100+100/16+1)
	}
}
