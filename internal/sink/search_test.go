package sink

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/record"
)

// fakeCluster answers _bulk like Elasticsearch does (the documented shape of
// the bulk API response: took, errors, items[{create:{_index,_id,status,
// result|error{type,reason,caused_by}}}]), deciding each item's status with
// answer(id, attempt), and other requests with status 200.
type fakeCluster struct {
	mu        sync.Mutex
	attempts  map[string]int
	answer    func(id string, attempt int) int
	requests  []string // method and path of each request
	bulkFails int      // whole bulk requests to answer 503 first
}

func (f *fakeCluster) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.Header().Set("Content-Type", "application/json")
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	if !strings.HasSuffix(r.URL.Path, "/_bulk") {
		_, _ = io.WriteString(w, `{"acknowledged":true}`)
		return
	}
	if f.bulkFails > 0 {
		f.bulkFails--
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"error":{"type":"unavailable_shards_exception","reason":"primary shard is not active"},"status":503}`)
		return
	}
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(nil, 1<<20)
	var items []string
	anyErr := false
	for sc.Scan() {
		var meta map[string]struct {
			ID string `json:"_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &meta); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		sc.Scan() // the document
		id := meta["create"].ID
		f.attempts[id]++
		status := f.answer(id, f.attempts[id])
		var item string
		switch status {
		case 201:
			item = fmt.Sprintf(`{"create":{"_index":".ds-logs-sluice-default-2026.11.25-000001","_id":%q,"_version":1,"result":"created","_shards":{"total":2,"successful":1,"failed":0},"_seq_no":0,"_primary_term":1,"status":201}}`, id)
		case 409:
			item = fmt.Sprintf(`{"create":{"_index":".ds-logs-sluice-default-2026.11.25-000001","_id":%q,"status":409,"error":{"type":"version_conflict_engine_exception","reason":"[%s]: version conflict, document already exists (current version [1])","index_uuid":"aAsFqTI0Tc2W0LCWgPNrOA","shard":"0","index":".ds-logs-sluice-default-2026.11.25-000001"}}}`, id, id)
		case 400:
			item = fmt.Sprintf(`{"create":{"_index":".ds-logs-sluice-default-2026.11.25-000001","_id":%q,"status":400,"error":{"type":"document_parsing_exception","reason":"[1:97] failed to parse field [latency] of type [long] in document with id '%s'. Preview of field's value: 'slow'","caused_by":{"type":"illegal_argument_exception","reason":"For input string: \"slow\""}}}}`, id, id)
		case 429:
			item = fmt.Sprintf(`{"create":{"_index":".ds-logs-sluice-default-2026.11.25-000001","_id":%q,"status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, coordinating_operation_bytes=1024, max_coordinating_and_primary_bytes=1024]"}}}`, id)
		default:
			item = fmt.Sprintf(`{"create":{"_index":"logs","_id":%q,"status":%d,"error":{"type":"exception","reason":"status %d"}}}`, id, status, status)
		}
		anyErr = anyErr || status >= 300
		items = append(items, item)
	}
	fmt.Fprintf(w, `{"took":3,"errors":%t,"items":[%s]}`, anyErr, strings.Join(items, ","))
}

func newTestSink(t *testing.T, f *fakeCluster, setup bool) *SearchSink {
	t.Helper()
	f.attempts = map[string]int{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	s, err := OpenElasticsearch(context.Background(), ClientOptions{Addresses: []string{srv.URL}, MaxRetries: 3},
		SearchSinkOptions{Index: "logs-sluice-default", Workers: 1, MaxRetries: 3, Backoff: time.Millisecond, SetupTemplates: setup},
		NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testItems(n int) []Item {
	items := make([]Item, n)
	for i := range items {
		items[i] = Item{Topic: "logs", Partition: 1, Offset: int64(i), Record: record.Record{
			Time: int64(i), Message: fmt.Sprintf("line %d", i), Stream: []record.Field{{Name: "service", Value: "api"}},
		}}
	}
	return items
}

func TestSearchSinkItemOutcomes(t *testing.T) {
	tests := []struct {
		name         string
		answer       func(id string, attempt int) int
		bulkFails    int
		wantErr      bool
		wantRejected []string // ids
		wantAttempts map[string]int
	}{
		{
			name:         "all created",
			answer:       func(string, int) int { return 201 },
			wantAttempts: map[string]int{"logs-1-0": 1, "logs-1-1": 1, "logs-1-2": 1},
		},
		{
			name: "mapping conflict is rejected with its reason, the rest indexed",
			answer: func(id string, _ int) int {
				if id == "logs-1-1" {
					return 400
				}
				return 201
			},
			wantRejected: []string{"logs-1-1"},
			wantAttempts: map[string]int{"logs-1-0": 1, "logs-1-1": 1, "logs-1-2": 1},
		},
		{
			name: "item 429 is retried alone until created",
			answer: func(id string, attempt int) int {
				if id == "logs-1-2" && attempt < 3 {
					return 429
				}
				return 201
			},
			wantAttempts: map[string]int{"logs-1-0": 1, "logs-1-1": 1, "logs-1-2": 3},
		},
		{
			name: "item 5xx is retried",
			answer: func(id string, attempt int) int {
				if id == "logs-1-0" && attempt == 1 {
					return 503
				}
				return 201
			},
			wantAttempts: map[string]int{"logs-1-0": 2, "logs-1-1": 1, "logs-1-2": 1},
		},
		{
			name: "409 on create means a replay: already there",
			answer: func(id string, _ int) int {
				if id == "logs-1-0" {
					return 409
				}
				return 201
			},
			wantAttempts: map[string]int{"logs-1-0": 1, "logs-1-1": 1, "logs-1-2": 1},
		},
		{
			name: "429 for ever fails the write after the retries",
			answer: func(id string, _ int) int {
				if id == "logs-1-1" {
					return 429
				}
				return 201
			},
			wantErr:      true,
			wantAttempts: map[string]int{"logs-1-0": 1, "logs-1-1": 4, "logs-1-2": 1},
		},
		{
			name:         "whole request 503 is retried by the client",
			answer:       func(string, int) int { return 201 },
			bulkFails:    2,
			wantAttempts: map[string]int{"logs-1-0": 1, "logs-1-1": 1, "logs-1-2": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeCluster{answer: tt.answer, bulkFails: tt.bulkFails}
			s := newTestSink(t, f, false)
			rejected, err := s.Write(context.Background(), testItems(3))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Write error = %v, want error %t", err, tt.wantErr)
			}
			var ids []string
			for _, r := range rejected {
				ids = append(ids, r.Item.ID())
				if !strings.Contains(r.Reason, "document_parsing_exception") || !strings.Contains(r.Reason, "For input string") {
					t.Errorf("reason %q lacks the cluster's error type and cause", r.Reason)
				}
			}
			if fmt.Sprint(ids) != fmt.Sprint(tt.wantRejected) {
				t.Errorf("rejected %v, want %v", ids, tt.wantRejected)
			}
			if fmt.Sprint(f.attempts) != fmt.Sprint(tt.wantAttempts) {
				t.Errorf("attempts %v, want %v", f.attempts, tt.wantAttempts)
			}
		})
	}
}

func TestSearchSinkSetupTemplates(t *testing.T) {
	f := &fakeCluster{answer: func(string, int) int { return 201 }}
	newTestSink(t, f, true)
	want := "[PUT /_index_template/logs-sluice-default PUT /_data_stream/logs-sluice-default]"
	if got := fmt.Sprint(f.requests); got != want {
		t.Errorf("setup requests %s, want %s", got, want)
	}
}

func TestAppendDocument(t *testing.T) {
	r := record.Record{Time: 1_700_000_000_123_456_789, Tenant: "t1", Message: "hello \"x\"",
		Stream: []record.Field{{Name: "service", Value: "api"}},
		Fields: []record.Field{{Name: "message", Value: "other"}, {Name: "level", Value: "info"}}}
	got := string(appendDocument(nil, &r))
	want := `{"@timestamp":"2023-11-14T22:13:20.123456789Z","message":"hello \"x\"","stream":"{service=\"api\"}","tenant":"t1","service":"api","field.message":"other","level":"info"}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if !json.Valid([]byte(got)) {
		t.Error("not valid JSON")
	}
}
