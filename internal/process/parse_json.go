package process

import (
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

func init() {
	Register(Spec{
		Name:    "parse_json",
		Summary: "Parses a JSON object (in the message by default) into fields: nested objects become dotted names, arrays their JSON text, numbers their literal text; nulls are skipped. Input that is not a JSON object is counted as an error and left as it is.",
		New: func() Builder {
			return &parseJSONConfig{
				ParseOptions: ParseOptions{Field: record.MessageField, MessageFields: []string{"_msg", "message", "msg", "log"}, TimeFields: []string{"_time"}},
				MaxFields:    1000,
			}
		},
	})
}

type parseJSONConfig struct {
	ParseOptions `yaml:",inline"`
	MaxFields    int `yaml:"max_fields" doc:"Most fields one object may flatten into; a larger one is counted as an error and left as it is."`
}

func (c *parseJSONConfig) Build(Env) (Processor, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	if c.MaxFields <= 0 {
		return nil, fmt.Errorf("max_fields must be positive")
	}
	p := &parseJSON{out: c.ParseOptions}
	p.pool.New = func() any {
		return &jsonScratch{conv: ingest.NewConverter(ingest.RecordConfig{MaxFieldsPerRecord: c.MaxFields})}
	}
	return p, nil
}

type parseJSON struct {
	out  ParseOptions
	pool sync.Pool // *jsonScratch: converters are not safe for concurrent use
}

type jsonScratch struct {
	conv   *ingest.Converter
	fields []record.Field
}

func (p *parseJSON) Process(r *record.Record) Result {
	v, ok := p.out.source(r)
	if !ok {
		return Keep
	}
	if t := strings.TrimLeft(v, " \t\r\n"); t == "" || t[0] != '{' {
		return Fail
	}
	s := p.pool.Get().(*jsonScratch)
	defer p.pool.Put(s)
	// The parser only reads its input, so the string's bytes serve
	// without a copy.
	b, err := s.conv.Flatten(unsafe.Slice(unsafe.StringData(v), len(v)), p.out.Prefix)
	if err != nil {
		return Fail
	}
	// One string holds every parsed name and value: one allocation per
	// record however many fields it has.
	text := string(b.Buf)
	fields := s.fields[:0]
	for i := range b.Ents {
		e := &b.Ents[i]
		fields = append(fields, record.Field{Name: text[e.NameStart:e.NameEnd], Value: text[e.ValueStart:e.ValueEnd]})
	}
	defer func() { clear(fields); s.fields = fields[:0] }()
	return p.out.apply(r, fields)
}
