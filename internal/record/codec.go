package record

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Binary layout of one record (all integers are unsigned varints unless said
// otherwise):
//
//	time (zig-zag varint) | tenant | nstream | (name value)* | message | nfields | (name value)*
//
// where every string is its length followed by its bytes. The encoding is
// self-delimiting, so a sequence of records needs no extra framing.

// ErrCorrupt is returned by Decode for bytes that are not an encoded record.
var ErrCorrupt = errors.New("record: corrupt encoding")

// maxDecodeFields bounds allocations when decoding hostile or damaged bytes.
const maxDecodeFields = 1 << 16

// AppendBinary appends the binary encoding of r to dst.
func AppendBinary(dst []byte, r *Record) []byte {
	dst = binary.AppendVarint(dst, r.Time)
	dst = appendString(dst, r.Tenant)
	dst = appendFields(dst, r.Stream)
	dst = appendString(dst, r.Message)
	return appendFields(dst, r.Fields)
}

// appendFields appends the count of fs and then each field's name and
// value.
func appendFields(dst []byte, fs []Field) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(fs)))
	for _, f := range fs {
		dst = appendString(dst, f.Name)
		dst = appendString(dst, f.Value)
	}
	return dst
}

// Decode decodes one record from the start of src into r and returns the
// number of bytes it used. Strings in r do not alias src.
func Decode(src []byte, r *Record) (int, error) {
	d := decoder{b: src}
	r.Time = d.varint()
	r.Tenant = d.str()
	r.Stream = d.fields(r.Stream[:0])
	r.Message = d.str()
	r.Fields = d.fields(r.Fields[:0])
	if d.err != nil {
		return 0, d.err
	}
	return d.off, nil
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at byte %d", ErrCorrupt, what, d.off)
	}
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)-d.off) {
		d.fail("string past end")
		return ""
	}
	s := string(d.b[d.off : d.off+int(n)])
	d.off += int(n)
	return s
}

func (d *decoder) fields(dst []Field) []Field {
	n := d.uvarint()
	if d.err != nil {
		return dst
	}
	// Each field takes at least two bytes, which bounds n by the input.
	if n > maxDecodeFields || n > uint64(len(d.b)-d.off)/2 {
		d.fail("too many fields")
		return dst
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		name := d.str()
		value := d.str()
		dst = append(dst, Field{Name: name, Value: value})
	}
	return dst
}
