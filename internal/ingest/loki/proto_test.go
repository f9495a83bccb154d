package loki

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

// The builders below write Loki's logproto messages field by field with
// protowire, with the field numbers spelled out here rather than taken from
// the decoder, so that a wrong constant in the decoder fails these tests.

func pbString(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func pbMsg(b []byte, num protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}

// pbTimestamp is google.protobuf.Timestamp{seconds=1, nanos=2}.
func pbTimestamp(secs int64, nanos int32) []byte {
	var b []byte
	if secs != 0 {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(secs))
	}
	if nanos != 0 {
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(int64(nanos)))
	}
	return b
}

// pbEntry is EntryAdapter{timestamp=1, line=2, structuredMetadata=3}.
func pbEntry(ts time.Time, line string, meta ...string) []byte {
	var b []byte
	if !ts.IsZero() {
		b = pbMsg(b, 1, pbTimestamp(ts.Unix(), int32(ts.Nanosecond())))
	}
	b = pbString(b, 2, line)
	for i := 0; i+1 < len(meta); i += 2 {
		// LabelPairAdapter{name=1, value=2}
		b = pbMsg(b, 3, pbString(pbString(nil, 1, meta[i]), 2, meta[i+1]))
	}
	return b
}

// pbStream is StreamAdapter{labels=1, entries=2, hash=3}.
func pbStream(labels string, entries ...[]byte) []byte {
	b := pbString(nil, 1, labels)
	for _, e := range entries {
		b = pbMsg(b, 2, e)
	}
	b = protowire.AppendTag(b, 3, protowire.VarintType)
	return protowire.AppendVarint(b, 0xdeadbeef)
}

// pbPush is PushRequest{streams=1}.
func pbPush(streams ...[]byte) []byte {
	var b []byte
	for _, s := range streams {
		b = pbMsg(b, 1, s)
	}
	return b
}

var (
	testNow = time.Unix(1_700_000_000, 0)
	ts1     = time.Unix(1_750_000_000, 123)
)

func TestDecodeProto(t *testing.T) {
	// Labels after entries: protobuf allows any field order.
	reordered := pbMsg(nil, 2, pbEntry(ts1, "late labels"))
	reordered = pbString(reordered, 1, `{job="late"}`)
	data := pbPush(
		pbStream(`{job="api", env="prod"}`,
			pbEntry(ts1, "first line", "trace_id", "abc", "user", "u1"),
			pbEntry(time.Time{}, "no timestamp"),
			pbEntry(ts1, ""),
		),
		reordered,
		pbStream(`{}`, pbEntry(ts1, "bad utf8 \xff")),
	)
	// An unknown PushRequest field is skipped.
	data = protowire.AppendTag(data, 9, protowire.Fixed64Type)
	data = protowire.AppendFixed64(data, 1)

	push, err := DecodeProto(data, "acme", testNow, 0)
	if err != nil {
		t.Fatal(err)
	}
	stream := fields("env", "prod", "job", "api")
	want := []record.Record{
		{Time: ts1.UnixNano(), Tenant: "acme", Stream: stream, Message: "first line", Fields: fields("trace_id", "abc", "user", "u1")},
		{Time: testNow.UnixNano(), Tenant: "acme", Stream: stream, Message: "no timestamp"},
		{Time: ts1.UnixNano(), Tenant: "acme", Stream: stream},
		{Time: ts1.UnixNano(), Tenant: "acme", Stream: fields("job", "late"), Message: "late labels"},
		{Time: ts1.UnixNano(), Tenant: "acme", Message: "bad utf8 \uFFFD"},
	}
	if push.Rejected != 0 || !reflect.DeepEqual(push.Records, want) {
		t.Fatalf("rejected %d (%v)\ngot  %+v\nwant %+v", push.Rejected, push.FirstErr, push.Records, want)
	}
}

func TestDecodeProtoRejects(t *testing.T) {
	tooLate := pbMsg(nil, 1, pbTimestamp(1<<40, 0))
	tooLate = pbString(tooLate, 2, "far future")
	badNanos := pbMsg(nil, 1, pbTimestamp(1, -1))
	for _, tc := range []struct {
		name   string
		stream []byte
		reason error
		msg    string
	}{
		{"bad labels", pbStream(`{job=api}`, pbEntry(ts1, "x"), pbEntry(ts1, "y")), ErrLabels, "to open a label value"},
		{"reserved label", pbStream(`{_msg="x"}`, pbEntry(ts1, "x"), pbEntry(ts1, "y")), ingest.ErrFieldName, `label "_msg"`},
		{"reserved metadata", pbStream(`{a="1"}`, pbEntry(ts1, "x", "_time", "1"), pbEntry(ts1, "y", "_stream", "")), ingest.ErrFieldName, "reserved name"},
		{"metadata shadows label", pbStream(`{a="1"}`, pbEntry(ts1, "x", "a", "2"), pbEntry(ts1, "y", "a", "3")), ingest.ErrFieldName, "also a stream label"},
		{"empty metadata name", pbStream(`{a="1"}`, pbEntry(ts1, "x", "", "2"), pbEntry(ts1, "y", "", "3")), ingest.ErrFieldName, "empty"},
		{"too many fields", pbStream(`{a="1",b="2"}`, pbEntry(ts1, "x", "c", "3", "d", "4"), pbEntry(ts1, "y", "e", "1", "f", "2")), ingest.ErrTooManyFields, "more than 3"},
		{"time out of range", pbStream(`{a="1"}`, tooLate, tooLate), ingest.ErrBadTime, "1678-2262"},
		{"negative nanos", pbStream(`{a="1"}`, badNanos, badNanos), ingest.ErrBadTime, "nanos -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			push, err := DecodeProto(pbPush(tc.stream, pbStream(`{ok="1"}`, pbEntry(ts1, "kept"))), "", testNow, 3)
			if err != nil {
				t.Fatal(err)
			}
			if push.Rejected != 2 || len(push.Records) != 1 || push.Records[0].Message != "kept" {
				t.Fatalf("rejected %d, kept %+v", push.Rejected, push.Records)
			}
			if !errors.Is(push.FirstErr, tc.reason) || !strings.Contains(push.FirstErr.Error(), tc.msg) {
				t.Fatalf("error %v, want %v mentioning %q", push.FirstErr, tc.reason, tc.msg)
			}
			if push.Reasons[ingest.RejectReason(tc.reason)] != 2 {
				t.Fatalf("reasons %v", push.Reasons)
			}
		})
	}
}

func TestDecodeProtoMalformed(t *testing.T) {
	wrongType := protowire.AppendTag(nil, 1, protowire.VarintType)
	wrongType = protowire.AppendVarint(wrongType, 1)
	entryWrongLine := protowire.AppendTag(nil, 2, protowire.Fixed32Type)
	entryWrongLine = protowire.AppendFixed32(entryWrongLine, 1)
	tsWrong := pbMsg(nil, 1, pbString(nil, 1, "x"))
	for _, tc := range []struct {
		name string
		data []byte
		msg  string
	}{
		{"truncated tag", []byte{0x80}, "PushRequest"},
		{"streams as varint", wrongType, "PushRequest.streams has wire type 0"},
		{"truncated stream", pbPush(pbStream(`{}`))[:5], "PushRequest.streams"},
		{"line as fixed32", pbPush(pbStream(`{}`, entryWrongLine)), "EntryAdapter.line has wire type 5"},
		{"seconds as string", pbPush(pbStream(`{}`, tsWrong)), "Timestamp.seconds has wire type 2"},
		{"bad unknown field", pbPush(append(pbStream(`{}`), 0x3a, 0x05)), "StreamAdapter field 7"},
		{"metadata as varint", pbPush(pbStream(`{}`, append(protowire.AppendTag(nil, 3, protowire.VarintType), 1))), "structuredMetadata"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeProto(tc.data, "", testNow, 0)
			if !errors.Is(err, ErrProto) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v, want ErrProto mentioning %q", err, tc.msg)
			}
		})
	}
}

// FuzzPushProto decodes arbitrary bytes as a PushRequest: no panic, and
// every record it keeps is well-formed.
func FuzzPushProto(f *testing.F) {
	f.Add(pbPush(pbStream(`{job="api"}`, pbEntry(ts1, "line", "k", "v"))))
	f.Add(pbPush(pbStream(`{a="\u00e9"}`, pbEntry(time.Time{}, "x")), pbStream(`{`)))
	f.Add([]byte{0x0a, 0x03, 0x12, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		push, err := DecodeProto(data, "", testNow, 10)
		if err != nil {
			if !errors.Is(err, ErrProto) {
				t.Fatalf("error %v is not ErrProto", err)
			}
			return
		}
		checkRecords(t, push)
	})
}

func checkRecords(t *testing.T, push Push) {
	t.Helper()
	for _, r := range push.Records {
		if !utf8Valid(r.Message) {
			t.Fatalf("message %q is not UTF-8", r.Message)
		}
		names := map[string]bool{}
		for _, f := range append(append([]record.Field(nil), r.Stream...), r.Fields...) {
			if f.Name == "" || names[f.Name] || isReserved(f.Name) || !utf8Valid(f.Value) || !utf8Valid(f.Name) {
				t.Fatalf("bad field %q=%q in %+v", f.Name, f.Value, r)
			}
			names[f.Name] = true
		}
		if len(r.Stream)+len(r.Fields) > 10 {
			t.Fatalf("%d fields over the limit", len(r.Stream)+len(r.Fields))
		}
	}
}
