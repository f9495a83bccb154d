package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/query"
)

// TestPartialAnswer checks the indexer's end of a querier's query: a share
// that the query package merges, within restricting it, and bad requests
// refused with 400.
func TestPartialAnswer(t *testing.T) {
	now := time.Now()
	srv, _ := newTestServer(t, testRecords(now), QueryLimits{})
	post := func(form url.Values) (int, []byte) {
		resp, err := http.PostForm(srv.URL+PartialPath, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.Bytes()
	}
	count := func(within string) string {
		t.Helper()
		form := url.Values{"kind": {"query"}, "query": {"* | stats count() as n"}, "within": {within}}
		code, body := post(form)
		if code != http.StatusOK {
			t.Fatalf("%d %s", code, body)
		}
		p, payload, err := SplitEnvelope(body)
		if err != nil || p != nil {
			t.Fatalf("envelope: %v, partial %v", err, p)
		}
		q, _ := query.Parse("* | stats count() as n")
		var out string
		m, _ := query.NewMerge(q, query.Options{}, func(r query.Row) error { out = string(r.AppendJSON(nil)); return nil })
		if err := m.Add(payload); err != nil {
			t.Fatal(err)
		}
		if err := m.Finish(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := count(""); got != `{"n":50}` {
		t.Errorf("whole share: %s", got)
	}
	if got := count("level:error"); got != `{"n":10}` {
		t.Errorf("share within level:error: %s", got)
	}
	for _, form := range []url.Values{
		{"kind": {"nope"}, "query": {"*"}},
		{"kind": {"query"}, "query": {"a:("}},
		{"kind": {"query"}, "query": {"*"}, "within": {"("}},
		{"kind": {"query"}, "query": {"*"}, "limit": {"-1"}},
	} {
		if code, body := post(form); code != http.StatusBadRequest || !strings.Contains(string(body), "error") {
			t.Errorf("%v: %d %s, want 400 with an error", form, code, body)
		}
	}
}

func FuzzSplitEnvelope(f *testing.F) {
	p, _ := json.Marshal(NewPartial(Skipped{Kind: SkippedIndexer, Name: "http://x", Error: "down"}))
	f.Add(AppendEnvelope(nil, p, []byte("payload")))
	f.Add(AppendEnvelope(nil, nil, nil))
	f.Add([]byte{0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		partial, payload, err := SplitEnvelope(b)
		if err != nil {
			return
		}
		var pj []byte
		if partial != nil {
			pj, _ = json.Marshal(partial)
		}
		again, payload2, err := SplitEnvelope(AppendEnvelope(nil, pj, payload))
		if err != nil || !bytes.Equal(payload, payload2) || (again == nil) != (partial == nil) {
			t.Fatalf("round trip: %v %v %v", err, again, partial)
		}
	})
}
