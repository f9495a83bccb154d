package api

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/store"
)

var testSkipped = []store.SkippedPart{{Partition: "20240501", Name: "00000000000000a1", Err: "quarantined: checksum mismatch"}}

// TestPartialNDJSON: a query whose search skipped a part ends with the
// _partial line and the trailer; a complete one has neither.
func TestPartialNDJSON(t *testing.T) {
	for _, tc := range []struct {
		name    string
		skipped []store.SkippedPart
		query   string
		rows    int
	}{
		{"records", testSkipped, "*", 10},
		{"stats", testSkipped, "* | stats count() as n", 1},
		{"no rows", testSkipped, "nothing_matches_this", 0},
		{"complete", nil, "*", 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newQueryServer(t, &queryBackend{recs: contextRecords(), skipped: tc.skipped}, queryLimits)
			resp, err := http.PostForm(ts.URL+"/api/v1/query", url.Values{"query": {tc.query}})
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			// Go's client moves the declared trailers from the Trailer
			// header into resp.Trailer, valued once the body is read.
			if _, declared := resp.Trailer[PartialTrailer]; resp.StatusCode != http.StatusOK || !declared {
				t.Fatalf("status %d, trailers declared %v", resp.StatusCode, resp.Trailer)
			}
			var lines []string
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				lines = append(lines, sc.Text())
			}
			var partial *Partial
			rows := 0
			for i, l := range lines {
				if p, ok := ParsePartialLine([]byte(l)); ok {
					if i != len(lines)-1 {
						t.Fatalf("_partial line %d of %d is not the last", i+1, len(lines))
					}
					partial = p
					continue
				}
				rows++
			}
			if rows != tc.rows {
				t.Errorf("%d rows, want %d: %q", rows, tc.rows, lines)
			}
			trailer := resp.Trailer.Get(PartialTrailer)
			if tc.skipped == nil {
				if partial != nil || trailer != "" {
					t.Fatalf("complete answer says partial: %+v, trailer %q", partial, trailer)
				}
				return
			}
			want := Skipped{Kind: SkippedPart, Name: "00000000000000a1", Partition: "20240501", Error: "quarantined: checksum mismatch"}
			if partial == nil || len(partial.Skipped) != 1 || partial.Skipped[0] != want || !strings.Contains(partial.Reason, "1 part ") {
				t.Fatalf("partial = %+v, want skipped %+v", partial, want)
			}
			if trailer != "true" {
				t.Errorf("trailer %s = %q", PartialTrailer, trailer)
			}
		})
	}
}

// TestPartialJSON: every JSON query endpoint carries the partial member
// when its search skipped a part, and none otherwise.
func TestPartialJSON(t *testing.T) {
	for _, tc := range []struct {
		path string
		form url.Values
	}{
		{"/api/v1/hits", url.Values{"query": {"*"}, "from": {"2024-05-01T00:00:00Z"}, "to": {"2024-05-02T00:00:00Z"}}},
		{"/api/v1/field_names", url.Values{"query": {"*"}, "from": {"2024-05-01T00:00:00Z"}}},
		{"/api/v1/context", url.Values{"_stream": {`{host="a"}`}, "_time": {"2024-05-01T10:04:00Z"}}},
		{"/api/v1/explain", url.Values{"query": {"* | stats count() as n"}}},
		{"/api/v1/query?explain=1", url.Values{"query": {"*"}}},
	} {
		for _, skipped := range [][]store.SkippedPart{testSkipped, nil} {
			ts := newQueryServer(t, &queryBackend{recs: contextRecords(), skipped: skipped}, queryLimits)
			code, body := postForm(t, ts, tc.path, tc.form)
			var got map[string]json.RawMessage
			if err := json.Unmarshal([]byte(body), &got); err != nil || code != http.StatusOK {
				t.Fatalf("%s: %d %s (%v)", tc.path, code, body, err)
			}
			raw, has := got[PartialJSONKey]
			if skipped == nil {
				if has {
					t.Errorf("%s: complete answer has %s", tc.path, raw)
				}
				continue
			}
			var p Partial
			if err := json.Unmarshal(raw, &p); err != nil || len(p.Skipped) != 1 || p.Skipped[0].Name != skipped[0].Name || p.Reason == "" {
				t.Errorf("%s: partial member %s (%v)", tc.path, raw, err)
			}
			if len(got) < 2 {
				t.Errorf("%s: the answer lost its own members: %s", tc.path, body)
			}
		}
	}
}

func TestPartialMergeAndRender(t *testing.T) {
	a := NewPartial(Skipped{Kind: SkippedPart, Name: "p1", Partition: "20240501", Error: "x"})
	b := NewPartial(Skipped{Kind: SkippedIndexer, Name: "http://idx-2:9280", Error: "connection refused"},
		Skipped{Kind: SkippedPart, Name: "p1", Partition: "20240501", Error: "x again"})
	if NewPartial() != nil || (*Partial)(nil).Merge(nil) != nil || a.Merge(nil) != a || (*Partial)(nil).Merge(b) != b {
		t.Fatal("nil handling")
	}
	m := a.Merge(b)
	if len(m.Skipped) != 2 || m.Reason != "1 part in the time range could not be read (quarantined); 1 indexer did not answer: the answer lacks their records" {
		t.Fatalf("merged: %+v", m)
	}
	s := m.String()
	for _, want := range []string{"partial answer: ", "skipped part 20240501/p1: x", "skipped indexer http://idx-2:9280: connection refused"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() = %q lacks %q", s, want)
		}
	}
	line := appendPartialLine(nil, m)
	back, ok := ParsePartialLine(line)
	if !ok || back.Reason != m.Reason || len(back.Skipped) != 2 {
		t.Fatalf("round trip of %s: %+v %v", line, back, ok)
	}
	for _, l := range []string{`{"_time":"x","_partial":1}`, `{"_partial":null}`, `{"_partial":{},"x":1}`, `{"error":"x"}`, `not json`} {
		if _, ok := ParsePartialLine([]byte(l)); ok {
			t.Errorf("ParsePartialLine(%s) took it as partial", l)
		}
	}
	for _, v := range []any{struct{}{}, map[string]int{"a": 1}} {
		rec := httptest.NewRecorder()
		WriteJSON(rec, v, a)
		var got map[string]json.RawMessage
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got[PartialJSONKey] == nil {
			t.Errorf("WriteJSON(%v) = %s (%v)", v, rec.Body, err)
		}
	}
}

// FuzzParsePartialLine: any line is either not a partial-answer line or
// one whose Partial writes back to a line that parses to the same.
func FuzzParsePartialLine(f *testing.F) {
	f.Add([]byte(`{"_partial":{"reason":"x","skipped":[{"kind":"part","name":"p","partition":"20240501","error":"e"}]}}`))
	f.Add([]byte(`{"_partial":{}}`))
	f.Add([]byte(`{"_time":"x"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		p, ok := ParsePartialLine(line)
		if !ok {
			return
		}
		again, ok := ParsePartialLine(appendPartialLine(nil, p))
		if !ok || again.Reason != p.Reason || len(again.Skipped) != len(p.Skipped) {
			t.Fatalf("%q: parsed %+v, written back and parsed %+v (%v)", line, p, again, ok)
		}
	})
}
