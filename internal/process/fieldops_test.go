package process

import (
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

func TestSet(t *testing.T) {
	runCases(t, []processCase{
		{name: "fields and labels", step: "- {type: set, fields: {env: prod, _msg: replaced}, labels: {team: pay}}",
			in: rec("m", "team", "old"), want: `replaced | env=prod {team="pay"}`},
		{name: "a field named like a label sets the label", step: "- {type: set, fields: {service: web}}",
			in: rec("m", "stream:service", "api"), want: `m | {service="web"}`},
		{name: "if_missing", step: "- {type: set, if_missing: true, fields: {env: prod, zone: a}, labels: {service: x}}",
			in: rec("m", "env", "dev", "stream:service", "api"), want: `m | env=dev zone=a {service="api"}`},
	})
	for _, bad := range []string{
		"- {type: set}",
		"- {type: set, fields: {_time: x}}",
		"- {type: set, fields: {_tenant: x}}",
		"- {type: set, labels: {_msg: x}}",
		"- {type: set, fields: {a: b}, unknown: 1}",
	} {
		if _, err := buildErr(bad); err == nil {
			t.Errorf("%s: built", bad)
		}
	}
}

func TestRename(t *testing.T) {
	runCases(t, []processCase{
		{name: "field, label, message", step: "- {type: rename, fields: {lvl: level, host: hostname, _msg: text}}",
			in: rec("hello", "lvl", "warn", "stream:host", "h1"), want: ` | text=hello level=warn {hostname="h1"}`},
		{name: "swap", step: "- {type: rename, fields: {a: b, b: a}}",
			in: rec("m", "a", "1", "b", "2"), want: `m | b=1 a=2`},
		{name: "a field to the message", step: "- {type: rename, fields: {log: _msg}}",
			in: rec("", "log", "line"), want: `line |`},
		{name: "missing is skipped", step: "- {type: rename, fields: {nope: x}}", in: rec("m", "a", "1"), want: `m | a=1`},
	})
}

func TestDrop(t *testing.T) {
	runCases(t, []processCase{
		{name: "fields", step: "- {type: drop, fields: [a, service, _msg]}",
			in: rec("m", "a", "1", "b", "2", "stream:service", "x"), want: ` | b=2`},
		{name: "record by condition", step: "- {type: drop, if: 'level:debug'}", in: rec("m", "level", "debug"), want: "dropped"},
		{name: "condition not met", step: "- {type: drop, if: 'level:debug'}", in: rec("m", "level", "info"), want: "m | level=info"},
	})
}

func TestStream(t *testing.T) {
	runCases(t, []processCase{
		{name: "fields become labels, sorted", step: "- {type: stream, fields: [zone, app, missing]}",
			in: rec("m", "zone", "z1", "app", "a", "x", "1", "stream:host", "h"), want: `m | x=1 {app="a",host="h",zone="z1"}`},
	})
}

func TestCoerce(t *testing.T) {
	runCases(t, []processCase{
		{name: "types", step: "- {type: coerce, fields: {a: int, b: float, c: bool, d: lower, e: upper, f: trim, g: int}}",
			in: rec("m", "a", "0042", "b", "1.50", "c", "YES", "d", "MiXed", "e", "x", "f", "  y ", "g", "12.9"), want: `m | a=42 b=1.5 c=true d=mixed e=X f=y g=12`},
		{name: "a value that does not convert stays and counts", step: "- {type: coerce, fields: {a: int, b: bool}}",
			in: rec("m", "a", "many", "b", "maybe"), want: `m | a=many b=maybe`, errors: 1},
	})
	if _, err := buildErr("- {type: coerce, fields: {a: date}}"); err == nil {
		t.Error("unknown type built")
	}
}

func TestTimestamp(t *testing.T) {
	for _, tc := range []struct {
		step, value, want string
	}{
		{"- {type: timestamp}", "2026-02-03T04:05:06.789+01:00", "2026-02-03T03:05:06.789Z"},
		{"- {type: timestamp}", "1767225600123", "2026-01-01T00:00:00.123Z"},
		{"- {type: timestamp, layouts: [unix_ms]}", "1767225600123", "2026-01-01T00:00:00.123Z"},
		{"- {type: timestamp, layouts: [unix]}", "1767225600.5", "2026-01-01T00:00:00.5Z"},
		{"- {type: timestamp, layouts: [httpdate]}", "02/Jan/2026:03:04:05 -0700", "2026-01-02T10:04:05Z"},
		{"- {type: timestamp, layouts: ['2006-01-02 15:04:05'], timezone: Europe/Berlin}", "2026-07-01 12:00:00", "2026-07-01T10:00:00Z"},
		// TestTime is 2026-01-01: a December syslog time is last year's.
		{"- {type: timestamp, layouts: [syslog]}", "Dec 31 23:59:59", "2025-12-31T23:59:59Z"},
		{"- {type: timestamp, layouts: [syslog]}", "Jan  1 00:00:05", "2026-01-01T00:00:05Z"},
		{"- {type: timestamp, layouts: [rfc3339, unix]}", "1767225600", "2026-01-01T00:00:00Z"},
	} {
		p := build(t, tc.step)
		r := rec("m", "time", tc.value)
		out := p.Process([]record.Record{r})
		if got := formatTime(out[0].Time); got != tc.want || len(out[0].Fields) != 0 {
			t.Errorf("%s %q: %s %v, want %s and the field removed", tc.step, tc.value, got, out[0].Fields, tc.want)
		}
	}
	runCases(t, []processCase{
		{name: "no layout fits", step: "- {type: timestamp, layouts: [rfc3339]}", in: rec("m", "time", "soon"), want: "m | time=soon", errors: 1},
		{name: "keep_field", step: "- {type: timestamp, field: ts, keep_field: true}", in: rec("m", "ts", "1767225600"), want: "m | ts=1767225600"},
	})
	if _, err := buildErr("- {type: timestamp, timezone: Mars/Olympus}"); err == nil {
		t.Error("bad zone built")
	}
}

func TestRoute(t *testing.T) {
	step := "- type: route\n  routes:\n  - {if: 'service:billing OR team:pay', tenant: payments}\n  - {if: '_stream:{namespace=\"search\"}', tenant: search}\n  - {if: 'level:debug', tenant: ''}"
	runCases(t, []processCase{
		{name: "first rule", step: step, in: rec("m", "service", "billing"), want: "m | service=billing tenant=payments"},
		{name: "stream selector", step: step, in: rec("m", "stream:namespace", "search"), want: `m | {namespace="search"} tenant=search`},
		{name: "none keeps the tenant", step: step, in: func() record.Record { r := rec("m"); r.Tenant = "t0"; return r }(), want: "m | tenant=t0"},
		{name: "to the default tenant", step: step, in: func() record.Record { r := rec("m", "level", "debug"); r.Tenant = "t0"; return r }(), want: "m | level=debug"},
	})
	for _, bad := range []string{
		"- {type: route}",
		"- {type: route, routes: [{tenant: a}]}",
		"- {type: route, routes: [{if: 'a:(', tenant: a}]}",
		"- {type: route, routes: [{if: '* | stats count()', tenant: a}]}",
	} {
		if _, err := buildErr(bad); err == nil {
			t.Errorf("%s: built", bad)
		}
	}
}

func TestSample(t *testing.T) {
	p := build(t, "- {type: sample, rate: 3, rate_field: sample_rate, if: 'level:debug'}")
	var in []record.Record
	for range 9 {
		in = append(in, rec("d", "level", "debug"))
	}
	in = append(in, rec("i", "level", "info"))
	out := p.Process(in)
	if len(out) != 4 {
		t.Fatalf("kept %d of 9 debug + 1 info, want 3 + 1", len(out))
	}
	for _, r := range out[:3] {
		if v, _ := r.Get("sample_rate"); v != "3" {
			t.Errorf("kept record without sample_rate: %v", fields(r))
		}
	}
	if out[3].Message != "i" || len(out[3].Fields) != 1 {
		t.Errorf("the record outside the condition changed: %v", fields(out[3]))
	}
	if _, err := buildErr("- {type: sample, rate: 0}"); err == nil {
		t.Error("rate 0 built")
	}
}

func TestRateLimit(t *testing.T) {
	now := TestTime
	p := build(t, "- {type: rate_limit, records_per_second: 2, burst: 3}")
	// Replace the clock of the step to move time by hand.
	p.steps[0].proc.(*rateLimitProc).now = func() time.Time { return now }
	send := func(service string, n int) int {
		var in []record.Record
		for range n {
			in = append(in, rec("m", "stream:service", service))
		}
		return len(p.Process(in))
	}
	if got := send("a", 10); got != 3 {
		t.Fatalf("burst: kept %d, want 3", got)
	}
	if got := send("b", 5); got != 3 {
		t.Fatalf("another stream has its own bucket: kept %d, want 3", got)
	}
	now = now.Add(time.Second)
	if got := send("a", 10); got != 2 {
		t.Fatalf("after 1s at 2/s: kept %d, want 2", got)
	}
	now = now.Add(time.Hour)
	if got := send("a", 10); got != 3 {
		t.Fatalf("refilled to the burst, no more: kept %d, want 3", got)
	}

	// max_keys bounds the buckets; the ones forgotten start afresh.
	p = build(t, "- {type: rate_limit, records_per_second: 1, burst: 1, max_keys: 2, by: [user]}")
	rl := p.steps[0].proc.(*rateLimitProc)
	for _, u := range []string{"u1", "u2", "u3", "u4"} {
		p.Process([]record.Record{rec("m", "user", u)})
	}
	if n := len(rl.buckets); n > 2 {
		t.Fatalf("%d buckets, bound 2", n)
	}
}

func TestRouteTenantNames(t *testing.T) {
	for _, bad := range []string{"_audit", "-x", "a b", strings.Repeat("t", 65)} {
		if _, err := buildErr("- {type: route, routes: [{if: '*', tenant: '" + bad + "'}]}"); err == nil {
			t.Errorf("tenant %q accepted", bad)
		}
	}
}
