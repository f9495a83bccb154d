package ingest

import (
	"errors"
	"fmt"
	"testing"
)

func TestFieldBuilder(t *testing.T) {
	tests := []struct {
		name      string
		names     []string // one field each, valued by its position
		maxFields int
		want      []string // name=value of the entries, in order
		wantErr   error
	}{
		{name: "empty"},
		{name: "distinct", names: []string{"a", "b"}, want: []string{"a=0", "b=1"}},
		{name: "repeat keeps first place and last value", names: []string{"a", "b", "a"}, want: []string{"a=2", "b=1"}},
		{name: "at the limit", names: []string{"a", "b"}, maxFields: 2, want: []string{"a=0", "b=1"}},
		{name: "repeat does not count", names: []string{"a", "a", "b"}, maxFields: 2, want: []string{"a=1", "b=2"}},
		{name: "past the limit", names: []string{"a", "b", "c", "d"}, maxFields: 2, want: []string{"a=0", "b=1", "c=2"}, wantErr: ErrTooManyFields},
		{name: "repeats past the index threshold", names: manyNames(2*indexThreshold, 3), want: wantMany(2*indexThreshold, 3)},
		// FindField's bit of a name (its length, first and last bytes)
		// is shared by these, and by the missing names checked below.
		{name: "names of one length", names: []string{"host", "path", "hash", "hosh", "h"}, want: []string{"host=0", "path=1", "hash=2", "hosh=3", "h=4"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := FieldBuilder{MaxFields: tc.maxFields}
			// Leftovers of a previous record must not show.
			b.Name = append(b.Name, "old"...)
			b.AddName()
			b.Reset()
			for pos, name := range tc.names {
				b.Name = append(b.Name[:0], name...)
				i := b.AddName()
				if i < 0 {
					continue
				}
				b.Buf = fmt.Append(b.Buf, pos)
				b.EndValue(i)
			}
			if !errors.Is(b.Err, tc.wantErr) || (tc.wantErr == nil) != (b.Err == nil) {
				t.Fatalf("err = %v, want %v", b.Err, tc.wantErr)
			}
			var got []string
			for i := range b.Ents {
				got = append(got, string(b.FieldName(i))+"="+string(b.Value(i)))
				if FindField(&b, b.FieldName(i)) != i || FindField(&b, string(b.FieldName(i))) != i {
					t.Errorf("FindField(%s) is not %d", b.FieldName(i), i)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("entries = %v, want %v", got, tc.want)
			}
			for _, missing := range []string{"missing", "old", "hast", "hosth", ""} {
				if FindField(&b, missing) != -1 {
					t.Errorf("FindField found the missing name %q", missing)
				}
			}
		})
	}
}

// manyNames returns n distinct names given rounds times over.
func manyNames(n, rounds int) []string {
	var names []string
	for range rounds {
		for i := range n {
			names = append(names, fmt.Sprintf("f%d", i))
		}
	}
	return names
}

func wantMany(n, rounds int) []string {
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("f%d=%d", i, (rounds-1)*n+i))
	}
	return want
}
