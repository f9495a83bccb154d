package ingest

import (
	"fmt"
	"unicode/utf8"
)

// indexThreshold is the field count from which a FieldBuilder looks names up
// in a map rather than by scanning; typical log lines stay below it.
const indexThreshold = 32

// A FieldBuilder collects the fields of one record while a receiver's
// converter flattens its input. Every name and value goes into Buf, so that
// the finished record can take all its text from one string: at most one
// allocation however many fields it has (Converter carves it from a chunk
// shared by many records). A name given twice keeps one entry, at the
// place of its first, holding the last value.
//
// To add a field: set Name to its full name, call AddName, append the value
// to Buf, then call EndValue. A FieldBuilder reuses its buffers after Reset
// and is not safe for concurrent use.
type FieldBuilder struct {
	// MaxFields is the most fields a record may have; 0 means no limit.
	MaxFields int
	Buf       []byte // names and values of the record being built
	Name      []byte // the name of the field to add next
	Ents      []FieldEntry
	// Err is the first error of the record; once it is set AddName adds
	// nothing, so that a converter can read on to the record's end.
	Err error
	idx map[string]int // name -> Ents index, once there are many fields
	// names has nameBit set for the name of every entry, so that FindField
	// answers "absent" for most missing names without a scan: every new
	// field and every lookup of the converters asks it.
	names uint64
}

// A FieldEntry locates a field's name and value in FieldBuilder.Buf.
type FieldEntry struct {
	NameStart, NameEnd   int
	ValueStart, ValueEnd int
	// Role is what the converter made of the field (its message, a stream
	// label, …); the converter gives the values their meaning, and 0 is an
	// ordinary field.
	Role uint8
}

// Reset empties b for the next record.
func (b *FieldBuilder) Reset() {
	b.Buf = b.Buf[:0]
	b.Name = b.Name[:0]
	b.Ents = b.Ents[:0]
	b.idx = nil
	b.names = 0
	b.Err = nil
}

// AddName starts the field named b.Name and returns its entry; a repeated
// name reuses its entry, so its last value wins. It returns -1 when the
// record is already rejected (b.Err is set); it sets b.Err, and still returns
// the entry, for the field that passes MaxFields.
func (b *FieldBuilder) AddName() int {
	if b.Err != nil {
		return -1
	}
	if i := FindField(b, b.Name); i >= 0 {
		b.Ents[i].ValueStart = len(b.Buf)
		return i
	}
	start := len(b.Buf)
	b.Buf = append(b.Buf, b.Name...)
	b.Ents = append(b.Ents, FieldEntry{NameStart: start, NameEnd: len(b.Buf), ValueStart: len(b.Buf)})
	b.names |= nameBit(b.Name)
	n := len(b.Ents)
	switch {
	case b.idx != nil:
		b.idx[string(b.Name)] = n - 1
	case n >= indexThreshold:
		b.idx = make(map[string]int, 2*n)
		for i, e := range b.Ents {
			b.idx[string(b.Buf[e.NameStart:e.NameEnd])] = i
		}
	}
	if b.MaxFields > 0 && n > b.MaxFields {
		b.Err = fmt.Errorf("%w: more than %d", ErrTooManyFields, b.MaxFields)
	}
	return n - 1
}

// EndValue ends the value of entry i at the end of b.Buf.
func (b *FieldBuilder) EndValue(i int) { b.Ents[i].ValueEnd = len(b.Buf) }

// FieldName returns the name of entry i.
func (b *FieldBuilder) FieldName(i int) []byte {
	return b.Buf[b.Ents[i].NameStart:b.Ents[i].NameEnd]
}

// Value returns the value of entry i.
func (b *FieldBuilder) Value(i int) []byte {
	return b.Buf[b.Ents[i].ValueStart:b.Ents[i].ValueEnd]
}

// FindField returns the entry of the named field in b, or -1. It is generic
// rather than a method so that a []byte name is looked up without being
// copied into a string.
func FindField[T ~string | ~[]byte](b *FieldBuilder, name T) int {
	if b.names&nameBit(name) == 0 {
		return -1
	}
	if b.idx != nil {
		if i, ok := b.idx[string(name)]; ok {
			return i
		}
		return -1
	}
	for i := range b.Ents {
		e := &b.Ents[i]
		if string(b.Buf[e.NameStart:e.NameEnd]) == string(name) {
			return i
		}
	}
	return -1
}

// nameBit is the bit of a FieldBuilder's names for name: one of 64, by its
// length and first and last bytes.
func nameBit[T ~string | ~[]byte](name T) uint64 {
	h := uint(len(name))
	if len(name) > 0 {
		h = h*31 + uint(name[0])
		h = h*31 + uint(name[len(name)-1])
	}
	return 1 << (h % 64)
}

// AppendValidUTF8 appends b with every invalid byte replaced by U+FFFD.
func AppendValidUTF8(dst, b []byte) []byte {
	if utf8.Valid(b) {
		return append(dst, b...)
	}
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, b[:size]...)
		}
		b = b[size:]
	}
	return dst
}
