package record

import (
	"errors"
	"reflect"
	"testing"
)

func sharedRec(tenant string, fields ...string) Record {
	r := Record{Time: 7, Tenant: tenant, Stream: []Field{{"host", "h"}}, Message: "m"}
	for i := 0; i < len(fields); i += 2 {
		r.Fields = append(r.Fields, Field{fields[i], fields[i+1]})
	}
	return r
}

func TestFindShared(t *testing.T) {
	tests := []struct {
		name string
		recs []Record
		want []SharedField
	}{
		{"none", nil, nil},
		{"one record shares only its tenant", []Record{sharedRec("t", "a", "1")}, nil},
		{"a field in every record", []Record{
			sharedRec("t", "_index", "logs", "a", "1"),
			sharedRec("t", "_index", "logs", "a", "2"),
		}, []SharedField{{0, Field{"_index", "logs"}}}},
		{"a later position", []Record{
			sharedRec("t", "a", "1", "b", "x", "c", "y"),
			sharedRec("t", "a", "2", "b", "x", "c", "y"),
			sharedRec("t", "a", "3", "b", "x", "c", "z"),
		}, []SharedField{{1, Field{"b", "x"}}}},
		{"a shorter record", []Record{
			sharedRec("t", "a", "1", "b", "x"),
			sharedRec("t", "a", "1"),
		}, []SharedField{{0, Field{"a", "1"}}}},
		{"same value under another name", []Record{
			sharedRec("t", "a", "1"),
			sharedRec("t", "b", "1"),
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sh Shared
			FindShared(tt.recs, &sh)
			if len(sh.Fields) == 0 {
				sh.Fields = nil
			}
			if !reflect.DeepEqual(sh.Fields, tt.want) {
				t.Fatalf("shared %+v, want %+v", sh.Fields, tt.want)
			}
			for i := range tt.recs {
				b := AppendBinaryShared(nil, &tt.recs[i], &sh)
				var got Record
				n, err := DecodeBinaryShared(b, &got, &sh)
				if err != nil || n != len(b) {
					t.Fatalf("decode record %d: %d of %d bytes, %v", i, n, len(b), err)
				}
				if !reflect.DeepEqual(got, tt.recs[i]) {
					t.Fatalf("record %d round trip: %+v, want %+v", i, got, tt.recs[i])
				}
			}
			enc := AppendShared(nil, &sh)
			var back Shared
			if err := DecodeShared(enc, &back); err != nil || back.Tenant != sh.Tenant || len(back.Fields) != len(sh.Fields) {
				t.Fatalf("shared round trip: %+v %v, want %+v", back, err, sh)
			}
		})
	}
}

func TestTenantRun(t *testing.T) {
	recs := []Record{{Tenant: "a"}, {Tenant: "a"}, {Tenant: "b"}, {Tenant: "a"}}
	for _, tt := range []struct{ from, want int }{{0, 2}, {2, 1}, {3, 1}, {4, 0}} {
		if got := TenantRun(recs[tt.from:]); got != tt.want {
			t.Errorf("TenantRun from %d: %d, want %d", tt.from, got, tt.want)
		}
	}
}

func TestDecodeSharedRejects(t *testing.T) {
	sh := Shared{Tenant: "t", Fields: []SharedField{{1, Field{"a", "1"}}, {3, Field{"b", "2"}}}}
	good := AppendShared(nil, &sh)
	outOfOrder := AppendShared(nil, &Shared{Fields: []SharedField{{3, Field{"b", "2"}}, {1, Field{"a", "1"}}}})
	for name, b := range map[string][]byte{
		"truncated":          good[:len(good)-1],
		"trailing bytes":     append(append([]byte(nil), good...), 0),
		"positions unsorted": outOfOrder,
		"too many fields":    {0, 0xff, 0xff, 0x03},
	} {
		if err := DecodeShared(b, new(Shared)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
	// A record with fewer fields than a shared position is refused.
	short := AppendBinaryShared(nil, &Record{Fields: []Field{{"x", "y"}}}, &Shared{})
	if _, err := DecodeBinaryShared(short, new(Record), &sh); !errors.Is(err, ErrCorrupt) {
		t.Errorf("shared position past the record: %v, want ErrCorrupt", err)
	}
}

func FuzzDecodeShared(f *testing.F) {
	sh := Shared{Tenant: "t", Fields: []SharedField{{0, Field{"_index", "logs"}}}}
	f.Add(AppendShared(nil, &sh), AppendBinaryShared(nil, &Record{Message: "m", Fields: []Field{{"_index", "logs"}, {"a", "b"}}}, &sh))
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, shb, recb []byte) {
		var s Shared
		if DecodeShared(shb, &s) != nil {
			return
		}
		var s2 Shared
		if err := DecodeShared(AppendShared(nil, &s), &s2); err != nil || !reflect.DeepEqual(s, s2) {
			t.Fatalf("shared entry %+v does not round trip: %+v %v", s, s2, err)
		}
		var r Record
		if _, err := DecodeBinaryShared(recb, &r, &s); err != nil {
			return
		}
		var r2 Record
		if _, err := DecodeBinaryShared(AppendBinaryShared(nil, &r, &s), &r2, &s); err != nil || !reflect.DeepEqual(r, r2) {
			t.Fatalf("record %+v does not round trip: %+v %v", r, r2, err)
		}
	})
}
