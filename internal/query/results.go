package query

import "sync/atomic"

// ResultMeter adds up the bytes of the records running queries keep for
// their answers (what Options.MaxResultBytes bounds for each), so that a
// server can show them beside its memory limit. A query charges what it
// keeps as it keeps it and gives it all back when it returns.
type ResultMeter struct{ n atomic.Int64 }

// Bytes is what running queries keep now.
func (m *ResultMeter) Bytes() int64 {
	if m == nil {
		return 0
	}
	return m.n.Load()
}

// charge adds d (negative to give back); m may be nil.
func (m *ResultMeter) charge(d int64) {
	if m != nil {
		m.n.Add(d)
	}
}
