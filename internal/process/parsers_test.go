package process

import (
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

func TestParseJSON(t *testing.T) {
	runCases(t, []processCase{
		{name: "message and nested fields",
			step: "- type: parse_json",
			in:   rec(`{"level":"info","msg":"started","http":{"status":200,"ok":true},"tags":["a","b"],"none":null}`),
			want: `started | level=info http.status=200 http.ok=true tags=["a","b"]`},
		{name: "no message field keeps the message",
			step: "- type: parse_json",
			in:   rec(`{"a":1}`),
			want: `{"a":1} | a=1`},
		{name: "from a field, under a prefix, the source removed",
			step: "- {type: parse_json, field: payload, prefix: p}",
			in:   rec("hello", "payload", `{"x":"y","msg":"inner"}`, "other", "1"),
			want: `inner | other=1 p.x=y`},
		{name: "keep_field",
			step: "- {type: parse_json, field: payload, keep_field: true, message_fields: []}",
			in:   rec("m", "payload", `{"x":"y"}`),
			want: `m | payload={"x":"y"} x=y`},
		{name: "a parsed stream label's name sets the label",
			step: "- type: parse_json",
			in:   rec(`{"service":"billing","k":"v"}`, "stream:service", "api"),
			want: `{"service":"billing","k":"v"} | k=v {service="billing"}`},
		{name: "time field",
			step: "- {type: parse_json, time_fields: [ts]}",
			in:   rec(`{"ts":"2026-03-04T05:06:07Z","msg":"x"}`),
			want: `x |`},
		{name: "unparseable time stays a field and counts",
			step: "- {type: parse_json, time_fields: [ts]}",
			in:   rec(`{"ts":"yesterday","msg":"x"}`),
			want: `x | ts=yesterday`, errors: 1},
		{name: "not JSON", step: "- type: parse_json", in: rec("plain text"), want: "plain text |", errors: 1},
		{name: "broken JSON", step: "- type: parse_json", in: rec(`{"a":`), want: `{"a": |`, errors: 1},
		{name: "an array is not an object", step: "- type: parse_json", in: rec(`[1,2]`), want: `[1,2] |`, errors: 1},
		{name: "too many fields", step: "- {type: parse_json, max_fields: 2}", in: rec(`{"a":1,"b":2,"c":3}`), want: `{"a":1,"b":2,"c":3} |`, errors: 1},
		{name: "missing source field passes", step: "- {type: parse_json, field: nope}", in: rec("m"), want: "m |"},
		{name: "reserved names from the input are not fields",
			step: "- type: parse_json",
			in:   rec(`{"_stream":"x","_msg":"real","_tenant":"evil"}`),
			want: `real |`},
	})
	// The time field did set the record's time.
	p := build(t, "- {type: parse_json, time_fields: [ts]}")
	out := p.Process([]record.Record{rec(`{"ts":"2026-03-04T05:06:07Z"}`)})
	if got := formatTime(out[0].Time); got != "2026-03-04T05:06:07Z" {
		t.Errorf("time %s", got)
	}
}

func TestParseLogfmt(t *testing.T) {
	runCases(t, []processCase{
		{name: "pairs", step: "- type: parse_logfmt", in: rec(`level=warn msg="disk 91% full" dur=1.5s`),
			want: `disk 91% full | level=warn dur=1.5s`},
		{name: "prefix and time", step: "- {type: parse_logfmt, prefix: kv, time_fields: [ts]}", in: rec(`ts=1767225600 a=b`),
			want: `ts=1767225600 a=b | kv.a=b`},
		{name: "no pairs", step: "- type: parse_logfmt", in: rec("just words"), want: "just words |", errors: 1},
	})
}

func TestParseRegex(t *testing.T) {
	runCases(t, []processCase{
		{name: "named groups", step: `- {type: parse_regex, pattern: '^(?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3})(?: (?P<ms>\d+)ms)?'}`,
			in: rec("GET /x 404"), want: `GET /x 404 | method=GET path=/x status=404`},
		{name: "a group named _msg sets the message", step: `- {type: parse_regex, pattern: '^\[(?P<level>\w+)\] (?P<_msg>.*)'}`,
			in: rec("[ERROR] boom"), want: `boom | level=ERROR`},
		{name: "no match", step: `- {type: parse_regex, pattern: '^(?P<a>\d+)$'}`, in: rec("abc"), want: "abc |", errors: 1},
	})
	for _, bad := range []string{
		`- {type: parse_regex}`,
		`- {type: parse_regex, pattern: '(unclosed'}`,
		`- {type: parse_regex, pattern: '(\d+)'}`,
		`- {type: parse_regex, pattern: '(?P<a>x)', field: _time}`,
	} {
		if _, err := buildErr(bad); err == nil {
			t.Errorf("%s: built", bad)
		}
	}
}

func TestGrokProcessor(t *testing.T) {
	runCases(t, []processCase{
		{name: "apache combined, typed", step: "- {type: grok, patterns: ['%{COMBINEDAPACHELOG}']}",
			in:   rec(`10.0.0.1 - - [02/Jan/2026:03:04:05 +0000] "GET /a HTTP/1.1" 200 512 "-" "curl/8"`),
			want: `10.0.0.1 - - [02/Jan/2026:03:04:05 +0000] "GET /a HTTP/1.1" 200 512 "-" "curl/8" | clientip=10.0.0.1 ident=- auth=- timestamp=02/Jan/2026:03:04:05 +0000 verb=GET request=/a httpversion=1.1 response=200 bytes=512 referrer=- agent=curl/8`},
		{name: "syslog message becomes the message", step: "- {type: grok, patterns: ['%{SYSLOGLINE}']}",
			in: rec("Jan  2 03:04:05 h1 cron[7]: job done"), want: `job done | timestamp=Jan  2 03:04:05 logsource=h1 program=cron pid=7`},
		{name: "first matching pattern, own definitions, int conversion",
			step: "- type: grok\n  patterns: ['^%{NOPE_X:x}$', '^took %{MS:ms:int}ms$']\n  pattern_definitions: {MS: '[0-9.]+', NOPE_X: 'zzz'}",
			in:   rec("took 12.9ms"), want: `took 12.9ms | ms=12`},
		{name: "no match", step: "- {type: grok, patterns: ['%{IP:ip}']}", in: rec("none"), want: "none |", errors: 1},
	})
	for _, bad := range []string{
		`- {type: grok}`,
		`- {type: grok, patterns: ['%{NOPE:x}']}`,
		`- {type: grok, patterns: ['%{WORD}']}`,
	} {
		if _, err := buildErr(bad); err == nil {
			t.Errorf("%s: built", bad)
		}
	}
}

// FuzzParsers runs every parser over arbitrary input: nothing panics, and
// the record that comes out is well formed (labels sorted and unique,
// no field named like a label or a reserved name).
func FuzzParsers(f *testing.F) {
	steps := strings.Join([]string{
		"- {type: parse_json, field: a, time_fields: [t]}",
		"- {type: parse_logfmt, field: b, prefix: l}",
		`- {type: parse_regex, field: c, pattern: '(?P<x>\w+)=(?P<y>\S*)'}`,
		"- {type: grok, field: d, patterns: ['%{COMBINEDAPACHELOG}', '%{SYSLOGLINE}', '%{TIMESTAMP_ISO8601:t} %{LOGLEVEL:l}']}",
		"- {type: timestamp, field: t, layouts: [auto, syslog, httpdate, unix_ms, '2006-01-02 15:04:05 MST']}",
		"- {type: coerce, fields: {x: int, y: float, l: bool}}",
	}, "\n")
	p := build(f, steps)
	f.Add(`{"a":{"b":[1,{"c":null}]},"t":"2026-01-01T00:00:00Z","service":"s"}`, `a=1 b="x \" y" c`, "k=v", `1.2.3.4 - - [02/Jan/2026:03:04:05 +0000] "GET / HTTP/1.1" 200 5 "-" "x"`)
	f.Add(`{"_msg":1,"_time":"x","":""}`, `=`, "==", "Jan  2 03:04:05 h p[1]: m")
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		r := rec("m", "a", a, "b", b, "c", c, "d", d, "stream:service", "api")
		out := p.Process([]record.Record{r})
		if len(out) != 1 {
			t.Fatalf("a parser dropped the record")
		}
		checkWellFormed(t, &out[0])
	})
}

func checkWellFormed(t *testing.T, r *record.Record) {
	t.Helper()
	names := map[string]bool{}
	for i, l := range r.Stream {
		if i > 0 && r.Stream[i-1].Name >= l.Name {
			t.Fatalf("labels not sorted and unique: %v", r.Stream)
		}
		names[l.Name] = true
	}
	for _, f := range r.Fields {
		switch {
		case names[f.Name]:
			t.Fatalf("field %q repeats a label or field: %v", f.Name, r)
		case f.Name == record.TimeField || f.Name == record.MessageField || f.Name == record.StreamField || f.Name == TenantField || f.Name == "":
			t.Fatalf("field named %q", f.Name)
		}
		names[f.Name] = true
	}
}
