package query

import (
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// The filters answer store.BlockMatcher: every record of a block has the
// block's tenant and stream labels and a time within its span, so a
// condition on a stream label or on the time can be decided once per
// block instead of once per record. Each answer must agree with Match on
// every record the block may hold.

var (
	_ store.BlockMatcher = matchAllFilter{}
	_ store.BlockMatcher = phraseFilter{}
	_ store.BlockMatcher = exactFilter{}
	_ store.BlockMatcher = existsFilter{}
	_ store.BlockMatcher = rangeFilter{}
	_ store.BlockMatcher = wildcardFilter{}
	_ store.BlockMatcher = regexFilter{}
	_ store.BlockMatcher = streamFilter{}
	_ store.BlockMatcher = timeFilter{}
	_ store.BlockMatcher = andFilter{}
	_ store.BlockMatcher = orFilter{}
	_ store.BlockMatcher = notFilter{}
)

func answer(match bool) store.BlockMatch {
	if match {
		return store.BlockAll
	}
	return store.BlockNone
}

// labelsOnly says whether a filter that reads only field is decided by
// the block's labels: when field is one of the block's stream labels (or
// _stream, made of them), every record reads the same value there,
// because a record's stream label wins over a field of the same name; so
// Match on a record holding only the labels (labelsRecord) answers for
// all of them. Other fields vary by record.
func labelsOnly(field string, b *store.BlockInfo) bool {
	switch field {
	case record.StreamField:
		return true
	case record.MessageField, record.TimeField:
		return false
	}
	return hasLabel(b.Labels, field)
}

// labelsRecord is a record of b's tenant and labels alone. Each filter
// passes it to its own Match, not through a func value, which would move
// it to the heap: a search asks every block of every part in its range,
// and under ingest the newest hour lies in tens of parts
// (BenchmarkLiveLastHour).
func labelsRecord(b *store.BlockInfo) record.Record {
	return record.Record{Tenant: b.Tenant, Stream: b.Labels}
}

func hasLabel(labels []record.Field, name string) bool {
	for _, l := range labels {
		if l.Name == name {
			return true
		}
	}
	return false
}

func (matchAllFilter) MatchBlock(*store.BlockInfo) store.BlockMatch { return store.BlockAll }

func (f phraseFilter) MatchBlock(b *store.BlockInfo) store.BlockMatch {
	if !labelsOnly(f.field, b) {
		return store.BlockSome
	}
	r := labelsRecord(b)
	return answer(f.Match(&r))
}

func (f exactFilter) MatchBlock(b *store.BlockInfo) store.BlockMatch {
	if !labelsOnly(f.field, b) {
		return store.BlockSome
	}
	r := labelsRecord(b)
	return answer(f.Match(&r))
}

func (f existsFilter) MatchBlock(b *store.BlockInfo) store.BlockMatch {
	if !labelsOnly(f.field, b) {
		return store.BlockSome
	}
	r := labelsRecord(b)
	return answer(f.Match(&r))
}

func (f rangeFilter) MatchBlock(b *store.BlockInfo) store.BlockMatch {
	if !labelsOnly(f.field, b) {
		return store.BlockSome
	}
	r := labelsRecord(b)
	return answer(f.Match(&r))
}

func (f wildcardFilter) MatchBlock(b *store.BlockInfo) store.BlockMatch {
	if !labelsOnly(f.field, b) {
		return store.BlockSome
	}
	r := labelsRecord(b)
	return answer(f.Match(&r))
}

func (f regexFilter) MatchBlock(b *store.BlockInfo) store.BlockMatch {
	if !labelsOnly(f.field, b) {
		return store.BlockSome
	}
	r := labelsRecord(b)
	return answer(f.Match(&r))
}

// MatchBlock: a stream selector reads nothing but the labels.
func (f streamFilter) MatchBlock(b *store.BlockInfo) store.BlockMatch {
	return answer(f.Match(&record.Record{Tenant: b.Tenant, Stream: b.Labels}))
}

func (f timeFilter) MatchBlock(b *store.BlockInfo) store.BlockMatch {
	switch {
	case b.MinTime >= f.from && b.MaxTime < f.to:
		return store.BlockAll
	case b.MaxTime < f.from || b.MinTime >= f.to:
		return store.BlockNone
	}
	return store.BlockSome
}

// matchBlock is f's answer, or BlockSome for a filter that gives none.
func matchBlock(f store.Filter, b *store.BlockInfo) store.BlockMatch {
	if bm, ok := f.(store.BlockMatcher); ok {
		return bm.MatchBlock(b)
	}
	return store.BlockSome
}

func (f andFilter) MatchBlock(b *store.BlockInfo) store.BlockMatch {
	out := store.BlockAll
	for _, c := range f {
		switch matchBlock(c, b) {
		case store.BlockNone:
			return store.BlockNone
		case store.BlockSome:
			out = store.BlockSome
		}
	}
	return out
}

func (f orFilter) MatchBlock(b *store.BlockInfo) store.BlockMatch {
	out := store.BlockNone
	for _, c := range f {
		switch matchBlock(c, b) {
		case store.BlockAll:
			return store.BlockAll
		case store.BlockSome:
			out = store.BlockSome
		}
	}
	return out
}

func (f notFilter) MatchBlock(b *store.BlockInfo) store.BlockMatch {
	switch matchBlock(f.child, b) {
	case store.BlockAll:
		return store.BlockNone
	case store.BlockNone:
		return store.BlockAll
	}
	return store.BlockSome
}
