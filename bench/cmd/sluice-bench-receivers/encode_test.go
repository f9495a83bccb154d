package main

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/golang/snappy"
	"google.golang.org/protobuf/encoding/protowire"
)

var testRec = rec{
	line: []byte(`{"_time":"2026-01-02T03:04:05.5Z","_msg":"a \"b\"]","host":"h 1","level":"warn","service":"api","status":"500"}`),
	time: 1767323045500000000, msg: `a "b"]`,
	fields: []field{{"host", "h 1"}, {"level", "warn"}, {"service", "api"}, {"status", "500"}},
}

func TestAppendJSONLine(t *testing.T) {
	var m map[string]any
	if err := json.Unmarshal(appendJSONLine(nil, &testRec, "jsonline"), &m); err != nil {
		t.Fatal(err)
	}
	if m[benchField] != "jsonline" || m["_msg"] != testRec.msg {
		t.Fatalf("line decodes to %v", m)
	}
}

func TestESDoc(t *testing.T) {
	var m map[string]any
	if err := json.Unmarshal(esDoc(&testRec, "esbulk"), &m); err != nil {
		t.Fatal(err)
	}
	if m["message"] != testRec.msg || m["@timestamp"] != "2026-01-02T03:04:05.5Z" || m[benchField] != "esbulk" || m["status"] != "500" {
		t.Fatalf("doc decodes to %v", m)
	}
}

func TestAppendSyslogFrame(t *testing.T) {
	frame := appendSyslogFrame(nil, &testRec, "syslog-tcp")
	sp := bytes.IndexByte(frame, ' ')
	n, err := strconv.Atoi(string(frame[:sp]))
	if err != nil || n != len(frame)-sp-1 {
		t.Fatalf("octet count %q does not match the %d bytes after it", frame[:sp], len(frame)-sp-1)
	}
	want := `<12>1 2026-01-02T03:04:05.500000Z h_1 api - - [bench receiver="syslog-tcp"][f status="500"] a "b"]`
	if got := string(frame[sp+1:]); got != want {
		t.Fatalf("frame\n got %s\nwant %s", got, want)
	}
}

func TestHeaderToken(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{{"", 5, "-"}, {"abc", 5, "abc"}, {"a b\tc", 9, "a_b_c"}, {"abcdef", 3, "abc"}, {"é", 9, "_"}}
	for _, tt := range tests {
		if got := headerToken(tt.in, tt.max); got != tt.want {
			t.Errorf("headerToken(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

// TestLokiPush decodes the push request's outer layers: one stream with
// the expected labels and one entry.
func TestLokiPush(t *testing.T) {
	raw, err := snappy.Decode(nil, lokiPush([]rec{testRec}, "loki"))
	if err != nil {
		t.Fatal(err)
	}
	num, typ, n := protowire.ConsumeTag(raw)
	if num != 1 || typ != protowire.BytesType {
		t.Fatalf("first field %d/%d, want streams (1, bytes)", num, typ)
	}
	stream, m := protowire.ConsumeBytes(raw[n:])
	if n+m != len(raw) {
		t.Fatalf("want exactly one stream")
	}
	_, _, n = protowire.ConsumeTag(stream)
	labels, m := protowire.ConsumeBytes(stream[n:])
	if want := `{bench_receiver="loki", service="api"}`; string(labels) != want {
		t.Fatalf("labels %q, want %q", labels, want)
	}
	num, _, k := protowire.ConsumeTag(stream[n+m:])
	if _, e := protowire.ConsumeBytes(stream[n+m+k:]); num != 2 || e != len(stream)-n-m-k {
		t.Fatalf("want exactly one entry after the labels")
	}
}

func TestOTLPRequest(t *testing.T) {
	lr := otlpRequest([]rec{testRec}, "otlp-http").ResourceLogs[0].ScopeLogs[0].LogRecords[0]
	if lr.SeverityText != "warn" || lr.Body.GetStringValue() != testRec.msg || lr.TimeUnixNano != uint64(testRec.time) {
		t.Fatalf("log record %v", lr)
	}
	attrs := map[string]string{}
	for _, kv := range lr.Attributes {
		attrs[kv.Key] = kv.Value.GetStringValue()
	}
	if attrs[benchField] != "otlp-http" || attrs["status"] != "500" || attrs["level"] != "" || len(attrs) != 4 {
		t.Fatalf("attributes %v", attrs)
	}
}
