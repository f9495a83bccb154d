package ingest

import (
	"reflect"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

func TestNormalizeLevels(t *testing.T) {
	f := func(kv ...string) []record.Field {
		var fs []record.Field
		for i := 0; i < len(kv); i += 2 {
			fs = append(fs, record.Field{Name: kv[i], Value: kv[i+1]})
		}
		return fs
	}
	tests := []struct{ in, want []record.Field }{
		{f("level", "warning"), f("level", "warn", "severity_text", "warning")},
		{f("level", "WARN"), f("level", "warn", "severity_text", "WARN")},
		{f("level", "warn"), f("level", "warn")},
		{f("level", "notice", "x", "1"), f("level", "info", "x", "1", "severity_text", "notice")},
		{f("level", "CRITICAL"), f("level", "fatal", "severity_text", "CRITICAL")},
		{f("level", "Err"), f("level", "error", "severity_text", "Err")},
		{f("level", "INFO2"), f("level", "info", "severity_text", "INFO2")},
		{f("level", "audit"), f("level", "audit")},
		{f("level", "emerg", "severity_text", "EMERG!"), f("level", "fatal", "severity_text", "EMERG!")},
		{f("lvl", "warning"), f("lvl", "warning")},
	}
	for _, tt := range tests {
		recs := []record.Record{{Fields: append([]record.Field(nil), tt.in...)}}
		NormalizeLevels(recs)
		if !reflect.DeepEqual(recs[0].Fields, tt.want) {
			t.Errorf("%v: got %v, want %v", tt.in, recs[0].Fields, tt.want)
		}
	}
	// Records whose fields share one array stay apart.
	shared := f("level", "warning", "level", "notice")
	recs2 := []record.Record{{Fields: shared[0:1]}, {Fields: shared[1:2]}}
	NormalizeLevels(recs2)
	if recs2[1].Fields[0].Value != "info" || len(recs2[1].Fields) != 2 || recs2[0].Fields[1].Value != "warning" {
		t.Errorf("shared array: %+v", recs2)
	}
	// A stream label is identity: untouched.
	recs := []record.Record{{Stream: f("level", "warning")}}
	NormalizeLevels(recs)
	if recs[0].Stream[0].Value != "warning" || recs[0].Fields != nil {
		t.Errorf("stream label changed: %+v", recs[0])
	}
}

// BenchmarkNormalizeLevels: a batch of 1000 JSON-like records of 10
// fields, a fifth of them with a level to rewrite (WARNING).
func BenchmarkNormalizeLevels(b *testing.B) {
	levels := []string{"info", "warn", "error", "WARNING", "debug"}
	base := make([]record.Record, 1000)
	for i := range base {
		for j := 0; j < 9; j++ {
			base[i].Fields = append(base[i].Fields, record.Field{Name: "f" + string(rune('a'+j)), Value: "v"})
		}
		base[i].Fields = append(base[i].Fields, record.Field{Name: "level", Value: levels[i%len(levels)]})
	}
	recs := make([]record.Record, len(base))
	b.ReportAllocs()
	for b.Loop() {
		for i := range base { // undo the last round's rewrite
			base[i].Fields[9].Value = levels[i%len(levels)]
			recs[i].Fields = base[i].Fields
		}
		NormalizeLevels(recs)
	}
}
