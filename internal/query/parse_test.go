package query

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestParseCanonical pins the canonical form of every construct and checks
// that it parses back to the same tree.
func TestParseCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		// words, phrases, everything
		{`timeout`, `timeout`},
		{`"connection refused"`, `"connection refused"`},
		{`"timeout"`, `timeout`},
		{`*`, `*`},
		{``, `*`},
		{`   `, `*`},
		{`_msg:timeout`, `timeout`},
		{`"say \"hi\" C:\\dir"`, `"say \"hi\" C:\\dir"`},
		{`"C:\dir"`, `"C:\\dir"`},
		{`"and"`, `"and"`},
		{`foo,bar`, `"foo,bar"`},
		{`héllo`, `héllo`},
		// field:value
		{`level:error`, `level:error`},
		{`level : error`, `level:error`},
		{`service:"payments api"`, `service:"payments api"`},
		{`@timestamp:2024`, `@timestamp:2024`},
		{`http.status:404`, `http.status:404`},
		{`host.name:web-01.example.com`, `host.name:web-01.example.com`},
		{`k8s.pod-name:x`, `k8s.pod-name:x`},
		{`_stream:payments`, `_stream:payments`},
		{`field:""`, `field:""`},
		{`x:-5`, `x:-5`},
		{`not:5`, `not:5`},
		{`path:"/a:b"`, `path:"/a:b"`},
		// exists and prefix
		{`trace_id:*`, `trace_id:*`},
		{`_msg:*`, `_msg:*`},
		{`host:web*`, `host:web*`},
		{`time*`, `time*`},
		{`_msg:-x*`, `_msg:-x*`},
		{`host:web-*`, `host:web-*`},
		// wildcards, regular expressions, exact values
		{`host:web*01`, `host:web*01`},
		{`*error*`, `*error*`},
		{`_msg:*err*or`, `*err*or`},
		{`path:*.php`, `path:*.php`},
		{`x:/err(or)?s/`, `x:/err(or)?s/`},
		{`path:/^\/api\/v[0-9]+/`, `path:/^\/api\/v[0-9]+/`},
		{`x:/a\\/`, `x:/a\\/`},
		{`x:/(?i)timeout/`, `x:/(?i)timeout/`},
		{`path:"/api/v1"`, `path:"/api/v1"`},
		{`level:="Error"`, `level:=Error`},
		{`level:=Error`, `level:=Error`},
		{`msg:="a b"`, `msg:="a b"`},
		{`msg:=""`, `msg:=""`},
		{`x:"=a"`, `x:"=a"`},
		{`NOT trace_id:*`, `NOT trace_id:*`},
		// time ranges
		{`_time:[2024-05-01T00:00:00Z TO 2024-05-02T00:00:00Z]`, `_time:["2024-05-01T00:00:00Z" TO "2024-05-02T00:00:00Z"]`},
		{`_time:>now-1h`, `_time:>now-1h`},
		{`_time:[now-1d/d TO now/d+1h}`, `_time:[now-1d/d TO now/d+1h}`},
		{`_time:<now+1h`, `_time:<now+1h`},
		{`_time:>=2024-05-01 _time:<now`, `_time:>=2024-05-01 AND _time:<now`},
		{`_time:<"2024-05-01T10:00:00.5+02:00"`, `_time:<"2024-05-01T10:00:00.5+02:00"`},
		// stream selectors
		{`_stream:{service="api"}`, `_stream:{service="api"}`},
		{`_stream:{ service = "api" , host=~"web.*" }`, `_stream:{service="api",host=~"web.*"}`},
		{`_stream:{a!="x",b!~"y|z"} error`, `_stream:{a!="x",b!~"y|z"} AND error`},
		{`_stream:{a="}"}`, `_stream:{a="}"}`},
		// comparisons and ranges
		{`status:>=500`, `status:>=500`},
		{`status:> 500`, `status:>500`},
		{`latency_ms:>1000`, `latency_ms:>1000`},
		{`x:<0.5`, `x:<0.5`},
		{`x:<=-1e3`, `x:<=-1e3`},
		{`name:>"abc def"`, `name:>"abc def"`},
		{`status:[500 TO 599]`, `status:[500 TO 599]`},
		{`status:{500 TO 599}`, `status:{500 TO 599}`},
		{`status:[500 to 599}`, `status:[500 TO 599}`},
		{`status:{500 TO *]`, `status:{500 TO *]`},
		{`day:[2024-01-01 TO "2024-02-01"]`, `day:[2024-01-01 TO 2024-02-01]`},
		{`x:["*" TO "TO"]`, `x:["*" TO "TO"]`},
		// value lists
		{`level:(error OR warn OR fatal)`, `level:error OR level:warn OR level:fatal`},
		{`level:(error)`, `level:error`},
		{`status:(>=500 OR 404)`, `status:>=500 OR status:404`},
		{`a:(b c)`, `a:b AND a:c`},
		{`a:(b OR (c d))`, `a:b OR a:c AND a:d`},
		{`a:(NOT b)`, `NOT a:b`},
		{`x AND a:(b OR c)`, `x AND (a:b OR a:c)`},
		// boolean operators and precedence
		{`a b`, `a AND b`},
		{`a and b`, `a AND b`},
		{`a AND b AND c`, `a AND b AND c`},
		{`(a AND b) AND c`, `a AND b AND c`},
		{`a OR b c`, `a OR b AND c`},
		{`(a OR b) c`, `(a OR b) AND c`},
		{`a or (b or c)`, `a OR b OR c`},
		{`NOT a b`, `NOT a AND b`},
		{`not a or b`, `NOT a OR b`},
		{`NOT (a OR b)`, `NOT (a OR b)`},
		{`NOT NOT a`, `NOT NOT a`},
		{`-a`, `NOT a`},
		{`-level:debug`, `NOT level:debug`},
		{`-"a b"`, `NOT "a b"`},
		{`-(a b)`, `NOT (a AND b)`},
		{`- a`, `NOT a`},
		{`--a`, `NOT NOT a`},
		{`a -b`, `a AND NOT b`},
		{`((a))`, `a`},
		{strings.Repeat("(", 99) + "a" + strings.Repeat(")", 99), `a`},
		// pipes
		{`level:error | stats count() as n`, `level:error | stats count() as n`},
		{`| stats count()`, `* | stats count()`},
		{`* | STATS COUNT() AS n`, `* | stats count() as n`},
		{`* | stats count(), count_uniq(host), sum(bytes), avg(latency_ms), min(x), max(x)`, `* | stats count(), count_uniq(host), sum(bytes), avg(latency_ms), min(x), max(x)`},
		{`* | stats count() as n by level`, `* | stats count() as n by level`},
		{`* | stats count() as n by (level, service)`, `* | stats count() as n by level, service`},
		{`* | stats count() as n by _time:1h`, `* | stats count() as n by _time:1h`},
		{`* | stats count() by _time:60m`, `* | stats count() by _time:1h`},
		{`* | stats count() by _time:90s`, `* | stats count() by _time:90s`},
		{`* | stats count() by _time:1500ms`, `* | stats count() by _time:1500ms`},
		{`* | stats count() by _time:1d, level`, `* | stats count() by _time:1d, level`},
		{`* | stats count() as "my count" by "by"`, `* | stats count() as "my count" by "by"`},
		{`* | stats count() as "count()"`, `* | stats count()`},
		{`* | sort by n desc, level asc`, `* | sort by n desc, level`},
		{`* | sort by count() desc`, `* | sort by count() desc`},
		{`* | stats avg(x) | sort by avg(x)`, `* | stats avg(x) | sort by avg(x)`},
		{`* | limit 10`, `* | limit 10`},
		{`* | head 3`, `* | limit 3`},
		{`level:error | stats count() as n by service | sort by n desc | limit 10`, `level:error | stats count() as n by service | sort by n desc | limit 10`},
	}
	for _, tt := range tests {
		q, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := q.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
		checkRoundTrip(t, q)
	}
}

func checkRoundTrip(t *testing.T, q *Query) {
	t.Helper()
	s := q.String()
	q2, err := Parse(s)
	if err != nil {
		t.Errorf("canonical form %q does not parse: %v", s, err)
		return
	}
	if !reflect.DeepEqual(q, q2) {
		t.Errorf("round trip of %q changed the tree:\n%#v\n%#v", s, q, q2)
	}
}

// TestParseTree pins the trees of a few queries, so that the canonical
// printer cannot hide a misparse.
func TestParseTree(t *testing.T) {
	tests := []struct {
		in   string
		want *Query
	}{
		{`a OR b c`, &Query{Filter: Or{Children: []Node{
			Phrase{Field: "_msg", Value: "a"},
			And{Children: []Node{Phrase{Field: "_msg", Value: "b"}, Phrase{Field: "_msg", Value: "c"}}},
		}}}},
		{`NOT a b`, &Query{Filter: And{Children: []Node{Not{Child: Phrase{Field: "_msg", Value: "a"}}, Phrase{Field: "_msg", Value: "b"}}}}},
		{`host:web*01 *err* x:/a\/b/ level:="Error"`, &Query{Filter: And{Children: []Node{
			Wildcard{Field: "host", Pattern: "web*01"}, Wildcard{Field: "_msg", Pattern: "*err*"},
			Regex{Field: "x", Pattern: "a/b"}, Exact{Field: "level", Value: "Error"},
		}}}},
		{`_time:[2024-05-01T00:00:00Z TO now] NOT trace:*`, &Query{Filter: And{Children: []Node{
			Range{Field: "_time", Lo: Bound{Value: "2024-05-01T00:00:00Z"}, Hi: Bound{Value: "now"}, LoIncl: true, HiIncl: true},
			Not{Child: Exists{Field: "trace"}},
		}}}},
		{`_stream:{service="api",host=~"web.*"}`, &Query{Filter: StreamSelector{Matchers: []LabelMatcher{
			{Label: "service", Op: "=", Value: "api"}, {Label: "host", Op: "=~", Value: "web.*"},
		}}}},
		{`status:[500 TO *}`, &Query{Filter: Range{Field: "status", Lo: Bound{Value: "500"}, Hi: Bound{Unbounded: true}, LoIncl: true}}},
		{`x:>=5 y:abc* z:*`, &Query{Filter: And{Children: []Node{
			Compare{Field: "x", Op: ">=", Value: "5"}, Prefix{Field: "y", Value: "abc"}, Exists{Field: "z"},
		}}}},
		{`| stats count() as n, avg(l) by (s, _time:5m) | sort by n desc | head 2`, &Query{Filter: MatchAll{}, Pipes: []Pipe{
			&StatsPipe{
				Funcs: []StatsCall{{Func: statsCount{}, Name: "n"}, {Func: statsAvg{Field: "l"}, Name: "avg(l)"}},
				By:    []GroupKey{{Field: "s"}, {Field: "_time", Bucket: 5 * time.Minute}},
			},
			&SortPipe{Keys: []SortKey{{Field: "n", Desc: true}}},
			&LimitPipe{N: 2},
		}}},
	}
	for _, tt := range tests {
		q, err := Parse(tt.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.in, err)
		}
		if !reflect.DeepEqual(q, tt.want) {
			t.Errorf("Parse(%q) =\n%#v\nwant\n%#v", tt.in, q, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in, want string
		pos      int
	}{
		{`level:`, `query: 1:7: expected a value after ':', found end of query`, 6},
		{`service:payments AND status:`, `query: 1:29: expected a value after ':', found end of query`, 28},
		{`level:)`, `query: 1:7: expected a value after ':', found ')'`, 6},
		{`a:b:c`, `query: 1:4: unexpected ':' (quote values that contain ':', like host:"a:b")`, 3},
		{`(a`, `query: 1:3: expected ')' to close the '(' at 1:1, found end of query`, 2},
		{`a)`, `query: 1:2: expected an operator, '|' or the end of the query, found ')'`, 1},
		{`()`, `query: 1:2: expected a search term, found ')'`, 1},
		{`"abc`, `query: 1:1: unterminated quoted string: expected a closing '"'`, 0},
		{"a\n  \"abc", `query: 2:3: unterminated quoted string: expected a closing '"'`, 4},
		{`x:/a(/`, `query: 1:3: invalid regular expression: missing closing ): "a("`, 2},
		{`x:/a/b/`, `query: 1:3: /a/b/ is ambiguous: it reads as the regular expression /a/ followed by "b/", or as the value "/a/b/"; quote the value ("/a/b/") or write the expression with \/ for each '/' inside it`, 2},
		{`x:=(a)`, `query: 1:4: expected a value after ':=' (quote it: field:="Value"), found '('`, 3},
		{`_time:>yesterday`, `query: 1:8: invalid time "yesterday": expected an RFC 3339 time like 2024-05-01T10:00:00Z, a day like 2024-05-01, now-1h, now+1h or now-1d/d`, 7},
		{`_time:>now-1x`, `query: 1:8: invalid relative time "now-1x": expected now followed by steps like -1h, +30m or /d (units ms, s, m, h, d, w, M, y), as in now-1d/d`, 7},
		{`_time:2024`, `query: 1:7: _time takes a range or a comparison, like _time:>now-1h or _time:[2024-05-01 TO 2024-05-02]`, 6},
		{`_stream:{}`, `query: 1:10: expected a label name in the stream selector, found ""`, 9},
		{`_stream:{a~"x"}`, `query: 1:11: expected =, !=, =~ or !~ after the label "a"`, 10},
		{`_stream:{a=x}`, `query: 1:12: expected a quoted value after a=`, 11},
		{`_stream:{a="x" b="y"}`, `query: 1:16: expected ',' or '}' in the stream selector`, 15},
		{`_stream:{a=~"("}`, `query: 1:13: invalid regular expression for a: missing closing ): "("`, 12},
		{`x:/.{0,1000}b.{0,1000}z.{0,1000}/`, `query: 1:3: regular expression compiles to 6004 instructions, over the limit of 5000 (query.max_regex_size); use smaller counted repetitions ({0,1000} repeats what it follows 1000 times) or * and +`, 2},
		{`_stream:{a=~".{0,1000}.{0,1000}.{0,1000}"}`, `query: 1:13: regular expression for a compiles to 6002 instructions, over the limit of 5000 (query.max_regex_size); use smaller counted repetitions ({0,1000} repeats what it follows 1000 times) or * and +`, 12},
		{`x:-*`, `query: 1:3: expected letters or digits before '*', found "-*"`, 2},
		{`a/b:c`, `query: 1:1: invalid field name "a/b": field names hold letters, digits and _ . - @`, 0},
		{`status:>`, `query: 1:9: expected a number or a word after '>', found end of query`, 8},
		{`status:>=*`, `query: 1:10: expected a number or a word after '>=', found "*"`, 9},
		{`x:[1 TO`, `query: 1:8: expected a range bound (a number, a word or *), found end of query`, 7},
		{`x:[1 5]`, `query: 1:6: expected TO in the range, found "5"`, 5},
		{`x:[1 TO 5`, `query: 1:10: expected ']' or '}' to close the range, found end of query`, 9},
		{`x:[TO TO 5]`, `query: 1:4: expected a range bound, found "TO"`, 3},
		{`a AND`, `query: 1:6: expected a search term, found end of query`, 5},
		{`a OR OR b`, `query: 1:6: expected a search term (quote "OR" to search for the word), found "OR"`, 5},
		{`NOT`, `query: 1:4: expected a search term, found end of query`, 3},
		{`-`, `query: 1:2: expected a term after '-', found end of query`, 1},
		{`>5`, `query: 1:1: expected a search term, found '>'`, 0},
		{`a |`, `query: 1:4: expected a pipe name (extract, fields, filter, flow, head, limit, sort, stats, top, unpack_json, unpack_logfmt, where), found end of query`, 3},
		{`a | foo`, `query: 1:5: unknown pipe "foo": expected one of extract, fields, filter, flow, head, limit, sort, stats, top, unpack_json, unpack_logfmt, where`, 4},
		{`| stats`, `query: 1:8: expected a stats function (avg(), count(), count_uniq(), max(), min(), quantile(), rate(), sum(), sum_len()), found end of query`, 7},
		{`| stats median(x)`, `query: 1:9: unknown stats function "median": expected one of avg(), count(), count_uniq(), max(), min(), quantile(), rate(), sum(), sum_len()`, 8},
		{`| stats count(x)`, `query: 1:9: count takes no arguments: count()`, 8},
		{`| stats avg()`, `query: 1:9: avg takes one field, as in avg(latency_ms)`, 8},
		{`| stats count`, `query: 1:14: expected '(' after count, found end of query`, 13},
		{`| stats count() as`, `query: 1:19: expected a column name after 'as', found end of query`, 18},
		{`| stats count(), count()`, `query: 1:18: duplicate column "count()": name results apart with 'as'`, 17},
		{`| stats count() as n by n`, `query: 1:25: duplicate column "n": name results apart with 'as'`, 24},
		{`| stats count() by`, `query: 1:19: expected a field to group by, found end of query`, 18},
		{`| stats count() by (a`, `query: 1:22: expected ',' or ')' after the group fields, found end of query`, 21},
		{`| stats count() by _time:1y`, `query: 1:26: expected a bucket length such as 1m, 1h or 1d (units ms, s, m, h, d), found "1y"`, 25},
		{`| stats count() by _time:0s`, `query: 1:26: expected a bucket length such as 1m, 1h or 1d (units ms, s, m, h, d), found "0s"`, 25},
		{`| stats count() by level:1h`, `query: 1:25: only _time takes a bucket (like _time:1h); found "level" before ':'`, 24},
		{`| stats count() level`, `query: 1:17: expected '|' or the end of the query after stats, found "level"`, 16},
		{`| sort n`, `query: 1:8: expected 'by', found "n"`, 7},
		{`| sort by`, `query: 1:10: expected a field to sort by, found end of query`, 9},
		{`| limit`, `query: 1:8: expected a number of rows, found end of query`, 7},
		{`| limit -1`, `query: 1:9: expected a number of rows, found "-1"`, 8},
		{`| limit 10 20`, `query: 1:12: expected '|' or the end of the query after limit, found "20"`, 11},
		{`é:"x`, `query: 1:3: unterminated quoted string: expected a closing '"'`, 3},
		{strings.Repeat("(", 100) + "a" + strings.Repeat(")", 100), `query: 1:101: the query nests parentheses and NOTs more than 100 deep`, 100},
		{strings.Repeat("-", 101) + "a", `query: 1:101: the query nests parentheses and NOTs more than 100 deep`, 100},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) error = %v, want a *ParseError", tt.in, err)
			continue
		}
		if err.Error() != tt.want || pe.Pos != tt.pos {
			t.Errorf("Parse(%q) error = %q at %d, want %q at %d", tt.in, err.Error(), pe.Pos, tt.want, tt.pos)
		}
	}
}
