package esbulk

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-log/sluice/bench/altgen"
	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/ingest/jsonline"
	"github.com/sluice-log/sluice/internal/record"
)

type discardSink struct{}

func (discardSink) Ingest(context.Context, []record.Record) error { return nil }

// benchDocs returns n Filebeat-like documents of about 300 bytes, one a line.
func benchDocs(n int) [][]byte {
	docs := make([][]byte, n)
	for i := range docs {
		docs[i] = fmt.Appendf(nil, `{"@timestamp":"2024-05-06T07:08:%02d.%03dZ","message":"GET /api/v1/cart/%d 200 12ms","host":{"name":"web-%d"},`+
			`"log":{"file":{"path":"/var/log/app.log"},"offset":%d},"ecs":{"version":"8.0.0"},"agent":{"type":"filebeat","version":"8.17.0"}}`,
			i%60, i%1000, i, i%8, i*300)
	}
	return docs
}

// bulkBody puts action before every document.
func bulkBody(action string, docs [][]byte) []byte {
	var body bytes.Buffer
	for _, d := range docs {
		body.WriteString(action)
		body.WriteByte('\n')
		body.Write(d)
		body.WriteByte('\n')
	}
	return body.Bytes()
}

// BenchmarkBulk measures a Filebeat-like request of 1000 documents through
// the whole handler.
func BenchmarkBulk(b *testing.B) {
	body := bulkBody(`{"create":{"_index":"filebeat-8.17.0"}}`, benchDocs(1000))
	h := NewHandler(discardSink{}, DefaultConfig(), nil, nil)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/_bulk", bytes.NewReader(body)))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkBulkDecode compares decoding a _bulk body of 1000 documents
// (action lines, ids, the records) with converting the same documents as
// JSON lines, which is what /insert/jsonline does with them: the
// difference is what the _bulk path costs more per record.
func BenchmarkBulkDecode(b *testing.B) {
	docs := benchDocs(1000)
	now := time.Date(2024, 5, 6, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, action string
		reparse      bool
	}{
		{"create", `{"create":{"_index":"filebeat-8.17.0"}}`, false},
		{"index-with-id", `{"index":{"_index":"logs","_id":"a1b2c3"}}`, false},
		{"create-empty", `{"create":{}}`, false},
		// Logstash's action line, which the fast path does not take: once
		// parsed and reused for the lines like it, and parsed every time.
		{"logstash", `{"index":{"_id":null,"_index":"logstash","routing":null}}`, false},
		{"logstash-reparse", `{"index":{"_id":null,"_index":"logstash","routing":null}}`, true},
	} {
		b.Run("bulk/"+tc.name, func(b *testing.B) {
			body := bulkBody(tc.action, docs)
			p := newBulkParser(DefaultConfig().Record)
			p.reparse = tc.reparse
			ids := newIDGen()
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			cpu0 := processCPU(b)
			for b.Loop() {
				items, recs, bad := p.parse(ingest.NewLineReader(bytes.NewReader(body), 1<<20), "logs", "t", now, ids)
				if bad != nil || len(items) != len(docs) || len(recs) != len(docs) {
					b.Fatalf("%d items, %d records, %v", len(items), len(recs), bad)
				}
			}
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N*len(docs)), "cpu-ns/record")
		})
	}
	b.Run("jsonline", func(b *testing.B) {
		body := bulkBody("", docs)[1:] // the documents alone, one a line
		c := ingest.NewConverter(DefaultConfig().Record)
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			lr := ingest.NewLineReader(bytes.NewReader(body), 1<<20)
			var recs []record.Record
			for {
				line, err := lr.Next()
				if err != nil {
					break
				}
				if len(bytes.TrimSpace(line)) == 0 {
					continue
				}
				rec, err := c.Convert(line, now, "t", nil)
				if err != nil {
					b.Fatal(err)
				}
				recs = append(recs, rec)
			}
			if len(recs) != len(docs) {
				b.Fatalf("%d records", len(recs))
			}
		}
	})
}

// BenchmarkHandlers sends the same 5000 Filebeat-like documents through the
// _bulk handler (a create action line each, the filter_path Filebeat and
// Logstash send) and through the JSON lines handler, with the same record
// configuration: the whole of each request as the server runs it, answer
// included, sink excluded; -gzip, with the body gzip-compressed, as
// Filebeat and Fluent Bit send it. cpu-ns/record is the process's CPU time
// (the garbage collector's included), steadier than ns/op on a shared
// machine; compare the two in alternating runs (-count).
func BenchmarkHandlers(b *testing.B) {
	docs := benchDocs(5000)
	cfg := DefaultConfig()
	jcfg := jsonline.DefaultConfig()
	jcfg.Record = cfg.Record
	bulk := bulkBody(`{"create":{"_index":"bench"}}`, docs)
	lines := bulkBody("", docs)[1:]
	for _, tc := range []struct {
		name, target string
		h            http.Handler
		body         []byte
		enc          string
	}{
		{"bulk", "/_bulk?filter_path=errors,items.*.error,items.*.status",
			NewHandler(discardSink{}, cfg, nil, nil), bulk, ""},
		{"jsonline", "/insert/jsonline", jsonline.NewHandler(discardSink{}, jcfg, nil, nil), lines, ""},
		{"bulk-gzip", "/_bulk?filter_path=errors,items.*.error,items.*.status",
			NewHandler(discardSink{}, cfg, nil, nil), gzipped(b, bulk), "gzip"},
		{"jsonline-gzip", "/insert/jsonline", jsonline.NewHandler(discardSink{}, jcfg, nil, nil), gzipped(b, lines), "gzip"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.body)))
			b.ReportAllocs()
			cpu0 := processCPU(b)
			for b.Loop() {
				rec := httptest.NewRecorder()
				req := httptest.NewRequest(http.MethodPost, tc.target, bytes.NewReader(tc.body))
				if tc.enc != "" {
					req.Header.Set("Content-Encoding", tc.enc)
				}
				tc.h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N*len(docs)), "cpu-ns/record")
		})
	}
}

// gzipped is body gzip-compressed.
func gzipped(b *testing.B, body []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(body); err != nil {
		b.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// processCPU is the CPU time the process has used, user and system.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkHandlersAlt is BenchmarkHandlers with bench/altgen's records
// (small documents, whole-second times, other field names mapped as
// sluice-bench -dataset alt maps them) and the server's default checks (a
// time window and the cardinality bounds), 5000 a request as the harness
// sends them: bulk with the harness's action line and filter_path,
// jsonline with the same record configuration.
func BenchmarkHandlersAlt(b *testing.B) {
	const perRequest = 5000
	now := time.Now()
	g, err := altgen.New(altgen.Config{Seed: 1, Records: 4 * perRequest, End: now})
	if err != nil {
		b.Fatal(err)
	}
	var lines [][]byte
	for g.Remaining() > 0 {
		body, _ := g.AppendBatch(nil, perRequest)
		lines = append(lines, body)
	}
	var bulks [][]byte
	for _, l := range lines {
		bulks = append(bulks, bulkBody(`{"create":{"_index":"bench"}}`, bytes.Split(bytes.TrimSuffix(l, []byte("\n")), []byte("\n"))))
	}
	rc := func() ingest.RecordConfig {
		r := DefaultConfig().Record
		r.TimeFields = []string{altgen.TimeField}
		r.MessageFields = []string{altgen.MessageField}
		r.StreamFields = altgen.StreamFields
		r.Window = ingest.NewTimeWindow(ingest.WindowConfig{
			MaxFuture: 48 * time.Hour,
			Cardinality: ingest.NewCardinality(ingest.CardinalityConfig{
				MaxStreams: 100000, MaxFieldNames: 10000, Window: 24 * time.Hour,
			}, nil),
		}, nil)
		return r
	}
	cfg := DefaultConfig()
	cfg.Record = rc()
	jcfg := jsonline.DefaultConfig()
	jcfg.Record = rc()
	for _, tc := range []struct {
		name, target string
		h            http.Handler
		bodies       [][]byte
	}{
		{"bulk", "/_bulk?filter_path=errors,items.*.error,items.*.status", NewHandler(discardSink{}, cfg, nil, nil), bulks},
		{"jsonline", "/insert/jsonline", jsonline.NewHandler(discardSink{}, jcfg, nil, nil), lines},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.bodies[0])))
			b.ReportAllocs()
			cpu0 := processCPU(b)
			i := 0
			for b.Loop() {
				rec := httptest.NewRecorder()
				tc.h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, tc.target, bytes.NewReader(tc.bodies[i%len(tc.bodies)])))
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %.300s", rec.Code, rec.Body)
				}
				i++
			}
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N*perRequest), "cpu-ns/record")
		})
		// Four requests at a time, as sluice-bench sends them: their
		// working sets share the caches.
		b.Run(tc.name+"-4", func(b *testing.B) {
			b.SetBytes(int64(len(tc.bodies[0])))
			b.ReportAllocs()
			b.SetParallelism(max(1, 4/runtime.GOMAXPROCS(0)))
			cpu0 := processCPU(b)
			var next atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := int(next.Add(1))
					rec := httptest.NewRecorder()
					tc.h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, tc.target, bytes.NewReader(tc.bodies[i%len(tc.bodies)])))
					if rec.Code != http.StatusOK {
						b.Errorf("status %d: %.300s", rec.Code, rec.Body)
						return
					}
				}
			})
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N*perRequest), "cpu-ns/record")
		})
	}
}
