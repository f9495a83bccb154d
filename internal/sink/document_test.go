package sink

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

func TestAppendDocument(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    record.Record
		want string
	}{
		{
			name: "ECS names, typed values, reserved names moved",
			r: record.Record{Time: 1_700_000_000_123_456_789, Tenant: "t1", Message: "hello \"x\"",
				Stream: []record.Field{{Name: "service", Value: "api"}},
				Fields: []record.Field{{Name: "message", Value: "other"}, {Name: "level", Value: "info"}, {Name: "n", Value: "-12.5"},
					{Name: "ok", Value: "true"}, {Name: "id", Value: "007"}, {Name: "sluice.stream", Value: "x"}}},
			want: `{"@timestamp":"2023-11-14T22:13:20.123456789Z","message":"hello \"x\"","sluice.stream":"{service=\"api\"}","sluice.tenant":"t1",` +
				`"service.name":"api","sluice.field.message":"other","log.level":"info","n":-12.5,"ok":true,"id":"007","sluice.field.sluice.stream":"x"}`,
		},
		{
			name: "a second source of one ECS name keeps its name; a scalar named like an ECS object moves",
			r: record.Record{Time: 0, Fields: []record.Field{{Name: "level", Value: "warn"}, {Name: "severity", Value: "3"},
				{Name: "trace", Value: "t"}, {Name: "trace_id", Value: "abc"}}},
			want: `{"@timestamp":"1970-01-01T00:00:00Z","message":"","sluice.stream":"{}","log.level":"warn","severity":3,"sluice.field.trace":"t","trace.id":"abc"}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(appendDocument(nil, &tc.r))
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if !json.Valid([]byte(got)) {
				t.Error("not valid JSON")
			}
		})
	}
}

func TestPlainNumber(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "12": true, "-3": true, "1.5": true, "-0.25": true, "9223372036854775807": true,
		"": false, "-": false, "007": false, "1.": false, ".5": false, "1e5": false, "+1": false, "0x1F": false,
		"NaN": false, "1.2.3": false, "9223372036854775808": false, "12 ": false,
	} {
		if got := plainNumber(s); got != want {
			t.Errorf("plainNumber(%q) = %t, want %t", s, got, want)
		}
	}
}

// FuzzAppendDocument: whatever the names and values, the document is valid
// JSON, and every value comes back as it was (a string, or the same text
// as a number or boolean).
func FuzzAppendDocument(f *testing.F) {
	f.Add("level", "info", "n", "12.5")
	f.Add("sluice", "x", "message", "\x00\"\\")
	f.Add("a.b", "-0", "host", "007")
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2 string) {
		r := record.Record{Time: 1, Message: v1, Fields: []record.Field{{Name: n1, Value: v1}, {Name: n2, Value: v2}}}
		doc := appendDocument(nil, &r)
		var m map[string]json.RawMessage
		if err := json.Unmarshal(doc, &m); err != nil {
			t.Fatalf("invalid JSON %s: %v", doc, err)
		}
		for _, raw := range m {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				continue
			}
			if txt := string(raw); !plainNumber(txt) && txt != "true" && txt != "false" {
				t.Errorf("value %s is neither a string nor a plain number or boolean", txt)
			}
		}
		if !strings.HasPrefix(string(doc), `{"@timestamp":`) {
			t.Errorf("document %s", doc)
		}
	})
}
