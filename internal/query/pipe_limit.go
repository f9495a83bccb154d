package query

import "strconv"

func init() {
	registerPipe("limit", parseLimit)
	registerPipe("head", parseLimit)
}

// LimitPipe is `limit N` (also written `head N`): the first N rows.
type LimitPipe struct {
	N int
}

func (l *LimitPipe) String() string { return "limit " + strconv.Itoa(l.N) }

func parseLimit(p *parser) (Pipe, error) {
	n, err := p.count("a number of rows")
	if err != nil {
		return nil, err
	}
	return &LimitPipe{N: n}, nil
}

func (*LimitPipe) consumesRecords() bool { return false }

// neededFields: limit reads nothing of the rows it passes on.
func (*LimitPipe) neededFields(out fieldSet) fieldSet { return out }

func (l *LimitPipe) newProcessor(_ Options, next processor) processor {
	return &limitProcessor{left: l.N, next: next}
}

type limitProcessor struct {
	left int
	next processor
}

func (l *limitProcessor) push(r Row) error {
	if l.left <= 0 {
		return errStop
	}
	l.left--
	if err := l.next.push(r); err != nil {
		return err
	}
	if l.left == 0 {
		return errStop
	}
	return nil
}

func (l *limitProcessor) flush() error { return l.next.flush() }
