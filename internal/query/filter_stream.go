package query

import (
	"regexp"
	"strings"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// StreamSelector is `_stream:{service="api",host=~"web.*"}`: label
// matchers on the stream labels, as in LogQL. A missing label counts as
// the empty value, so `host!="x"` matches streams without a host.
type StreamSelector struct {
	Matchers []LabelMatcher
}

// LabelMatcher is one label condition; Op is =, !=, =~ or !~. Regular
// expressions match the whole value.
type LabelMatcher struct {
	Label, Op, Value string
}

func (StreamSelector) node() {}

func (n StreamSelector) String() string {
	var b strings.Builder
	b.WriteString(record.StreamField + ":{")
	for i, m := range n.Matchers {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(m.Label + m.Op + quote(m.Value))
	}
	b.WriteByte('}')
	return b.String()
}

// streamSelector parses the braces after `_stream:` straight from the
// source text: inside them ',' and '=' separate, which the filter's lexer
// does not know. open is the '{' token.
func (p *parser) streamSelector(open token) (Node, error) {
	src, i := p.src, open.pos+1
	skip := func() {
		for i < len(src) && (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r') {
			i++
		}
	}
	var n StreamSelector
	for {
		skip()
		if i < len(src) && src[i] == '}' && len(n.Matchers) > 0 {
			i++
			break
		}
		start := i
		for i < len(src) && strings.IndexByte("=!~,}\"{ \t\r\n", src[i]) < 0 {
			i++
		}
		label := src[start:i]
		if !isFieldName(label) {
			return nil, p.errorf(start, "expected a label name in the stream selector, found %q", label)
		}
		skip()
		var op string
		for _, o := range []string{"=~", "!~", "!=", "="} {
			if strings.HasPrefix(src[i:], o) {
				op = o
				break
			}
		}
		if op == "" {
			return nil, p.errorf(i, "expected =, !=, =~ or !~ after the label %q", label)
		}
		i += len(op)
		skip()
		if i >= len(src) || src[i] != '"' {
			return nil, p.errorf(i, "expected a quoted value after %s%s", label, op)
		}
		value, end, err := lexString(src, i)
		if err != nil {
			return nil, err
		}
		if op == "=~" || op == "!~" {
			if err := p.checkRegex(i, " for "+label, value); err != nil {
				return nil, err
			}
		}
		i = end
		n.Matchers = append(n.Matchers, LabelMatcher{Label: label, Op: op, Value: value})
		skip()
		if i < len(src) && src[i] == ',' {
			i++
			continue
		}
		if i >= len(src) || src[i] != '}' {
			return nil, p.errorf(i, "expected ',' or '}' in the stream selector")
		}
	}
	// Skip the tokens the lexer made of the braces' content.
	for p.peek().kind != tokEOF && p.peek().pos < i {
		p.next()
	}
	return n, nil
}

func anchored(re string) string { return "^(?:" + re + ")$" }

type labelMatch struct {
	label, value string
	re           *regexp.Regexp
	negate       bool
	toks         []string
}

type streamFilter []labelMatch

func newStreamFilter(n StreamSelector) streamFilter {
	f := make(streamFilter, len(n.Matchers))
	for i, m := range n.Matchers {
		lm := labelMatch{label: m.Label, value: m.Value, negate: m.Op[0] == '!'}
		if strings.HasSuffix(m.Op, "~") {
			lm.re = regexp.MustCompile(anchored(m.Value))
		} else if !lm.negate && m.Value != "" {
			lm.toks = boundedTokens(m.Value, true, true)
		}
		f[i] = lm
	}
	return f
}

func (f streamFilter) Match(r *record.Record) bool {
	for _, m := range f {
		v := ""
		for _, l := range r.Stream {
			if l.Name == m.label {
				v = l.Value
				break
			}
		}
		ok := v == m.value
		if m.re != nil {
			ok = m.re.MatchString(v)
		}
		if ok == m.negate {
			return false
		}
	}
	return true
}

// MayMatch uses the positive equality matchers: their labels are indexed
// like fields.
func (f streamFilter) MayMatch(b store.BlockSummary) bool {
	for _, m := range f {
		if m.re == nil && !m.negate && m.value != "" && !mayHoldTokens(b, m.label, m.toks) {
			return false
		}
	}
	return true
}
