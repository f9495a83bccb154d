package query

import (
	"github.com/sluice-log/sluice/internal/logfmt"
	"github.com/sluice-log/sluice/internal/record"
)

func init() { registerPipe("unpack_logfmt", parseUnpackLogfmt) }

// UnpackLogfmtPipe is `unpack_logfmt [from field]`: the key=value pairs of
// a logfmt line (values may be "quoted" with \" escapes) become fields. A
// bare key without '=' is skipped.
type UnpackLogfmtPipe struct {
	From string
}

func (u *UnpackLogfmtPipe) String() string { return "unpack_logfmt" + fromString(u.From) }

func parseUnpackLogfmt(p *parser) (Pipe, error) {
	from, err := p.parseFrom()
	if err != nil {
		return nil, err
	}
	return &UnpackLogfmtPipe{From: from}, nil
}

func (*UnpackLogfmtPipe) consumesRecords() bool { return false }
func (*UnpackLogfmtPipe) streaming()            {}

// neededFields: the source field, and whatever later stages read, since
// a row the source does not fill keeps the field it had.
func (u *UnpackLogfmtPipe) neededFields(out fieldSet) fieldSet { return out.with(u.From) }

func (u *UnpackLogfmtPipe) newProcessor(_ Options, next processor) processor {
	return &unpackLogfmtProcessor{from: u.From, next: next}
}

type unpackLogfmtProcessor struct {
	from   string
	next   processor
	fields []record.Field
}

func (u *unpackLogfmtProcessor) push(r Row) error {
	u.fields = logfmt.Parse(sourceValue(r, u.from), u.fields[:0])
	return u.next.push(withFields(r, u.fields))
}

func (u *unpackLogfmtProcessor) flush() error { return u.next.flush() }
