package query

import (
	"reflect"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/logfmt"
	"github.com/sluice-log/sluice/internal/record"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`timeout`, `"connection refused"`, `*`, `level:error`, `status:>=500`,
		`status:[500 TO 599}`, `level:(error OR warn)`, `a b OR NOT c -d`, `host:web*`,
		`trace_id:*`, `"a \"b\" \\c"`, `x:-5`, `not:5`, `a:(b (c OR d))`,
		`level:error | stats count() as n by service, _time:1h | sort by n desc | limit 10`,
		`| stats avg(x), count_uniq("a b") by ("c d") | head 1`, "a\n\"b", `é:x`,
		`host:web*01 *err*`, `x:/a\/b(c)?/`, `level:="Error"`, `_time:[2024-05-01T00:00:00Z TO now-1h}`,
		`_stream:{service="api",host=~"web.*"}`, `NOT trace:*`, `_time:[now-1d/d TO now/w+1h}`, `_time:<now+1M`,
		`* | unpack_json from j | extract "took <ms>ms" | stats quantile(0.9, ms), rate() by (_time:5m, a) | filter n:>1`,
		`* | top 3 by a, b | fields a, count as n | where n:>2`, `* | unpack_logfmt`,
	} {
		f.Add(s)
	}
	rec := &record.Record{Time: 1, Message: "Error: connection refused", Stream: []record.Field{{Name: "service", Value: "api"}},
		Fields: []record.Field{{Name: "status", Value: "503"}, {Name: "level", Value: "error"}}}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("Parse(%q) returned %T, want *ParseError", s, err)
			}
			return
		}
		canon := q.String()
		q2, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its canonical form %q fails: %v", s, canon, err)
		}
		if !reflect.DeepEqual(q, q2) {
			t.Fatalf("round trip of %q via %q changed the tree:\n%#v\n%#v", s, canon, q, q2)
		}
		if again := q2.String(); again != canon {
			t.Fatalf("canonical form is not stable: %q then %q", canon, again)
		}
		filter := q.Compile()
		filter.Match(rec)
		filter.MayMatch(newExactSummary([]record.Record{*rec}))
	})
}

// FuzzExtraction runs the extraction pipes on arbitrary values: they must
// never panic, and the fields they make must come from the input.
func FuzzExtraction(f *testing.F) {
	f.Add(`status=<status> took <ms>ms`, `status=200 took 15ms`)
	f.Add(`<a> <_> "<b>"`, `a="x y" b=2 {"k":[1,2]}`)
	f.Add(`x<y>`, `{"a":"b","c":{"d":1}}`)
	f.Fuzz(func(t *testing.T, pattern, value string) {
		logfmt.Parse(value, nil)
		(&unpackJSONProcessor{}).unpack(value)
		e, err := newExtractPipe(pattern)
		if err != nil {
			return
		}
		for _, fl := range e.apply(value, nil) {
			if !strings.Contains(value, fl.Value) {
				t.Fatalf("extract %q from %q made %q, not in the input", pattern, value, fl.Value)
			}
		}
	})
}
