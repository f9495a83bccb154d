package logql

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// rangeFuncs are the range aggregations served.
var rangeFuncs = []string{"count_over_time", "rate", "bytes_over_time", "bytes_rate"}

// vectorAggs are the vector aggregations served.
var vectorAggs = []string{"sum", "avg", "min", "max", "count", "topk"}

// knownUnsupported names LogQL functions and stages that exist but are not
// served, so that the refusal names them as such rather than as a typo.
var knownUnsupported = map[string]string{
	"sum_over_time": "the range aggregation sum_over_time (unwrap)", "avg_over_time": "the range aggregation avg_over_time (unwrap)",
	"max_over_time": "the range aggregation max_over_time (unwrap)", "min_over_time": "the range aggregation min_over_time (unwrap)",
	"first_over_time": "the range aggregation first_over_time (unwrap)", "last_over_time": "the range aggregation last_over_time (unwrap)",
	"stdvar_over_time": "the range aggregation stdvar_over_time (unwrap)", "stddev_over_time": "the range aggregation stddev_over_time (unwrap)",
	"quantile_over_time": "the range aggregation quantile_over_time (unwrap)", "absent_over_time": "the range aggregation absent_over_time",
	"rate_counter": "the range aggregation rate_counter (unwrap)",
	"bottomk":      "the vector aggregation bottomk", "stddev": "the vector aggregation stddev", "stdvar": "the vector aggregation stdvar",
	"sort": "the function sort", "sort_desc": "the function sort_desc", "label_replace": "the function label_replace",
	"vector": "the function vector", "approx_topk": "the vector aggregation approx_topk",
	"pattern": "the pattern parser (| pattern)", "regexp": "the regexp parser (| regexp)", "unpack": "the unpack parser (| unpack)",
	"label_format": "| label_format", "keep": "| keep", "decolorize": "| decolorize", "unwrap": "| unwrap",
	"line_format": "line_format", "json": "| json", "logfmt": "| logfmt",
}

// Parse reads a LogQL query of the served subset. Errors are *ParseError
// or *UnsupportedError.
func Parse(s string) (Expr, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	var e Expr
	switch t := p.peek(); {
	case t.kind == tPunct && t.text == "{":
		e, err = p.logExpr()
	case t.kind == tWord && t.text == "vector":
		e, err = p.constExpr()
	default:
		e, err = p.metricExpr(true)
	}
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		if t.kind == tOp && strings.Contains("+-*/%^=!<>", t.text[:1]) || t.text == "or" || t.text == "and" || t.text == "unless" {
			return nil, &UnsupportedError{t.pos, fmt.Sprintf("the binary operator %q", t.text)}
		}
		if t.text == "offset" {
			return nil, &UnsupportedError{t.pos, "offset"}
		}
		return nil, &ParseError{t.pos, fmt.Sprintf("unexpected %q after the end of the query", t.text)}
	}
	return e, nil
}

// constExpr reads vector(N) [+ vector(N) …].
func (p *parser) constExpr() (Expr, error) {
	c := &ConstExpr{}
	for {
		if _, err := p.expect("vector"); err != nil {
			return nil, err
		}
		if _, err := p.expect("("); err != nil {
			return nil, err
		}
		n := p.next()
		v, err := strconv.ParseFloat(n.text, 64)
		if err != nil || n.kind != tWord || !numberRe.MatchString(n.text) {
			return nil, &ParseError{n.pos, fmt.Sprintf("vector takes a number, found %s", describe(n))}
		}
		if _, err := p.expect(")"); err != nil {
			return nil, err
		}
		c.Value += v
		if t := p.peek(); t.kind != tOp || t.text != "+" {
			return c, nil
		}
		p.next()
	}
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) expect(text string) (token, error) {
	t := p.next()
	if t.text != text || t.kind == tString {
		return t, &ParseError{t.pos, fmt.Sprintf("expected %q, found %s", text, describe(t))}
	}
	return t, nil
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "the end of the query"
	case tString:
		return strconv.Quote(t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_.]*$`)

func (p *parser) label() (string, error) {
	t := p.next()
	if t.kind != tWord || !labelName.MatchString(t.text) {
		return "", &ParseError{t.pos, fmt.Sprintf("expected a label name, found %s", describe(t))}
	}
	return t.text, nil
}

func (p *parser) str() (token, error) {
	t := p.next()
	if t.kind != tString {
		return t, &ParseError{t.pos, fmt.Sprintf("expected a quoted string, found %s", describe(t))}
	}
	return t, nil
}

func (p *parser) logExpr() (*LogExpr, error) {
	if _, err := p.expect("{"); err != nil {
		return nil, err
	}
	e := &LogExpr{}
	for {
		name, err := p.label()
		if err != nil {
			return nil, err
		}
		op := p.next()
		if op.kind != tOp || !slices.Contains([]string{"=", "!=", "=~", "!~"}, op.text) {
			return nil, &ParseError{op.pos, fmt.Sprintf("expected =, !=, =~ or !~ after %s, found %s", name, describe(op))}
		}
		v, err := p.str()
		if err != nil {
			return nil, err
		}
		if err := checkRegex(op.text, v); err != nil {
			return nil, err
		}
		e.Selector = append(e.Selector, Matcher{name, op.text, v.text})
		t := p.next()
		if t.text == "}" && t.kind == tPunct {
			break
		}
		if t.text != "," || t.kind != tPunct {
			return nil, &ParseError{t.pos, fmt.Sprintf("expected ',' or '}' in the stream selector, found %s", describe(t))}
		}
	}
	for {
		t := p.peek()
		if t.kind != tOp {
			return e, nil
		}
		switch t.text {
		case "|=", "|~", "!=", "!~":
			p.next()
			v, err := p.str()
			if err != nil {
				return nil, err
			}
			if err := checkRegex(t.text, v); err != nil {
				return nil, err
			}
			e.Stages = append(e.Stages, LineFilter{t.text, v.text})
			if n := p.peek(); n.kind == tWord && n.text == "or" {
				return nil, &UnsupportedError{n.pos, "\"or\" between line filters"}
			}
		case "|":
			p.next()
			st, err := p.stage()
			if err != nil {
				return nil, err
			}
			if st != nil { // nil: a stage that changes nothing here
				e.Stages = append(e.Stages, st)
			}
		default:
			return e, nil
		}
	}
}

func checkRegex(op string, v token) error {
	if op != "=~" && op != "!~" && op != "|~" {
		return nil
	}
	if _, err := regexp.Compile(v.text); err != nil {
		return &ParseError{v.pos, fmt.Sprintf("invalid regular expression %q: %v", v.text, err)}
	}
	return nil
}

func (p *parser) stage() (Stage, error) {
	t := p.next()
	if t.kind != tWord {
		return nil, &ParseError{t.pos, fmt.Sprintf("expected a stage after '|', found %s", describe(t))}
	}
	switch t.text {
	case "json", "logfmt":
		if n := p.peek(); n.kind == tWord || n.kind == tString {
			return nil, &UnsupportedError{n.pos, fmt.Sprintf("| %s with arguments", t.text)}
		}
		if n := p.peek(); n.kind == tOp && n.text == "-" {
			return nil, &UnsupportedError{n.pos, fmt.Sprintf("| %s with flags", t.text)}
		}
		return Parser{t.text}, nil
	case "drop":
		// Grafana's logs volume query ends its pipeline with
		// "| drop __error__": Sluice's pipelines make no error labels, so
		// dropping them changes nothing.
		for {
			n := p.next()
			if n.kind != tWord || (n.text != "__error__" && n.text != "__error_details__") {
				return nil, &UnsupportedError{n.pos, "| drop of anything but __error__ and __error_details__"}
			}
			if c := p.peek(); c.kind != tPunct || c.text != "," {
				return nil, nil
			}
			p.next()
		}
	case "line_format":
		v, err := p.str()
		if err != nil {
			return nil, err
		}
		parts, err := parseTemplate(v)
		if err != nil {
			return nil, err
		}
		return LineFormat{parts}, nil
	}
	if n := p.peek(); n.kind == tOp && slices.Contains([]string{"=", "!=", "=~", "!~", ">", ">=", "<", "<=", "=="}, n.text) {
		p.i--
		return p.labelFilter()
	}
	if what, ok := knownUnsupported[t.text]; ok {
		return nil, &UnsupportedError{t.pos, what}
	}
	return nil, &ParseError{t.pos, fmt.Sprintf("unknown stage %q after '|'", t.text)}
}

var numberRe = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)

func (p *parser) labelFilter() (Stage, error) {
	var f LabelFilter
	for {
		name, err := p.label()
		if err != nil {
			return nil, err
		}
		op := p.next()
		v := p.next()
		var c LabelCond
		switch {
		case v.kind == tString && slices.Contains([]string{"=", "!=", "=~", "!~"}, op.text):
			if err := checkRegex(op.text, v); err != nil {
				return nil, err
			}
			c = LabelCond{Name: name, Op: op.text, Value: v.text}
		case v.kind == tWord && numberRe.MatchString(v.text) && slices.Contains([]string{"==", "=", "!=", ">", ">=", "<", "<="}, op.text):
			c = LabelCond{Name: name, Op: op.text, Value: v.text, Num: true}
			if c.Op == "=" {
				c.Op = "=="
			}
		case v.kind == tWord && op.kind == tOp:
			if _, err := parseDuration(v.text); err == nil {
				return nil, &UnsupportedError{v.pos, "a duration or bytes comparison in a label filter (" + v.text + ")"}
			}
			if _, err := strconv.ParseFloat(strings.TrimRight(v.text, "KMGTPEBi"), 64); err == nil {
				return nil, &UnsupportedError{v.pos, "a duration or bytes comparison in a label filter (" + v.text + ")"}
			}
			return nil, &ParseError{v.pos, fmt.Sprintf("expected a quoted string or a number after %s %s, found %s", name, op.text, describe(v))}
		default:
			return nil, &ParseError{v.pos, fmt.Sprintf("expected a label filter such as %s=\"value\" or %s > 10, found %s %s", name, name, op.text, describe(v))}
		}
		f.Conds = append(f.Conds, c)
		n := p.peek()
		switch {
		case n.kind == tPunct && n.text == ",", n.kind == tWord && n.text == "and":
			p.next()
		case n.kind == tWord && n.text == "or":
			return nil, &UnsupportedError{n.pos, "\"or\" in a label filter"}
		case n.kind == tPunct && n.text == "(":
			return nil, &UnsupportedError{n.pos, "parentheses in a label filter"}
		default:
			return f, nil
		}
	}
}

var templateField = regexp.MustCompile(`^\s*\.([a-zA-Z_][a-zA-Z0-9_]*)\s*$`)

// parseTemplate reads line_format's template: literal text and
// {{.label}}; any other action (functions, pipelines, conditions) is
// refused.
func parseTemplate(v token) ([]TemplatePart, error) {
	var parts []TemplatePart
	s := v.text
	for s != "" {
		i := strings.Index(s, "{{")
		if i < 0 {
			parts = append(parts, TemplatePart{Text: s})
			break
		}
		if i > 0 {
			parts = append(parts, TemplatePart{Text: s[:i]})
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			return nil, &ParseError{v.pos, "line_format: unterminated {{ in the template"}
		}
		action := strings.TrimSuffix(strings.TrimPrefix(s[i+2:i+j], "-"), "-")
		m := templateField.FindStringSubmatch(action)
		if m == nil {
			return nil, &UnsupportedError{v.pos, fmt.Sprintf("the line_format action {{%s}} (only {{.label}} is served)", s[i+2:i+j])}
		}
		parts = append(parts, TemplatePart{Label: m[1]})
		s = s[i+j+2:]
	}
	return parts, nil
}

// metricExpr reads a range aggregation, or a vector aggregation over one
// when top is set (aggregations do not nest here).
func (p *parser) metricExpr(top bool) (*MetricExpr, error) {
	t := p.next()
	switch {
	case t.kind == tWord && slices.Contains(rangeFuncs, t.text):
		return p.rangeAgg(t)
	case t.kind == tWord && slices.Contains(vectorAggs, t.text):
		if !top {
			return nil, &UnsupportedError{t.pos, "a vector aggregation inside another (" + t.text + ")"}
		}
		return p.vectorAgg(t)
	case t.kind == tWord:
		if what, ok := knownUnsupported[t.text]; ok && !strings.HasPrefix(what, "|") {
			return nil, &UnsupportedError{t.pos, what}
		}
		if numberRe.MatchString(t.text) {
			return nil, &UnsupportedError{t.pos, "a number literal as a query"}
		}
		return nil, &ParseError{t.pos, fmt.Sprintf("unknown function %q (expected a stream selector {…} or one of %s, %s)", t.text, strings.Join(rangeFuncs, ", "), strings.Join(vectorAggs, ", "))}
	case t.kind == tPunct && t.text == "(":
		return nil, &UnsupportedError{t.pos, "a parenthesised expression"}
	}
	return nil, &ParseError{t.pos, fmt.Sprintf("expected a stream selector {…} or a metric query, found %s", describe(t))}
}

func (p *parser) rangeAgg(fn token) (*MetricExpr, error) {
	if _, err := p.expect("("); err != nil {
		return nil, err
	}
	if n := p.peek(); !(n.kind == tPunct && n.text == "{") {
		return nil, &ParseError{n.pos, fmt.Sprintf("%s takes a log query and a range, as in %s({app=\"api\"} [5m])", fn.text, fn.text)}
	}
	log, err := p.logExpr()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect("["); err != nil {
		return nil, err
	}
	d := p.next()
	r, err := parseDuration(d.text)
	if err != nil || d.kind != tWord {
		return nil, &ParseError{d.pos, fmt.Sprintf("expected a range such as 5m, found %s", describe(d))}
	}
	if _, err := p.expect("]"); err != nil {
		return nil, err
	}
	if n := p.peek(); n.kind == tWord && n.text == "offset" {
		return nil, &UnsupportedError{n.pos, "offset"}
	}
	if _, err := p.expect(")"); err != nil {
		return nil, err
	}
	return &MetricExpr{Func: fn.text, Log: log, Range: r}, nil
}

func (p *parser) vectorAgg(fn token) (*MetricExpr, error) {
	by, err := p.grouping()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect("("); err != nil {
		return nil, err
	}
	k := 0
	if fn.text == "topk" {
		n := p.next()
		if k, err = strconv.Atoi(n.text); err != nil || k <= 0 || n.kind != tWord {
			return nil, &ParseError{n.pos, fmt.Sprintf("topk takes a positive whole number first, found %s", describe(n))}
		}
		if _, err := p.expect(","); err != nil {
			return nil, err
		}
	}
	inner, err := p.metricExpr(false)
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(")"); err != nil {
		return nil, err
	}
	if n := p.peek(); n.kind == tWord && (n.text == "by" || n.text == "without") {
		if by != nil {
			return nil, &ParseError{n.pos, "the grouping is given twice"}
		}
		if by, err = p.grouping(); err != nil {
			return nil, err
		}
	}
	inner.Agg, inner.K, inner.By = fn.text, k, by
	return inner, nil
}

// grouping reads an optional "by (a, b)"; nil when there is none.
func (p *parser) grouping() ([]string, error) {
	t := p.peek()
	if t.kind != tWord || t.text != "by" && t.text != "without" {
		return nil, nil
	}
	if t.text == "without" {
		return nil, &UnsupportedError{t.pos, "grouping with without (…)"}
	}
	p.next()
	if _, err := p.expect("("); err != nil {
		return nil, err
	}
	by := []string{}
	for {
		if n := p.peek(); n.kind == tPunct && n.text == ")" && len(by) == 0 {
			p.next()
			return by, nil
		}
		name, err := p.label()
		if err != nil {
			return nil, err
		}
		by = append(by, name)
		n := p.next()
		if n.kind == tPunct && n.text == ")" {
			return by, nil
		}
		if n.kind != tPunct || n.text != "," {
			return nil, &ParseError{n.pos, fmt.Sprintf("expected ',' or ')' in by (…), found %s", describe(n))}
		}
	}
}

var durationPart = regexp.MustCompile(`^([0-9]+)(ms|s|m|h|d|w|y)`)

// parseDuration reads a Prometheus duration: 5m, 1h30m, 500ms, 1d, 1w.
func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	units := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour,
		"d": 24 * time.Hour, "w": 7 * 24 * time.Hour, "y": 365 * 24 * time.Hour}
	var d time.Duration
	for rest := s; rest != ""; {
		m := durationPart.FindStringSubmatch(rest)
		if m == nil {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || n > int64(100*365*24*time.Hour/units[m[2]]) {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		d += time.Duration(n) * units[m[2]]
		rest = rest[len(m[0]):]
	}
	if d <= 0 || d > 100*365*24*time.Hour {
		return 0, fmt.Errorf("duration %q out of range", s)
	}
	return d, nil
}
