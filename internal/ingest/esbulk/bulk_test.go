package esbulk

import (
	"bytes"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/ingest"
)

// TestRepeatedActionLines checks that an action line the same as the one
// before gives the item parsing it would, failures and line numbers
// included, and that nothing is carried from one request to the next (the
// URL's index differs).
func TestRepeatedActionLines(t *testing.T) {
	const doc = `{"message":"m"}`
	type want struct {
		action, index, id string
		status            int
		reason            string // a prefix of it
	}
	for _, tc := range []struct {
		name, defaultIndex string
		lines              []string
		want               []want
	}{
		{"fast path", "", []string{`{"create":{"_index":"a"}}`, doc, `{"create":{"_index":"a"}}`, doc, `{"create":{"_index":"b"}}`, doc, `{"create":{"_index":"a"}}`, doc},
			[]want{{"create", "a", "", 0, ""}, {"create", "a", "", 0, ""}, {"create", "b", "", 0, ""}, {"create", "a", "", 0, ""}}},
		{"Logstash's line, parsed in full", "", []string{`{"index":{"_id":null,"_index":"logs","routing":null}}`, doc, `{"index":{"_id":null,"_index":"logs","routing":null}}`, doc},
			[]want{{"index", "logs", "", 0, ""}, {"index", "logs", "", 0, ""}}},
		{"URL's index", "url", []string{`{"create":{}}`, doc, `{"create":{}}`, doc},
			[]want{{"create", "url", "", 0, ""}, {"create", "url", "", 0, ""}}},
		{"URL's index, next request", "other", []string{`{"create":{}}`, doc, `{"create":{}}`, doc},
			[]want{{"create", "other", "", 0, ""}, {"create", "other", "", 0, ""}}},
		{"no index", "", []string{`{"create":{}}`, doc, `{"create":{}}`, doc},
			[]want{{"create", "", "", http.StatusBadRequest, "Validation Failed: 1: index is missing;"}, {"create", "", "", http.StatusBadRequest, "Validation Failed: 1: index is missing;"}}},
		{"empty id", "d", []string{`{"index":{"_id":""}}`, doc, `{"index":{"_id":""}}`, doc},
			[]want{{"index", "d", "", http.StatusBadRequest, "Validation Failed: 1: if _id is specified"}, {"index", "d", "", http.StatusBadRequest, "Validation Failed: 1: if _id is specified"}}},
		{"same id twice", "d", []string{`{"index":{"_id":"x"}}`, doc, `{"index":{"_id":"x"}}`, doc},
			[]want{{"index", "d", "x", 0, ""}, {"index", "d", "x", 0, ""}}},
		{"delete, no source line", "d", []string{`{"delete":{"_id":"x"}}`, `{"delete":{"_id":"x"}}`, `{"create":{}}`, doc},
			[]want{{"delete", "d", "x", http.StatusBadRequest, "delete is not supported"}, {"delete", "d", "x", http.StatusBadRequest, "delete is not supported"}, {"create", "d", "", 0, ""}}},
		{"update", "d", []string{`{"update":{"_id":"x"}}`, `{"doc":{}}`, `{"update":{"_id":"x"}}`, `{"doc":{}}`},
			[]want{{"update", "d", "x", http.StatusBadRequest, "update is not supported"}, {"update", "d", "x", http.StatusBadRequest, "update is not supported"}}},
		{"unknown action: each its own line number", "d", []string{`{"upsert":{}}`, doc, `{"upsert":{}}`, doc},
			[]want{{"upsert", "d", "", http.StatusBadRequest, "unknown action [upsert] on line [1];"}, {"upsert", "d", "", http.StatusBadRequest, "unknown action [upsert] on line [3];"}}},
		{"bad document after a repeated line: its line number", "d", []string{`{"create":{}}`, doc, `{"create":{}}`, `[1]`},
			[]want{{"create", "d", "", 0, ""}, {"create", "d", "", http.StatusBadRequest, "failed to parse document on line [4]"}}},
		{"blank lines between", "d", []string{`{"create":{}}`, doc, ``, `{"create":{}}`, doc},
			[]want{{"create", "d", "", 0, ""}, {"create", "d", "", 0, ""}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(strings.Join(tc.lines, "\n") + "\n")
			now := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
			parse := func(p *bulkParser) ([]item, int) {
				items, recs, bad := p.parse(ingest.NewLineReader(bytes.NewReader(body), 4096), tc.defaultIndex, "t", now, newIDGen())
				if bad != nil {
					t.Fatalf("request error: %v", bad)
				}
				for i := range items {
					items[i].gen = 0 // counters differ between the id generators
				}
				return append([]item(nil), items...), len(recs)
			}
			p := newBulkParser(DefaultConfig().Record)
			// The pooled parser's last request had another index and the
			// same lines: nothing of it may be reused.
			_, _, _ = p.parse(ingest.NewLineReader(bytes.NewReader(body), 4096), "before", "t", now, newIDGen())
			items, nrecs := parse(p)
			ref := newBulkParser(DefaultConfig().Record)
			ref.reparse = true
			refItems, refRecs := parse(ref)
			if !reflect.DeepEqual(items, refItems) || nrecs != refRecs {
				t.Fatalf("items %+v (%d records), parsing every line %+v (%d)", items, nrecs, refItems, refRecs)
			}
			if len(items) != len(tc.want) {
				t.Fatalf("%d items, want %d: %+v", len(items), len(tc.want), items)
			}
			for i, w := range tc.want {
				it := items[i]
				if it.action != w.action || it.index != w.index || it.id != w.id || it.status != w.status || !strings.HasPrefix(it.reason, w.reason) {
					t.Errorf("item %d: %+v, want %+v", i, it, w)
				}
			}
		})
	}
}
