package logql

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/query"
)

func TestTranslate(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{app="api"}`, `_stream:{app="api"}`},
		{`{app="api", env!="dev", host=~"web-.*", team!~"qa|test"}`, `_stream:{app="api",env!="dev",host=~"web-.*",team!~"qa|test"}`},
		{`{app="a\"b"} |= "GET /api" != "health" |~ "status=5\\d\\d" !~ "(?i)bot"`,
			`_stream:{app="a\"b"} AND _msg:/GET \/api/ AND NOT _msg:/health/ AND _msg:/status=5\d\d/ AND NOT _msg:/(?i)bot/`},
		{"{app=`api`} |= `a.b`", `_stream:{app="api"} AND _msg:/a\.b/`},
		{`{app="api"} |= ""`, `_stream:{app="api"}`},
		{`{app="api"} | json | level="error" | status >= 500`,
			`_stream:{app="api"} | unpack_json | filter level:="error" | filter status:>=500`},
		{`{app="api"} | logfmt | level=~"err|warn", status != 200 and took < 1.5`,
			`_stream:{app="api"} | unpack_logfmt | filter level:/^(?:err|warn)$/ AND NOT status:[200 TO 200] AND took:<1.5`},
		{`{app="api"} | host!="a" | json |= "x"`, `_stream:{app="api"} AND NOT host:="a" | unpack_json | filter _msg:/x/`},
		{`{app="api"} | line_format "{{.level}}: {{ .msg }}"`, `_stream:{app="api"}`},
		{`{app="api"} |~ "a/b\\/c"`, `_stream:{app="api"} AND _msg:/a\/b\/c/`},
		{`{app="api"} | code == 5`, `_stream:{app="api"} AND code:[5 TO 5]`},
		{`{app="api"} | json | __error__=""`, `_stream:{app="api"} | unpack_json | filter __error__:=""`},
	}
	for _, tt := range tests {
		e, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%s): %v", tt.in, err)
			continue
		}
		p, err := Translate(e)
		if err != nil {
			t.Errorf("Translate(%s): %v", tt.in, err)
			continue
		}
		if p.Query != tt.want {
			t.Errorf("%s\n got %s\nwant %s", tt.in, p.Query, tt.want)
		}
	}
}

func TestParseMetric(t *testing.T) {
	tests := []struct {
		in, stats string
		step      time.Duration
	}{
		{`count_over_time({app="api"}[5m])`, `_stream:{app="api"} | stats count() as v by (_stream, _time:1m)`, time.Minute},
		{`sum by (level) (count_over_time({app="api"} | json [5m]))`, `_stream:{app="api"} | unpack_json | stats count() as v by (level, _time:5m)`, 5 * time.Minute},
		{`sum(rate({app="api"}[1m])) by (host, app)`, `_stream:{app="api"} | stats count() as v by (host, app, _time:15s)`, 15 * time.Second},
		{`sum(bytes_over_time({app="api"}[1h]))`, `_stream:{app="api"} | stats sum_len(_msg) as v by (_time:10m)`, 10 * time.Minute},
		{`topk(3, sum by (app) (rate({app=~".+"}[5m])))`, "", 0},
		// Grafana's logs volume query.
		{`sum by (level, detected_level) (count_over_time({app="api"} |= "x" | drop __error__[1m]))`,
			`_stream:{app="api"} AND _msg:/x/ | stats count() as v by (level, detected_level, _time:1m)`, time.Minute},
		{`max by (host) (count_over_time({app="api"}[90s]))`, `_stream:{app="api"} | stats count() as v by (_stream, host, _time:30s)`, time.Minute},
		{`topk by (app) (2, count_over_time({app="api"}[1m]))`, `_stream:{app="api"} | stats count() as v by (_stream, app, _time:1m)`, time.Minute},
	}
	for _, tt := range tests {
		e, err := Parse(tt.in)
		if tt.stats == "" {
			if err == nil {
				t.Errorf("Parse(%s): want an error for a nested aggregation", tt.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%s): %v", tt.in, err)
			continue
		}
		p, err := Translate(e)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.StatsQuery(BucketWidth(p.Metric.Range, tt.step, 0)); got != tt.stats {
			t.Errorf("%s\n got %s\nwant %s", tt.in, got, tt.stats)
		}
	}
}

func TestRefused(t *testing.T) {
	tests := []struct {
		in, want    string
		unsupported bool
	}{
		{`{app="api"} | pattern "<ip> <_>"`, "the pattern parser", true},
		{`{app="api"} | regexp "(?P<x>.)"`, "the regexp parser", true},
		{`sum_over_time({app="api"} | unwrap x [5m])`, "sum_over_time", true},
		{`quantile_over_time(0.9, {app="api"} | unwrap x [5m])`, "quantile_over_time", true},
		{`sum without (app) (rate({app="api"}[5m]))`, "without", true},
		{`rate({app="api"}[5m]) / rate({app="api"}[5m])`, `binary operator "/"`, true},
		{`rate({app="api"}[5m]) > 2`, `binary operator ">"`, true},
		{`count_over_time({app="api"}[5m] offset 1h)`, "offset", true},
		{`{app="api"} | line_format "{{.a | upper}}"`, "line_format action", true},
		{`{app="api"} | label_format a=b`, "label_format", true},
		{`{app="api"} | drop level`, "| drop of anything but __error__", true},
		{`{app="api"} | json a="b"`, "| json with arguments", true},
		{`{app="api"} | duration > 10s`, "duration or bytes", true},
		{`{app="api"} | a="b" or c="d"`, `"or" in a label filter`, true},
		{`{app="api"} |= "a" or "b"`, `"or" between line filters`, true},
		{`bottomk(2, rate({app="api"}[1m]))`, "bottomk", true},
		{`{app="api"} | line_format "x" |= "y"`, "line filter after line_format", true},
		{`bytes_rate({app="api"} | line_format "x" [1m])`, "line_format under bytes_rate", true},
		{`{app="api"`, "expected ',' or '}'", false},
		{`{}`, "expected a label name", false},
		{`{app=~"("}`, "invalid regular expression", false},
		{`{app="api"} |= "x`, "unterminated string", false},
		{`count_over_time({app="api"}[5x])`, "expected a range", false},
		{`foo({app="api"})`, `unknown function "foo"`, false},
		{``, "expected a stream selector", false},
	}
	for _, tt := range tests {
		e, err := Parse(tt.in)
		if err == nil {
			_, err = Translate(e)
		}
		if err == nil {
			t.Errorf("%s: no error, want %q", tt.in, tt.want)
			continue
		}
		var ue *UnsupportedError
		if errors.As(err, &ue) != tt.unsupported || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %q (%T), want one containing %q (unsupported %v)", tt.in, err, err, tt.want, tt.unsupported)
		}
	}
}

func TestConst(t *testing.T) {
	e, err := Parse(`vector(1)+vector(1)`)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := e.(*ConstExpr); !ok || c.Value != 2 {
		t.Fatalf("got %#v, want the constant 2", e)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`{app="api"} |= "x" | json | a > 1 | line_format "{{.a}}"`,
		`sum by (a) (count_over_time({a=~".+"} | logfmt [5m]))`, `topk(2, rate({a="b"}[1m]))`, "{a=`b`} !~ `c`",
		`vector(1)+vector(1)`, `{a="\u00e9\n"}`, `bytes_over_time({a="b"}[1h30m])`, `{a="b"} | json | __error__="" | drop __error__, __error_details__`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			var pe *ParseError
			var ue *UnsupportedError
			if !errors.As(err, &pe) && !errors.As(err, &ue) {
				t.Fatalf("Parse(%q): error of type %T", s, err)
			}
			return
		}
		p, err := Translate(e)
		if err != nil {
			return
		}
		text := p.Query
		if p.Metric != nil {
			text = p.StatsQuery(BucketWidth(p.Metric.Range, time.Minute, 0))
		}
		// Every translation must be a query of Sluice's language.
		if p.Const == nil {
			if _, err := query.Parse(text); err != nil {
				t.Fatalf("Parse(%q) translates to %q, which Sluice refuses: %v", s, text, err)
			}
		}
	})
}
