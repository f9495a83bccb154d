package record

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// Shared is what a run of records has in common, so that a log of records
// can store it once for the run instead of in every record: the tenant,
// and the fields that sit at the same position with the same name and
// value in every record of the run (the index name of an Elasticsearch
// bulk request, a label a shipper adds to every line).
type Shared struct {
	Tenant string
	// Fields are in ascending order of Pos, each the index of the field
	// in Record.Fields.
	Fields []SharedField
}

// SharedField is one field of Shared and its position in the records.
type SharedField struct {
	Pos int
	Field
}

// maxSharedFields bounds the candidates FindShared tests: one bit each.
const maxSharedFields = 64

// TenantRun returns the length of the run of records at the start of recs
// (at least one, unless recs is empty) that share recs[0]'s tenant.
func TenantRun(recs []Record) int {
	if len(recs) == 0 {
		return 0
	}
	t := recs[0].Tenant
	n := 1
	for n < len(recs) && recs[n].Tenant == t {
		n++
	}
	return n
}

// FindShared fills sh with what every record of recs (which must share a
// tenant) has in common: its tenant and, when there are two records or
// more, the fields at the same position with the same name and value in
// all of them, among the first 64 fields of recs[0]. It costs a few
// comparisons per record: records that vary rule out their fields within
// the first records.
func FindShared(recs []Record, sh *Shared) {
	sh.Fields = sh.Fields[:0]
	sh.Tenant = ""
	if len(recs) == 0 {
		return
	}
	sh.Tenant = recs[0].Tenant
	if len(recs) < 2 {
		return
	}
	first := recs[0].Fields
	n := min(len(first), maxSharedFields)
	if n == 0 {
		return
	}
	mask := uint64(1)<<n - 1
	if n == maxSharedFields {
		mask = ^uint64(0)
	}
	for i := 1; i < len(recs) && mask != 0; i++ {
		fs := recs[i].Fields
		for m := mask; m != 0; m &= m - 1 {
			j := bits.TrailingZeros64(m)
			if j >= len(fs) || fs[j] != first[j] {
				mask &^= 1 << j
			}
		}
	}
	for m := mask; m != 0; m &= m - 1 {
		j := bits.TrailingZeros64(m)
		sh.Fields = append(sh.Fields, SharedField{Pos: j, Field: first[j]})
	}
}

// AppendShared appends the encoding of sh to dst:
//
//	tenant | nfields | (pos name value)*
//
// with pos an unsigned varint and strings as in AppendBinary.
func AppendShared(dst []byte, sh *Shared) []byte {
	dst = appendString(dst, sh.Tenant)
	dst = binary.AppendUvarint(dst, uint64(len(sh.Fields)))
	for _, f := range sh.Fields {
		dst = binary.AppendUvarint(dst, uint64(f.Pos))
		dst = appendString(dst, f.Name)
		dst = appendString(dst, f.Value)
	}
	return dst
}

// DecodeShared decodes AppendShared's encoding, which must use all of src,
// into sh. Positions must ascend.
func DecodeShared(src []byte, sh *Shared) error {
	d := decoder{b: src}
	sh.Tenant = d.str()
	n := d.uvarint()
	// Each field takes at least three bytes, which bounds n by the input.
	if d.err == nil && (n > maxDecodeFields || n > uint64(len(src)-d.off)/3) {
		d.fail("too many shared fields")
	}
	sh.Fields = sh.Fields[:0]
	for i := uint64(0); i < n && d.err == nil; i++ {
		pos := d.uvarint()
		name := d.str()
		value := d.str()
		if d.err == nil && (pos > maxDecodeFields || len(sh.Fields) > 0 && int(pos) <= sh.Fields[len(sh.Fields)-1].Pos) {
			d.fail("shared field positions out of order")
		}
		sh.Fields = append(sh.Fields, SharedField{Pos: int(pos), Field: Field{Name: name, Value: value}})
	}
	if d.err == nil && d.off != len(src) {
		d.fail(fmt.Sprintf("%d bytes after the shared fields", len(src)-d.off))
	}
	return d.err
}

// AppendBinaryShared appends r's encoding relative to sh, which r must
// match (its tenant, and every shared field at its position): r as
// AppendBinary encodes it, without the tenant and the shared fields.
func AppendBinaryShared(dst []byte, r *Record, sh *Shared) []byte {
	dst = binary.AppendVarint(dst, r.Time)
	dst = appendFields(dst, r.Stream)
	dst = appendString(dst, r.Message)
	dst = binary.AppendUvarint(dst, uint64(len(r.Fields)-len(sh.Fields)))
	k := 0
	for i, f := range r.Fields {
		if k < len(sh.Fields) && sh.Fields[k].Pos == i {
			k++
			continue
		}
		dst = appendString(dst, f.Name)
		dst = appendString(dst, f.Value)
	}
	return dst
}

// DecodeBinaryShared decodes one record encoded by AppendBinaryShared
// from the start of src into r, puts sh's tenant and fields back, and
// returns the number of bytes it used. Strings in r do not alias src; the
// shared ones are sh's.
func DecodeBinaryShared(src []byte, r *Record, sh *Shared) (int, error) {
	d := decoder{b: src}
	r.Time = d.varint()
	r.Tenant = sh.Tenant
	r.Stream = d.fields(r.Stream[:0])
	r.Message = d.str()
	r.Fields = d.fields(r.Fields[:0])
	if d.err != nil {
		return 0, d.err
	}
	for _, f := range sh.Fields {
		if f.Pos > len(r.Fields) {
			return 0, fmt.Errorf("%w: shared field at position %d of a record with %d fields", ErrCorrupt, f.Pos, len(r.Fields))
		}
		r.Fields = append(r.Fields, Field{})
		copy(r.Fields[f.Pos+1:], r.Fields[f.Pos:])
		r.Fields[f.Pos] = f.Field
	}
	return d.off, nil
}
