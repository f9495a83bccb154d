package query

import (
	"math"
	"strconv"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// Row is one result: a record for plain searches, or the values of a stats
// row in column order.
type Row struct {
	Record *record.Record
	Values []Value
}

// Value is one named column of a stats row.
type Value struct {
	Name  string
	Str   string
	Num   float64
	IsNum bool
}

// String renders the value as text (numbers the way fields hold them).
func (v Value) String() string {
	if v.IsNum {
		return record.FormatFloat(v.Num)
	}
	return v.Str
}

// AppendJSON appends r as one JSON object: a record row as
// record.AppendJSON renders it, a stats row as {"level":"error","n":12}.
// Numbers JSON cannot hold (NaN, such as avg over no values) become null.
func (r Row) AppendJSON(dst []byte) []byte {
	if r.Record != nil {
		return record.AppendJSON(dst, r.Record)
	}
	dst = append(dst, '{')
	for i, v := range r.Values {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = record.AppendJSONString(dst, v.Name)
		dst = append(dst, ':')
		switch {
		case !v.IsNum:
			dst = record.AppendJSONString(dst, v.Str)
		case math.IsNaN(v.Num) || math.IsInf(v.Num, 0):
			dst = append(dst, "null"...)
		default:
			dst = strconv.AppendFloat(dst, v.Num, 'f', -1, 64)
		}
	}
	return append(dst, '}')
}

// get returns the named field of the row, for pipes that work on both kinds
// of rows.
func (r Row) get(name string) (Value, bool) {
	if r.Record != nil {
		s, ok := r.Record.Get(name)
		return Value{Name: name, Str: s}, ok
	}
	for _, v := range r.Values {
		if v.Name == name {
			return v, true
		}
	}
	return Value{Name: name}, false
}

// time returns the row's time in Unix nanoseconds: the record's, or the
// _time column of a stats row.
func (r Row) time() (int64, bool) {
	if r.Record != nil {
		return r.Record.Time, true
	}
	v, ok := r.get(record.TimeField)
	if !ok || v.IsNum {
		return 0, false
	}
	t, err := time.Parse(time.RFC3339Nano, v.Str)
	if err != nil {
		return 0, false
	}
	return t.UnixNano(), true
}

// number returns v as a number when it is one.
func (v Value) number() (float64, bool) {
	if v.IsNum {
		return v.Num, !math.IsNaN(v.Num)
	}
	return parseNumber(v.Str)
}

// compareValues orders values for sort and for stats groups: numbers first,
// in numeric order, then the rest as strings. Keeping the two classes apart
// makes the order total, which mixing numeric and string comparison would
// not.
func compareValues(a, b Value) int {
	an, aok := a.number()
	bn, bok := b.number()
	return compareParsed(a, b, parsedNumber{an, aok}, parsedNumber{bn, bok})
}

// compareParsed is compareValues with the numbers already parsed.
func compareParsed(a, b Value, pa, pb parsedNumber) int {
	an, aok, bn, bok := pa.v, pa.ok, pb.v, pb.ok
	switch {
	case aok && bok:
		switch {
		case an < bn:
			return -1
		case an > bn:
			return 1
		}
		return 0
	case aok:
		return -1
	case bok:
		return 1
	}
	switch {
	case a.Str < b.Str:
		return -1
	case a.Str > b.Str:
		return 1
	}
	return 0
}
