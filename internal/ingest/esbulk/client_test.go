package esbulk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"
)

// TestOfficialClient points go-elasticsearch's BulkIndexer at the handler:
// the client checks the product header and the answer's shape, so this is
// what a real shipper sees.
func TestOfficialClient(t *testing.T) {
	sink := &recordingSink{}
	srv := httptest.NewServer(NewHandler(sink, DefaultConfig(), nil, nil))
	defer srv.Close()

	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := es.Info()
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	var info struct {
		Version struct {
			Number string `json:"number"`
		} `json:"version"`
	}
	err = json.NewDecoder(res.Body).Decode(&info)
	res.Body.Close()
	if err != nil || res.IsError() || info.Version.Number != esVersion {
		t.Fatalf("Info: %s, version %q, %v", res.Status(), info.Version.Number, err)
	}

	const docs = 10000
	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{
		Client:     es,
		Index:      "app-logs",
		NumWorkers: 2,
		FlushBytes: 256 << 10,
		OnError:    func(_ context.Context, err error) { t.Errorf("bulk indexer: %v", err) },
	})
	if err != nil {
		t.Fatal(err)
	}
	var ok, failed atomic.Int64
	ids := make(chan string, docs)
	for i := range docs {
		action := "index"
		docID := ""
		if i%2 == 0 {
			action, docID = "create", fmt.Sprintf("doc-%d", i)
		}
		err := bi.Add(context.Background(), esutil.BulkIndexerItem{
			Action:     action,
			DocumentID: docID,
			Body: strings.NewReader(fmt.Sprintf(`{"@timestamp":"2024-05-06T07:08:09.%03dZ","message":"event %d","host":{"name":"web-%d"},"n":%d}`,
				i%1000, i, i%4, i)),
			OnSuccess: func(_ context.Context, _ esutil.BulkIndexerItem, res esutil.BulkIndexerResponseItem) {
				if res.Status != 201 || res.Result != "created" || res.DocumentID == "" {
					t.Errorf("odd success item %+v", res)
				}
				ids <- res.DocumentID
				ok.Add(1)
			},
			OnFailure: func(_ context.Context, _ esutil.BulkIndexerItem, res esutil.BulkIndexerResponseItem, err error) {
				t.Errorf("item failed: %+v %v", res, err)
				failed.Add(1)
			},
		})
		if err != nil {
			t.Fatalf("Add: %v", err)
		}
	}
	if err := bi.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	close(ids)

	stats := bi.Stats()
	if ok.Load() != docs || failed.Load() != 0 || stats.NumFailed != 0 || stats.NumFlushed != docs {
		t.Fatalf("succeeded %d failed %d, stats %+v", ok.Load(), failed.Load(), stats)
	}
	if sink.n != docs {
		t.Fatalf("sink got %d records, want %d", sink.n, docs)
	}
	seen := map[string]bool{}
	for id := range ids {
		if seen[id] {
			t.Fatalf("_id %q answered twice", id)
		}
		seen[id] = true
	}
	// An id the client sent is stored; one the server made up is only
	// answered.
	stored := map[string]bool{}
	for _, call := range sink.calls {
		for _, r := range call {
			var i int
			id, hasID := r.Get("_id")
			index, _ := r.Get("_index")
			if _, err := fmt.Sscanf(r.Message, "event %d", &i); err != nil || index != "app-logs" ||
				hasID != (i%2 == 0) || hasID && (id != fmt.Sprintf("doc-%d", i) || !seen[id]) {
				t.Fatalf("stored record %+v is not the document sent", r)
			}
			stored[r.Message] = true
		}
	}
	if len(stored) != docs || len(seen) != docs {
		t.Errorf("%d distinct documents stored and %d ids answered, want %d", len(stored), len(seen), docs)
	}
}
