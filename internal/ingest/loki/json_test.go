package loki

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

func TestDecodeJSON(t *testing.T) {
	body := `{"streams":[
		{"stream":{"job":"api","env":"prod"},"values":[["1750000000000000123","first"],["1750000000000000124","second",{"trace_id":"abc"}]]},
		{"stream":{},"values":[[1750000000000000125,"numeric ts"],["0","now"]]},
		{"values":[]},
		{"stream":{"job":"x"}}
	]}`
	push, err := DecodeJSON([]byte(body), "acme", testNow, 0)
	if err != nil {
		t.Fatal(err)
	}
	stream := fields("env", "prod", "job", "api")
	want := []record.Record{
		{Time: 1750000000000000123, Tenant: "acme", Stream: stream, Message: "first"},
		{Time: 1750000000000000124, Tenant: "acme", Stream: stream, Message: "second", Fields: fields("trace_id", "abc")},
		{Time: 1750000000000000125, Tenant: "acme", Message: "numeric ts"},
		{Time: testNow.UnixNano(), Tenant: "acme", Message: "now"},
	}
	if push.Rejected != 0 || !reflect.DeepEqual(push.Records, want) {
		t.Fatalf("rejected %d (%v)\ngot  %+v\nwant %+v", push.Rejected, push.FirstErr, push.Records, want)
	}
}

func TestDecodeJSONRejects(t *testing.T) {
	for _, tc := range []struct {
		name, stream, values string
		reason               error
		msg                  string
	}{
		{"bad timestamp", `{"a":"1"}`, `[["yesterday","x"],["1.5","y"]]`, ingest.ErrBadTime, "Unix nanoseconds"},
		{"bool timestamp", `{"a":"1"}`, `[[true,"x"],[null,"y"]]`, ingest.ErrBadTime, "got true"},
		{"bad label name", `{"a-b":"1"}`, `[["1","x"],["2","y"]]`, ErrLabels, `"a-b"`},
		{"reserved label", `{"_stream":"1"}`, `[["1","x"],["2","y"]]`, ingest.ErrFieldName, "_stream"},
		{"repeated label", `{"a":"1","a":"2"}`, `[["1","x"],["2","y"]]`, ErrLabels, "twice"},
		{"metadata shadows label", `{"a":"1"}`, `[["1","x",{"a":"2"}],["2","y",{"a":"3"}]]`, ingest.ErrFieldName, "also a stream label"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := `{"streams":[{"stream":` + tc.stream + `,"values":` + tc.values + `},{"stream":{"ok":"1"},"values":[["1","kept"]]}]}`
			push, err := DecodeJSON([]byte(body), "", testNow, 0)
			if err != nil {
				t.Fatal(err)
			}
			if push.Rejected != 2 || len(push.Records) != 1 || push.Records[0].Message != "kept" {
				t.Fatalf("rejected %d, kept %+v", push.Rejected, push.Records)
			}
			if !errors.Is(push.FirstErr, tc.reason) || !strings.Contains(push.FirstErr.Error(), tc.msg) {
				t.Fatalf("error %v, want %v mentioning %q", push.FirstErr, tc.reason, tc.msg)
			}
		})
	}
}

func TestDecodeJSONMalformed(t *testing.T) {
	for _, tc := range []struct{ body, msg string }{
		{`{"streams":[`, "cannot parse"},
		{`[]`, "want an object"},
		{`{"streams":{}}`, "streams: want an array"},
		{`{"streams":[1]}`, "streams[0]: want an object"},
		{`{"streams":[{"stream":{"a":1}}]}`, `stream: "a": want a string`},
		{`{"streams":[{"stream":[]}]}`, "stream: want an object"},
		{`{"streams":[{"values":{}}]}`, "values: want an array"},
		{`{"streams":[{"values":[["1"]]}]}`, "values[0]: want"},
		{`{"streams":[{"values":[["1","x",{},4]]}]}`, "values[0]: want"},
		{`{"streams":[{"values":[["1",2]]}]}`, "line: want a string"},
		{`{"streams":[{"values":[["1","x",{"k":2}]]}]}`, "structured metadata"},
	} {
		_, err := DecodeJSON([]byte(tc.body), "", testNow, 0)
		if !errors.Is(err, ErrJSON) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %v, want ErrJSON mentioning %q", tc.body, err, tc.msg)
		}
	}
}

// FuzzPushJSON decodes arbitrary JSON push bodies: no panic, and every
// record it keeps is well-formed.
func FuzzPushJSON(f *testing.F) {
	f.Add(`{"streams":[{"stream":{"job":"api"},"values":[["1750000000000000123","line",{"k":"v"}]]}]}`)
	f.Add(`{"streams":[{"stream":{"a":"\u00e9\ud800"},"values":[[1,"x"]]}]}`)
	f.Add(`{"streams":[{"values":[["-1","\u0000"]]}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		push, err := DecodeJSON([]byte(body), "", testNow, 10)
		if err != nil {
			if !errors.Is(err, ErrJSON) {
				t.Fatalf("error %v is not ErrJSON", err)
			}
			return
		}
		checkRecords(t, push)
	})
}
