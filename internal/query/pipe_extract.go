package query

import (
	"fmt"
	"strings"

	"github.com/sluice-log/sluice/internal/record"
)

func init() { registerPipe("extract", parseExtract) }

// ExtractPipe is `extract "status=<status> took <ms>ms" [from field]`: the
// text between the literal parts of the pattern goes to the named fields;
// <_> skips a part. The first literal is searched anywhere in the value,
// each placeholder ends where the next literal starts (or at the end of the
// value for a last placeholder). A value the pattern does not fit leaves
// the row as it was.
type ExtractPipe struct {
	Pattern string
	From    string
	prefix  string
	parts   []extractPart
}

type extractPart struct {
	field string // "_" to skip
	after string // the literal that ends it; "" runs to the end
}

func (e *ExtractPipe) String() string { return "extract " + quote(e.Pattern) + fromString(e.From) }

func parseExtract(p *parser) (Pipe, error) {
	t, err := p.expect(tokString, `a quoted pattern, like "status=<status> took <ms>ms"`)
	if err != nil {
		return nil, err
	}
	e, err := newExtractPipe(t.text)
	if err != nil {
		return nil, p.errorf(t.pos, "%v", err)
	}
	if e.From, err = p.parseFrom(); err != nil {
		return nil, err
	}
	return e, nil
}

func newExtractPipe(pattern string) (*ExtractPipe, error) {
	e := &ExtractPipe{Pattern: pattern}
	rest := pattern
	open := strings.IndexByte(rest, '<')
	if open < 0 {
		return nil, fmt.Errorf("extract pattern %q has no <field> placeholder", pattern)
	}
	e.prefix, rest = rest[:open], rest[open:]
	named := false
	for rest != "" {
		end := strings.IndexByte(rest, '>')
		if end < 0 {
			return nil, fmt.Errorf("extract pattern %q: a '<' is not closed by '>'", pattern)
		}
		name := rest[1:end]
		if name != "_" && !isFieldName(name) {
			return nil, fmt.Errorf("extract pattern %q: invalid field name %q in <>", pattern, name)
		}
		named = named || name != "_"
		rest = rest[end+1:]
		next := strings.IndexByte(rest, '<')
		if next < 0 {
			next = len(rest)
		}
		if next == 0 && rest != "" {
			return nil, fmt.Errorf("extract pattern %q: placeholders <%s> and the next need text between them", pattern, name)
		}
		e.parts = append(e.parts, extractPart{field: name, after: rest[:next]})
		rest = rest[next:]
	}
	if !named {
		return nil, fmt.Errorf("extract pattern %q names no field (<_> only skips)", pattern)
	}
	return e, nil
}

func (*ExtractPipe) consumesRecords() bool { return false }
func (*ExtractPipe) streaming()            {}

// neededFields: the source field, and whatever later stages read, since
// a row the source does not fill keeps the field it had.
func (e *ExtractPipe) neededFields(out fieldSet) fieldSet { return out.with(e.From) }

func (e *ExtractPipe) newProcessor(_ Options, next processor) processor {
	return &extractProcessor{pipe: e, next: next}
}

type extractProcessor struct {
	pipe   *ExtractPipe
	next   processor
	fields []record.Field
}

func (x *extractProcessor) push(r Row) error {
	x.fields = x.pipe.apply(sourceValue(r, x.pipe.From), x.fields[:0])
	return x.next.push(withFields(r, x.fields))
}

func (x *extractProcessor) flush() error { return x.next.flush() }

// apply appends the fields the pattern finds in s, or nothing when it does
// not fit.
func (e *ExtractPipe) apply(s string, dst []record.Field) []record.Field {
	i := strings.Index(s, e.prefix)
	if i < 0 {
		return dst
	}
	s = s[i+len(e.prefix):]
	start := len(dst)
	for _, p := range e.parts {
		end := len(s)
		if p.after != "" {
			if end = strings.Index(s, p.after); end < 0 {
				return dst[:start]
			}
		}
		if p.field != "_" {
			dst = append(dst, record.Field{Name: p.field, Value: s[:end]})
		}
		s = s[min(end+len(p.after), len(s)):]
	}
	return dst
}
