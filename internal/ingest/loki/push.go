package loki

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

// errReserved is the reason for a label or metadata name that a record
// reserves for itself.
var errReserved = errors.New("reserved name")

// Push is what decoding one push request gave: the records to ingest and
// the entries rejected, with the first rejection's reason.
type Push struct {
	Records  []record.Record
	Rejected int
	Reasons  map[string]int // rejected entries by ingest.RejectReason
	FirstErr error
}

// builder turns decoded streams and entries into records; both wire formats
// feed it.
type builder struct {
	tenant    string
	now       int64
	maxFields int
	push      Push

	labels   []record.Field
	labelErr error
}

func newBuilder(tenant string, now time.Time, maxFields int) *builder {
	return &builder{tenant: tenant, now: now.UnixNano(), maxFields: maxFields}
}

func (b *builder) reject(err error) { b.push.reject(err) }

func (p *Push) reject(err error) {
	if p.Reasons == nil {
		p.Reasons = map[string]int{}
	}
	p.Rejected++
	p.Reasons[ingest.RejectReason(err)]++
	if p.FirstErr == nil {
		p.FirstErr = err
	}
}

// admit rejects the records whose time is outside w as of now, the time
// of arrival (or stamps them, as w says), whichever wire format they came in.
func (p *Push) admit(w *ingest.TimeWindow, now time.Time) {
	kept := p.Records[:0]
	for i := range p.Records {
		if err := w.Check(&p.Records[i], now); err != nil {
			p.reject(err)
			continue
		}
		kept = append(kept, p.Records[i])
	}
	clear(p.Records[len(kept):])
	p.Records = kept
}

// stream starts a stream: its entries get labels, or are rejected with err.
func (b *builder) stream(labels []record.Field, err error) {
	if err == nil {
		for i, l := range labels {
			// JSON strings are not checked for UTF-8 by the parser.
			labels[i].Value = strings.ToValidUTF8(l.Value, "\uFFFD")
			if isReserved(l.Name) {
				err = fmt.Errorf("%w: label %q: %w", ingest.ErrFieldName, l.Name, errReserved)
				break
			}
		}
	}
	b.labels, b.labelErr = labels, err
}

// entry adds one entry of the current stream; ts 0 means "now". meta is
// owned by the record from here on.
func (b *builder) entry(ts int64, line string, meta []record.Field, err error) {
	if err == nil {
		err = b.labelErr
	}
	if err != nil {
		b.reject(err)
		return
	}
	if ts == 0 {
		ts = b.now
	}
	meta, err = b.checkMeta(meta)
	if err != nil {
		b.reject(err)
		return
	}
	rec := record.Record{Time: ts, Tenant: b.tenant, Message: strings.ToValidUTF8(line, "\uFFFD"), Fields: meta}
	if len(b.labels) > 0 {
		rec.Stream = append([]record.Field(nil), b.labels...)
	}
	b.push.Records = append(b.push.Records, rec)
}

// checkMeta validates structured metadata: names non-empty, not reserved,
// not a stream label; a repeated name keeps its last value.
func (b *builder) checkMeta(meta []record.Field) ([]record.Field, error) {
	out := meta[:0]
	for _, f := range meta {
		switch {
		case f.Name == "":
			return nil, fmt.Errorf("%w: empty structured metadata name", ingest.ErrFieldName)
		case isReserved(f.Name):
			return nil, fmt.Errorf("%w: structured metadata %q: %w", ingest.ErrFieldName, f.Name, errReserved)
		case hasName(b.labels, f.Name):
			return nil, fmt.Errorf("%w: structured metadata %q is also a stream label", ingest.ErrFieldName, f.Name)
		}
		f.Name = strings.ToValidUTF8(f.Name, "\uFFFD")
		f.Value = strings.ToValidUTF8(f.Value, "\uFFFD")
		if i := index(out, f.Name); i >= 0 {
			out[i].Value = f.Value
			continue
		}
		out = append(out, f)
	}
	if b.maxFields > 0 && len(out)+len(b.labels) > b.maxFields {
		return nil, fmt.Errorf("%w: more than %d labels and structured metadata", ingest.ErrTooManyFields, b.maxFields)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func isReserved(name string) bool {
	return name == record.TimeField || name == record.MessageField || name == record.StreamField
}

func hasName(fs []record.Field, name string) bool { return index(fs, name) >= 0 }

func index(fs []record.Field, name string) int {
	for i := range fs {
		if fs[i].Name == name {
			return i
		}
	}
	return -1
}
