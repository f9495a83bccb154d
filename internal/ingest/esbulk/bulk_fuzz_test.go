package esbulk

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/ingest"
)

// FuzzBulkParse feeds arbitrary bodies to the bulk parser: it must not
// panic, and whatever it accepts must add up (one record per stored item,
// an id for every stored item, none of them stored twice). The same body
// parsed again by the same parser, its records slice sized from the first
// parse, gives the same records; every item's short answer (appendItem)
// is its full one (appendItemFull).
func FuzzBulkParse(f *testing.F) {
	for _, seed := range []string{
		"{\"create\":{\"_index\":\"a\"}}\n{\"message\":\"m\"}\n",
		"{\"index\":{\"_index\":\"a\",\"_id\":\"x\"}}\n{\"@timestamp\":\"2024-01-02T03:04:05Z\",\"host\":{\"name\":\"h\"}}\n",
		"{\"delete\":{\"_id\":\"x\"}}\n{\"update\":{\"_id\":\"x\"}}\n{\"doc\":{}}\n",
		"{\"create\":{}}\n{\"create\":{\"_index\":null,\"_id\":7}}\n[1]\n",
		"{\"create\":{\"_index\":\"a\"}}\n",
		"not json\n",
		"{\"index\":{\"_id\":null,\"_index\":\"logs\",\"routing\":null}}\n{\"m\":1}\n{\"index\":{\"_id\":null,\"_index\":\"logs\",\"routing\":null}}\n{\"m\":2}\n",
		"{\"create\":{}}\n{}\n{\"create\":{}}\n[]\n{\"create\":{}}\n{}\n",
		"{\"upsert\":{}}\n{}\n{\"upsert\":{}}\n{}\n",
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
		ref := newBulkParser(DefaultConfig().Record)
		ref.reparse = true
		refItems, refRecs, refBad := ref.parse(ingest.NewLineReader(bytes.NewReader(body), 4096), "default", "t", now, ids)
		if refBad != nil || !reflect.DeepEqual(withoutGen(items), withoutGen(refItems)) || !reflect.DeepEqual(recs, refRecs) {
			t.Fatalf("parsing every action line: items %+v, records %d (%v); reusing: %+v, %d", refItems, len(refRecs), refBad, items, len(recs))
		}
		// The answer of what was parsed must be writable.
		_ = appendBulkResponse(nil, 0, items, ids, fullResponse)
		for i := range items {
			it := items[i]
			if it.status == 0 {
				it.status = http.StatusCreated
			}
			for _, fields := range []int{fieldStatus, fieldStatus | fieldError, allFields, fieldError} {
				if short, full := appendItem(nil, &it, ids, fields), appendItemFull(nil, &it, ids, fields); !bytes.Equal(short, full) {
					t.Fatalf("item %+v, fields %b: answer %s, want %s", it, fields, short, full)
				}
			}
		}
		first := slices.Clone(recs)
		p.sizer.Expect(httptest.NewRequest(http.MethodPost, "/_bulk", bytes.NewReader(body)), nil, 0)
		_, again, _ := p.parse(ingest.NewLineReader(bytes.NewReader(body), 4096), "default", "t", now, ids)
		if !reflect.DeepEqual(again, first) {
			t.Fatalf("parsed again: %d records, first %d", len(again), len(first))
		}
	})
}

// withoutGen returns a copy of items without their generated ids' counter
// values, which differ between parses.
func withoutGen(items []item) []item {
	out := slices.Clone(items)
	for i := range out {
		out[i].gen = 0
	}
	return out
}

// TestFastAction checks that the fast path reads the lines it takes as the
// JSON parser does, and leaves every other line to it.
func TestFastAction(t *testing.T) {
	for _, tc := range []struct {
		line string
		fast bool
	}{
		{`{"create":{}}`, true},
		{`{"index":{}}`, true},
		{`{"create":{"_index":"filebeat-8.17.0"}}`, true},
		{`{"index":{"_index":"logs"}}`, true},
		{`{"create":{"_index":"logs","_id":"1"}}`, false},
		{`{"create":{"_index":"lo\"gs"}}`, false},
		{`{"create":{"_index":"lo\u0067s"}}`, false},
		{`{"create":{"_index":""}}`, false},
		{`{"create":{"_index":null}}`, false},
		{`{"create": {}}`, false},
		{`{"create":{}} `, false},
		{`{"create":{"_index":"logs"}`, false},
		{`{"update":{}}`, false},
		{`{"create":{}}{}`, false},
		{`{"create":{"_index":"` + "caf\xc3\xa9" + `"}}`, false},
	} {
		for _, def := range []string{"", "default"} {
			p := newBulkParser(DefaultConfig().Record)
			fast, ok := p.fastAction([]byte(tc.line), def)
			if ok != (tc.fast && (def != "" || strings.Contains(tc.line, "_index"))) {
				t.Errorf("%s (default %q): fast path %v", tc.line, def, ok)
			}
			if !ok {
				continue
			}
			full, bad := newBulkParser(DefaultConfig().Record).parseAction([]byte(tc.line), 1, def)
			if bad != nil || full != fast {
				t.Errorf("%s: fast %+v, full %+v (%v)", tc.line, fast, full, bad)
			}
		}
	}
}

// FuzzFastAction checks the fast path against the JSON parser on any
// line: whatever it takes, it reads as parseAction does.
func FuzzFastAction(f *testing.F) {
	for _, s := range []string{`{"create":{}}`, `{"index":{"_index":"logs"}}`, `{"create":{"_index":"a\"b"}}`, `{"index":{"_index":"x"}} `} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		p := newBulkParser(DefaultConfig().Record)
		fast, ok := p.fastAction([]byte(line), "d")
		if !ok {
			return
		}
		full, bad := newBulkParser(DefaultConfig().Record).parseAction([]byte(line), 1, "d")
		if bad != nil || full != fast {
			t.Fatalf("%q: fast %+v, full %+v (%v)", line, fast, full, bad)
		}
	})
}
