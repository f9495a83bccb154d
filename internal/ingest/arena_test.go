package ingest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

// TestConverterRecordsOwnTheirText: records converted one after another by
// one Converter, whose text and fields share the arena's chunks, keep their
// values while later records are converted, and appending to one record's
// fields leaves the next record's alone.
func TestConverterRecordsOwnTheirText(t *testing.T) {
	tests := []struct {
		name string
		line func(i int) string
	}{
		{"small", func(i int) string {
			return fmt.Sprintf(`{"_msg":"m%d","service":"s%d","a":"%d","b":{"c":%d}}`, i, i%3, i, i)
		}},
		{"large text", func(i int) string {
			return fmt.Sprintf(`{"_msg":"%s","service":"s","a":"%d"}`, strings.Repeat("x", arenaTextChunk/3+i), i)
		}},
		{"many fields", func(i int) string {
			var b strings.Builder
			b.WriteString(`{"_msg":"m"`)
			for j := range arenaFieldsChunk/4 + 1 + i%2 {
				fmt.Fprintf(&b, `,"f%d":"%d"`, j, i)
			}
			b.WriteString("}")
			return b.String()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.MaxFieldsPerRecord = 0
			c := NewConverter(cfg)
			const n = 2000
			var got []record.Record
			for i := range n {
				r, err := c.Convert([]byte(tt.line(i)), testNow, "", nil)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, r)
				if i > 0 {
					// An append to the previous record must copy.
					p := &got[i-1]
					p.Fields = append(p.Fields, record.Field{Name: "zz", Value: "zz"})
					p.Stream = append(p.Stream, record.Field{Name: "zz", Value: "zz"})
				}
			}
			for i := range n {
				want, err := NewConverter(cfg).Convert([]byte(tt.line(i)), testNow, "", nil)
				if err != nil {
					t.Fatal(err)
				}
				r := got[i]
				if i < n-1 {
					r.Fields = r.Fields[:len(r.Fields)-1]
					r.Stream = r.Stream[:len(r.Stream)-1]
				}
				if r.Message != want.Message || fmt.Sprint(r.Fields) != fmt.Sprint(want.Fields) || fmt.Sprint(r.Stream) != fmt.Sprint(want.Stream) {
					t.Fatalf("record %d = %+v, want %+v", i, r, want)
				}
			}
		})
	}
}
