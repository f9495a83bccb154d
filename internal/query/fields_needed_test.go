package query

import (
	"context"
	"reflect"
	"testing"
)

// TestSearchFields checks the Fields that Execute asks the store for: the
// smallest set, and nil (every field) whenever records are returned whole.
func TestSearchFields(t *testing.T) {
	none := []string{}
	tests := []struct {
		query string
		want  []string // nil: every field
	}{
		// Whole records out: every field.
		{"error", nil},
		{"*", nil},
		{"level:error | limit 5", nil},
		{"* | sort by latency desc | limit 3", nil},
		{"* | filter status:>=500", nil},
		{"* | unpack_json", nil},
		{`* | extract "took <ms>ms"`, nil},
		// Aggregations: only what the filter and the pipes read.
		{"* | stats count()", none},
		{"* | stats count() by _time:1m", none},
		{"* | stats rate() by _stream", none},
		{`_time:>now-1h _stream:{service="api"} | stats count()`, none},
		{"timeout | stats count() as n", []string{"_msg"}},
		{`"connection refused" | stats count()`, []string{"_msg"}},
		{"service:payments | stats count()", []string{"service"}},
		{"latency_ms:>1000 | stats count()", []string{"latency_ms"}},
		{"level:error | stats count() as n by service | sort by n desc | limit 10", []string{"level", "service"}},
		{"* | stats count() by level", []string{"level"}},
		{"err* OR host:web* OR NOT status:~\"^5\" | stats count()", []string{"_msg", "host", "status"}},
		{"a:=x AND b:* AND c:[1 TO 2] | stats count()", []string{"a", "b", "c"}},
		{"* | stats avg(a), sum(b), min(c), max(d), count_uniq(e), quantile(0.9, f) by g", []string{"a", "b", "c", "d", "e", "f", "g"}},
		{"* | stats count() as n by level | filter n:>3", []string{"level"}},
		{"* | stats count() as n by level | filter level:error", []string{"level"}},
		{"* | top 5 by service, host", []string{"host", "service"}},
		{"* | fields _time, _stream, level", []string{"level"}},
		{"* | fields _msg as m | sort by m", []string{"_msg"}},
		{"x:1 | fields a | limit 2", []string{"a", "x"}},
		{"* | sort by b | fields a", []string{"a", "b"}},
		{"* | filter b:1 | fields a", []string{"a", "b"}},
		// Extraction reads its source; later pipes may read either an
		// extracted field or, when the source does not fill it, the
		// stored one.
		{"* | unpack_json | stats count() by level", []string{"_msg", "level"}},
		{"* | unpack_logfmt from payload | stats sum(bytes)", []string{"bytes", "payload"}},
		{`* | extract "took <ms>ms" | stats avg(ms)`, []string{"_msg", "ms"}},
		{`* | extract "<a> <b>" from x | filter a:1 | fields b`, []string{"a", "b", "x"}},
	}
	for _, tt := range tests {
		q, err := Parse(tt.query)
		if err != nil {
			t.Fatalf("%s: %v", tt.query, err)
		}
		var got []string
		if err := Execute(context.Background(), fieldsRecorder{&got}, q, Options{}, func(Row) error { return nil }); err != nil {
			t.Fatalf("%s: %v", tt.query, err)
		}
		if (got == nil) != (tt.want == nil) || !reflect.DeepEqual(append([]string{}, got...), append([]string{}, tt.want...)) {
			t.Errorf("%s: Fields %#v, want %#v", tt.query, got, tt.want)
		}
	}
}
