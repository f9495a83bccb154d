package esbulk

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/ingest"
)

// FuzzBulkParse feeds arbitrary bodies to the bulk parser: it must not
// panic, and whatever it accepts must add up (one record per stored item,
// an id for every stored item, none of them stored twice).
func FuzzBulkParse(f *testing.F) {
	for _, seed := range []string{
		"{\"create\":{\"_index\":\"a\"}}\n{\"message\":\"m\"}\n",
		"{\"index\":{\"_index\":\"a\",\"_id\":\"x\"}}\n{\"@timestamp\":\"2024-01-02T03:04:05Z\",\"host\":{\"name\":\"h\"}}\n",
		"{\"delete\":{\"_id\":\"x\"}}\n{\"update\":{\"_id\":\"x\"}}\n{\"doc\":{}}\n",
		"{\"create\":{}}\n{\"create\":{\"_index\":null,\"_id\":7}}\n[1]\n",
		"{\"create\":{\"_index\":\"a\"}}\n",
		"not json\n",
	} {
		f.Add([]byte(seed))
	}
	now := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	ids := newIDGen()
	f.Fuzz(func(t *testing.T, body []byte) {
		p := newBulkParser(DefaultConfig().Record)
		items, recs, bad := p.parse(ingest.NewLineReader(bytes.NewReader(body), 4096), "default", "t", now, ids)
		if bad != nil {
			if bad.status < 400 || items != nil || recs != nil {
				t.Fatalf("request error %v with status %d, %d items, %d records", bad, bad.status, len(items), len(recs))
			}
			return
		}
		stored := 0
		for _, it := range items {
			if it.status == 0 {
				stored++
				if it.id == "" && it.gen == 0 {
					t.Fatalf("stored item without an id: %+v", it)
				}
			} else if it.status < http.StatusBadRequest {
				t.Fatalf("failed item with status %d", it.status)
			}
		}
		if stored != len(recs) {
			t.Fatalf("%d stored items, %d records", stored, len(recs))
		}
		// The answer of what was parsed must be writable.
		_ = appendBulkResponse(nil, 0, items, ids)
	})
}
