package query

import (
	"reflect"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`timeout`, `"connection refused"`, `*`, `level:error`, `status:>=500`,
		`status:[500 TO 599}`, `level:(error OR warn)`, `a b OR NOT c -d`, `host:web*`,
		`trace_id:*`, `"a \"b\" \\c"`, `x:-5`, `not:5`, `a:(b (c OR d))`,
		`level:error | stats count() as n by service, _time:1h | sort by n desc | limit 10`,
		`| stats avg(x), count_uniq("a b") by ("c d") | head 1`, "a\n\"b", `é:x`,
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
