package logql

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Plan is a LogQL query turned into Sluice's query language.
type Plan struct {
	// Query is the Sluice query of the log part: the stream selector, the
	// line and label filters, the parsers. A metric query's stats pipe is
	// added by StatsQuery.
	Query string
	// Parsed is set when a parser stage (| json, | logfmt) ran: the lines'
	// labels then include the fields it made.
	Parsed bool
	// LineFormat, when set, rewrites each line.
	LineFormat []TemplatePart
	// Metric is the metric part of a metric query, nil for a log query.
	Metric *MetricExpr
	// Const is a constant query (vector(1)): no engine query.
	Const *ConstExpr
}

// Translate turns a parsed query into a Plan.
func Translate(e Expr) (*Plan, error) {
	switch e := e.(type) {
	case *ConstExpr:
		return &Plan{Const: e}, nil
	case *LogExpr:
		return translateLog(e)
	case *MetricExpr:
		p, err := translateLog(e.Log)
		if err != nil {
			return nil, err
		}
		if p.LineFormat != nil && (e.Func == "bytes_over_time" || e.Func == "bytes_rate") {
			return nil, &UnsupportedError{0, "line_format under " + e.Func}
		}
		p.LineFormat = nil // counting lines does not depend on their text
		p.Metric = e
		return p, nil
	}
	return nil, fmt.Errorf("logql: unknown expression %T", e)
}

func translateLog(e *LogExpr) (*Plan, error) {
	var ms []string
	for _, m := range e.Selector {
		ms = append(ms, m.Name+m.Op+quote(m.Value))
	}
	// The filter holds the selector, the line filters and the label filters
	// met before any parser; after a parser, label filters become filter
	// pipes so that they see the parsed fields.
	filter := []string{"_stream:{" + strings.Join(ms, ",") + "}"}
	var pipes []string
	p := &Plan{}
	for _, st := range e.Stages {
		switch st := st.(type) {
		case LineFilter:
			if p.LineFormat != nil {
				return nil, &UnsupportedError{0, "a line filter after line_format"}
			}
			if st.Value == "" {
				continue // |= "" and |~ "" keep every line; != "" none
			}
			re := st.Value
			if st.Op == "|=" || st.Op == "!=" {
				re = regexp.QuoteMeta(re)
			}
			cond := "_msg:" + regexLiteral(re)
			if st.Op == "!=" || st.Op == "!~" {
				cond = "NOT " + cond
			}
			if p.Parsed {
				pipes = append(pipes, "filter "+cond)
			} else {
				filter = append(filter, cond)
			}
		case Parser:
			p.Parsed = true
			pipes = append(pipes, "unpack_"+st.Kind)
		case LabelFilter:
			if p.LineFormat != nil {
				return nil, &UnsupportedError{0, "a label filter after line_format"}
			}
			var conds []string
			for _, c := range st.Conds {
				conds = append(conds, labelCond(c))
			}
			if p.Parsed {
				pipes = append(pipes, "filter "+strings.Join(conds, " AND "))
			} else {
				filter = append(filter, conds...)
			}
		case LineFormat:
			if p.LineFormat != nil {
				return nil, &UnsupportedError{0, "a second line_format"}
			}
			p.LineFormat = st.Parts
		}
	}
	p.Query = strings.Join(filter, " AND ")
	for _, pipe := range pipes {
		p.Query += " | " + pipe
	}
	return p, nil
}

func labelCond(c LabelCond) string {
	if c.Num {
		switch c.Op {
		case "==":
			return c.Name + ":[" + c.Value + " TO " + c.Value + "]"
		case "!=":
			return "NOT " + c.Name + ":[" + c.Value + " TO " + c.Value + "]"
		}
		return c.Name + ":" + c.Op + c.Value
	}
	switch c.Op {
	case "=":
		return c.Name + ":=" + quote(c.Value)
	case "!=":
		return "NOT " + c.Name + ":=" + quote(c.Value)
	case "=~":
		return c.Name + ":" + regexLiteral("^(?:"+c.Value+")$")
	}
	return "NOT " + c.Name + ":" + regexLiteral("^(?:"+c.Value+")$")
}

// quote writes s as a quoted string of Sluice's language: \" and \\ are its
// only escapes.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// regexLiteral writes re as Sluice's /re/: a '/' not already escaped
// becomes \/, and every other escape is the expression's own.
func regexLiteral(re string) string {
	var b strings.Builder
	b.WriteByte('/')
	for i := 0; i < len(re); i++ {
		switch {
		case re[i] == '\\' && i+1 < len(re):
			b.WriteByte(re[i])
			i++
			b.WriteByte(re[i])
		case re[i] == '\\':
			b.WriteString(`\\`) // a trailing backslash, which RE2 refuses anyway
		case re[i] == '/':
			b.WriteString(`\/`)
		default:
			b.WriteByte(re[i])
		}
	}
	b.WriteByte('/')
	return b.String()
}

// StatsQuery is the Sluice query that sums a metric query over buckets of
// width bucket: one row per series and bucket, the bucket's count (or
// bytes) in column "v". A series is a stream, kept apart further by the by
// labels of avg, min, max, count and topk (which aggregate series); under
// sum the by labels alone (none: one series), which the engine adds up
// itself. A bucket of 0 counts the whole time range (an instant query).
func (p *Plan) StatsQuery(bucket time.Duration) string {
	m := p.Metric
	fn := "count()"
	if m.Func == "bytes_over_time" || m.Func == "bytes_rate" {
		fn = "sum_len(_msg)"
	}
	groups := []string{"_stream"}
	if m.Agg == "sum" {
		groups = nil
	}
	for _, l := range m.By {
		if !containsStr(groups, l) {
			groups = append(groups, l)
		}
	}
	if bucket > 0 {
		groups = append(groups, "_time:"+formatStep(bucket))
	}
	if len(groups) == 0 {
		return p.Query + " | stats " + fn + " as v"
	}
	return p.Query + " | stats " + fn + " as v by (" + strings.Join(groups, ", ") + ")"
}

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// formatStep writes a duration in the units of Sluice's _time buckets.
func formatStep(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", d/time.Millisecond)
}
