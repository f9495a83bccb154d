package jsonline

import (
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sluice-log/sluice/internal/record"
)

func TestParseLineDefaults(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		line    string
		time    int64
		message string
		stream  string
	}{
		{`{"_time":"2024-02-03T04:05:06Z","_msg":"m"}`, time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC).UnixNano(), "m", "{}"},
		{`{"@timestamp":"2024-02-03 04:05:06","message":"m","container":"c"}`, time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC).UnixNano(), "m", `{container="c"}`},
		{`{"timestamp":1706933106000,"msg":"m"}`, 1706933106000e6, "m", "{}"},
		{`{"time":"1706933106","log":"m","host":"h","service":"s"}`, 1706933106e9, "m", `{host="h",service="s"}`},
		{`{"ts":1706933106000000000}`, 1706933106000000000, "", "{}"},
		{`{"other":"x"}`, now.UnixNano(), "", "{}"},
	}
	p := NewParser(DefaultConfig().Record)
	for _, tt := range tests {
		r, err := p.ParseLine([]byte(tt.line), now, "")
		if err != nil {
			t.Errorf("ParseLine(%s): %v", tt.line, err)
			continue
		}
		if r.Time != tt.time || r.Message != tt.message || r.StreamString() != tt.stream {
			t.Errorf("ParseLine(%s) = time %d msg %q stream %s; want %d %q %s", tt.line, r.Time, r.Message, r.StreamString(), tt.time, tt.message, tt.stream)
		}
	}
}

// FuzzJSONLine checks that no line panics and that every accepted line
// gives a record that keeps record.Record's promises.
func FuzzJSONLine(f *testing.F) {
	for _, s := range []string{
		`{"_msg":"hello","service":"api","a":{"b":[1,2,{"c":null}]},"n":1.5e3}`,
		`{"_time":"2024-01-02T03:04:05.123+02:00","a":true,"a":false}`,
		`{"ts":"1700000000123","_stream":"x","host":"h"}`,
		"{\"\xff\":\"\xfe\"}",
		// Escapes of lone and paired surrogates in a valid line.
		`{"a":"\ud800","b\ud83d\ude00":"\ud800\u0041x","c":["\udfff"]}`,
		`[1]`, `{`, `{"":1}`, `{"a":{"":2}}`,
	} {
		f.Add([]byte(s))
	}
	now := time.Unix(1700000000, 0)
	p := NewParser(DefaultConfig().Record)
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := p.ParseLine(line, now, "t")
		if err != nil {
			return
		}
		names := map[string]bool{}
		check := func(fs []record.Field) {
			for _, f := range fs {
				if names[f.Name] {
					t.Fatalf("name %q twice in %+v", f.Name, r)
				}
				names[f.Name] = true
				if f.Name == "" || f.Name == record.TimeField || f.Name == record.MessageField || f.Name == record.StreamField {
					t.Fatalf("bad field name %q in %+v", f.Name, r)
				}
				if !utf8.ValidString(f.Name) || !utf8.ValidString(f.Value) {
					t.Fatalf("invalid UTF-8 in %q=%q", f.Name, f.Value)
				}
			}
		}
		check(r.Stream)
		check(r.Fields)
		if !utf8.ValidString(r.Message) {
			t.Fatalf("invalid UTF-8 message %q", r.Message)
		}
		for i := 1; i < len(r.Stream); i++ {
			if r.Stream[i-1].Name > r.Stream[i].Name {
				t.Fatalf("stream not sorted: %v", r.Stream)
			}
		}
		if len(r.Stream)+len(r.Fields) > DefaultConfig().Record.MaxFieldsPerRecord {
			t.Fatalf("%d fields pass the limit", len(r.Stream)+len(r.Fields))
		}
	})
}
