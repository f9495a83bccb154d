package forward

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

const sec = 1767323045 // 2026-01-02T03:04:05Z

func TestDecodeModes(t *testing.T) {
	docker := mp{}.mapN(4).
		kv("container_id", "abc123").
		kv("container_name", "/web").
		kv("source", "stdout").
		kv("log", "GET / 200")
	twoEntries := cat(entry(sec, "one"), entry(sec+1, "two"))
	tests := []struct {
		name     string
		msg      []byte
		want     []record.Record
		chunk    string
		rejected map[string]int
	}{
		{
			name: "message mode, integer time",
			msg:  mp{}.arr(3).str("app").u32(sec).mapN(2).kv("message", "hello").kv("level", "info"),
			want: []record.Record{{Time: sec * 1e9, Stream: tagOnly("app"), Message: "hello", Fields: fields("level", "info")}},
		},
		{
			name:  "message mode, EventTime and chunk",
			msg:   mp{}.arr(4).str("app").eventTime(sec, 123456789).mapN(1).kv("msg", "hi").chunk("c1"),
			want:  []record.Record{{Time: sec*1e9 + 123456789, Stream: tagOnly("app"), Message: "hi"}},
			chunk: "c1",
		},
		{
			name: "message mode, float time and nil option",
			msg:  mp{}.arr(4).str("app").f64(math.Float64bits(sec+0.5)).mapN(1).kv("message", "x").null(),
			want: []record.Record{{Time: sec*1e9 + 5e8, Stream: tagOnly("app"), Message: "x"}},
		},
		{
			name: "docker fluentd log driver record",
			msg:  mp{}.arr(3).str("docker.web").u32(sec).raw(docker...),
			want: []record.Record{{Time: sec * 1e9, Message: "GET / 200",
				Stream: []record.Field{{Name: "container_id", Value: "abc123"}, {Name: "container_name", Value: "web"}, {Name: "tag", Value: "docker.web"}},
				Fields: fields("source", "stdout")}},
		},
		{
			name: "forward mode with size and chunk options",
			msg: cat(mp{}.arr(3).str("app").arr(2), entry(sec, "one"), mp{}.arr(2).eventTime(sec+1, 5).mapN(1).kv("log", "two"),
				mp{}.mapN(2).str("size").fixint(2).kv("chunk", "c2")),
			want: []record.Record{
				{Time: sec * 1e9, Stream: tagOnly("app"), Message: "one"},
				{Time: (sec+1)*1e9 + 5, Stream: tagOnly("app"), Message: "two"},
			},
			chunk: "c2",
		},
		{
			name: "entries with Fluent Bit metadata",
			msg:  mp{}.arr(2).str("app").bin(mp{}.arr(2).arr(2).eventTime(sec, 7).mapN(1).kv("otlp", "x").mapN(1).kv("log", "meta")),
			want: []record.Record{{Time: sec*1e9 + 7, Stream: tagOnly("app"), Message: "meta"}},
		},
		{
			name: "packed forward as bin",
			msg:  mp{}.arr(2).str("app").bin(twoEntries),
			want: []record.Record{{Time: sec * 1e9, Stream: tagOnly("app"), Message: "one"}, {Time: (sec + 1) * 1e9, Stream: tagOnly("app"), Message: "two"}},
		},
		{
			name:  "packed forward as str (older clients)",
			msg:   mp{}.arr(3).str("app").str(string(twoEntries)).chunk("c3"),
			want:  []record.Record{{Time: sec * 1e9, Stream: tagOnly("app"), Message: "one"}, {Time: (sec + 1) * 1e9, Stream: tagOnly("app"), Message: "two"}},
			chunk: "c3",
		},
		{
			name: "compressed packed forward, two gzip members",
			msg: mp{}.arr(3).str("app").bin(cat(mp(gz(t, entry(sec, "one"))), mp(gz(t, entry(sec+1, "two"))))).
				mapN(3).kv("compressed", "gzip").str("size").fixint(2).kv("chunk", "c4"),
			want:  []record.Record{{Time: sec * 1e9, Stream: tagOnly("app"), Message: "one"}, {Time: (sec + 1) * 1e9, Stream: tagOnly("app"), Message: "two"}},
			chunk: "c4",
		},
		{
			name: "nested maps, arrays, numbers, booleans, nil, invalid UTF-8",
			msg: mp{}.arr(3).str("app").u32(sec).mapN(6).
				str("http").mapN(2).str("status").fixint(99).str("req").mapN(1).kv("method", "GET").
				str("tags").arr(3).str("a").i8(-3).boolean(true).
				str("ok").boolean(false).
				str("gone").null().
				str("bad").str("\xff!").
				str("message").str("m"),
			want: []record.Record{{Time: sec * 1e9, Stream: tagOnly("app"), Message: "m",
				Fields: fields("http.status", "99", "http.req.method", "GET", "tags", `["a",-3,true]`, "ok", "false", "bad", "\uFFFD!")}},
		},
		{
			name: "record tag equal to the event tag is not repeated",
			msg:  mp{}.arr(3).str("app").u32(sec).mapN(2).kv("tag", "app").kv("message", "m"),
			want: []record.Record{{Time: sec * 1e9, Stream: tagOnly("app"), Message: "m"}},
		},
		{
			name: "record tag differing from the event tag is kept under another name",
			msg:  mp{}.arr(3).str("app").u32(sec).mapN(2).kv("tag", "other").kv("message", "m"),
			want: []record.Record{{Time: sec * 1e9, Stream: tagOnly("app"), Message: "m", Fields: fields("record.tag", "other")}},
		},
		{
			name: "a _stream map names stream labels (sluice agent)",
			msg: mp{}.arr(3).str("app").u32(sec).mapN(3).kv("message", "m").
				str("_stream").mapN(2).kv("namespace", "shop").kv("container_name", "/web").kv("file", "/x.log"),
			want: []record.Record{{Time: sec * 1e9, Message: "m", Fields: fields("file", "/x.log"),
				Stream: []record.Field{{Name: "container_name", Value: "web"}, {Name: "namespace", Value: "shop"}, {Name: "tag", Value: "app"}}}},
		},
		{
			name:     "a _stream label named tag is rejected",
			msg:      mp{}.arr(3).str("app").u32(sec).mapN(2).kv("message", "m").str("_stream").mapN(1).kv("tag", "x"),
			rejected: map[string]int{"invalid_field_name": 1},
		},
		{
			name: "a _stream label given twice is rejected",
			msg: mp{}.arr(3).str("app").u32(sec).mapN(3).kv("message", "m").kv("container_name", "a").
				str("_stream").mapN(1).kv("container_name", "b"),
			rejected: map[string]int{"invalid_field_name": 1},
		},
		{
			name:     "a nested map under _stream is rejected",
			msg:      mp{}.arr(3).str("app").u32(sec).mapN(2).kv("message", "m").str("_stream").mapN(1).str("a").mapN(1).kv("b", "c"),
			rejected: map[string]int{"invalid_field_name": 1},
		},
		{
			name: "repeated key keeps the last value",
			msg:  mp{}.arr(3).str("app").u32(sec).mapN(3).kv("a", "1").kv("a", "2").kv("message", "m"),
			want: []record.Record{{Time: sec * 1e9, Stream: tagOnly("app"), Message: "m", Fields: fields("a", "2")}},
		},
		{
			name: "a record with a reserved name is rejected, the others kept",
			msg: cat(mp{}.arr(3).str("app").arr(2), mp{}.arr(2).u32(sec).mapN(1).kv("_msg", "x"), entry(sec, "ok"),
				mp{}.chunk("c5")),
			want:     []record.Record{{Time: sec * 1e9, Stream: tagOnly("app"), Message: "ok"}},
			chunk:    "c5",
			rejected: map[string]int{"invalid_field_name": 1},
		},
		{
			name:     "too many fields",
			msg:      mp{}.arr(3).str("app").u32(sec).mapN(7).kv("a", "1").kv("b", "2").kv("c", "3").kv("d", "4").kv("e", "5").kv("f", "6").kv("g", "7"),
			rejected: map[string]int{"too_many_fields": 1},
		},
		{
			name:     "empty key",
			msg:      mp{}.arr(3).str("app").u32(sec).mapN(1).kv("", "1"),
			rejected: map[string]int{"invalid_field_name": 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDecoder(1<<20, 6, nil)
			got, chunk, err := d.decode(tc.msg, nil)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if chunk != tc.chunk {
				t.Errorf("chunk = %q, want %q", chunk, tc.chunk)
			}
			assertRecords(t, got, tc.want)
			rejected := map[string]int{}
			d.takeRejected(func(r string, n int) { rejected[r] += n })
			if len(rejected) != len(tc.rejected) {
				t.Errorf("rejected = %v, want %v", rejected, tc.rejected)
			}
			for k, n := range tc.rejected {
				if rejected[k] != n {
					t.Errorf("rejected[%s] = %d, want %d", k, rejected[k], n)
				}
			}
		})
	}
}

func TestDecodeBadVectors(t *testing.T) {
	bomb := bytes.Repeat([]byte{0}, 2<<20) // decompresses past the 1 MiB limit
	deep := mp{}.arr(3).str("app").u32(sec)
	for range 70 {
		deep = deep.mapN(1).str("k")
	}
	deep = deep.str("v")
	tests := []struct {
		name string
		msg  []byte
		want error
	}{
		{"not an array", mp{}.mapN(0), errMalformed},
		{"array of one", mp{}.arr(1).str("app"), errMalformed},
		{"array of five", mp{}.arr(5).str("app").u32(sec).mapN(0).null().null(), errMalformed},
		{"tag is a number", mp{}.arr(3).fixint(1).u32(sec).mapN(0), errMalformed},
		{"second element is a map", mp{}.arr(2).str("app").mapN(0), errMalformed},
		{"message without record", mp{}.arr(2).str("app").u32(sec), errMalformed},
		{"record is a string", mp{}.arr(3).str("app").u32(sec).str("x"), errMalformed},
		{"entry of three", cat(mp{}.arr(2).str("app").arr(1), mp{}.arr(3).u32(sec).mapN(0).null()), errMalformed},
		{"packed entries truncated", mp{}.arr(2).str("app").bin(entry(sec, "one")[:5]), errMalformed},
		{"unknown compression", mp{}.arr(3).str("app").bin(entry(sec, "x")).mapN(1).kv("compressed", "zstd"), errMalformed},
		{"not gzip", mp{}.arr(3).str("app").bin([]byte("plain")).mapN(1).kv("compressed", "gzip"), errCompression},
		{"gzip bomb", mp{}.arr(3).str("app").bin(gz(t, bomb)).mapN(1).kv("compressed", "gzip"), errTooLarge},
		{"option is an array", mp{}.arr(3).str("app").bin(entry(sec, "x")).arr(0), errMalformed},
		{"chunk is a number", mp{}.arr(4).str("app").u32(sec).mapN(0).mapN(1).str("chunk").fixint(1), errMalformed},
		{"trailing bytes", mp{}.arr(3).str("app").u32(sec).mapN(0).null(), errMalformed},
		{"hostile array length", mp{}.arr(2).str("app").arr32(math.MaxUint32), errMalformed},
		{"hostile string length", mp{}.arr(3).str("app").u32(sec).mapN(1).raw(0xdb, 0xff, 0xff, 0xff, 0xff), errMalformed},
		{"hostile map length", mp{}.arr(3).str("app").u32(sec).raw(0xdf, 0xff, 0xff, 0xff, 0xff), errMalformed},
		{"map key is a map", mp{}.arr(3).str("app").u32(sec).mapN(1).mapN(0).str("v"), errMalformed},
		{"nesting too deep", deep, errTooDeep},
		{"bad time before a record that is no map", mp{}.arr(3).str("app").u32(math.MaxUint32).str("x"), errMalformed},
		{"entry time that cannot be skipped", cat(mp{}.arr(2).str("app").arr(1), mp{}.arr(2).arr(3).mapN(0)), errMalformed},
		{"reserved byte", mp{}.arr(3).str("app").u32(sec).mapN(1).str("k").raw(0xc1), errBadByte},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDecoder(1<<20, 0, nil)
			recs, _, err := d.decode(tc.msg, nil)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v (records %v)", err, tc.want, recs)
			}
		})
	}
}

// A time that is none, or one past what int64 nanoseconds hold (2262),
// rejects its record alone: the neighbours in the message are kept and the
// rejection is counted as invalid_time.
func TestDecodeBadTimeRejectsRecordAlone(t *testing.T) {
	tests := []struct {
		name string
		bad  mp // one entry of a forward-mode message
	}{
		{"seconds after 2262", mp{}.arr(2).raw(0xcf, 0, 0, 0, 3, 0, 0, 0, 0).mapN(1).kv("message", "bad")},
		{"negative seconds before 1678", mp{}.arr(2).raw(0xd3, 0xff, 0xff, 0xff, 0xfc, 0, 0, 0, 0).mapN(1).kv("message", "bad")},
		{"float seconds out of range", mp{}.arr(2).f64(math.Float64bits(1e300)).mapN(1).kv("message", "bad")},
		{"ext of the wrong type", mp{}.arr(2).raw(0xd7, 0x05, 0, 0, 0, 0, 0, 0, 0, 0).mapN(1).kv("message", "bad")},
		{"ext of the wrong length", mp{}.arr(2).raw(0xd6, 0x00, 0, 0, 0, 0).mapN(1).kv("message", "bad")},
		{"EventTime nanoseconds past a second", mp{}.arr(2).eventTime(sec, 1e9).mapN(1).kv("message", "bad")},
		{"time is a string", mp{}.arr(2).str("now").mapN(1).kv("message", "bad")},
		{"time is a map", mp{}.arr(2).mapN(1).kv("a", "b").mapN(1).kv("message", "bad")},
		{"bad time with Fluent Bit metadata", mp{}.arr(2).arr(2).str("x").mapN(1).kv("m", "v").mapN(1).kv("message", "bad")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, msg := range [][]byte{
				cat(mp{}.arr(3).str("app").arr(3), entry(sec, "one"), tc.bad, entry(sec+1, "two"), mp{}.chunk("c")),
				mp{}.arr(3).str("app").bin(cat(entry(sec, "one"), tc.bad, entry(sec+1, "two"))).chunk("c"),
			} {
				d := newDecoder(1<<20, 0, nil)
				recs, chunk, err := d.decode(msg, nil)
				if err != nil || chunk != "c" {
					t.Fatalf("decode: chunk %q, err %v", chunk, err)
				}
				if len(recs) != 2 || recs[0].Message != "one" || recs[1].Message != "two" {
					t.Fatalf("records = %s, want one and two", dump(recs))
				}
				got := map[string]int{}
				firstErr := d.takeRejected(func(reason string, n int) { got[reason] += n })
				if got["invalid_time"] != 1 || len(got) != 1 || !errors.Is(firstErr, ingest.ErrBadTime) {
					t.Fatalf("rejected %v (%v), want invalid_time: 1", got, firstErr)
				}
			}
		})
	}
	// Message mode: the one record is rejected, the message is not.
	d := newDecoder(1<<20, 0, nil)
	recs, chunk, err := d.decode(mp{}.arr(4).str("app").raw(0xcf, 0, 0, 0, 3, 0, 0, 0, 0).mapN(1).kv("message", "bad").chunk("m"), nil)
	if err != nil || chunk != "m" || len(recs) != 0 {
		t.Fatalf("message mode: records %s, chunk %q, err %v", dump(recs), chunk, err)
	}
}

// The scanner finds the same message end however the bytes arrive, and
// refuses messages past its limit before they are read whole.
func TestScanner(t *testing.T) {
	msg := cat(mp{}.arr(3).str("app").arr(2), entry(sec, "one"), entry(sec, "two"), mp{}.chunk("c"))
	stream := append(append([]byte(nil), msg...), msg...)
	var s scanner
	s.reset(len(msg))
	for i := 0; i <= len(stream); i++ {
		n, err := s.scan(stream[:i])
		if err != nil {
			t.Fatalf("scan %d bytes: %v", i, err)
		}
		if i < len(msg) && n != 0 {
			t.Fatalf("complete after %d of %d bytes", i, len(msg))
		}
		if i >= len(msg) && n != len(msg) {
			t.Fatalf("after %d bytes: n = %d, want %d", i, n, len(msg))
		}
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"string past the limit", mp{}.arr(2).str("app").raw(0xc6, 0, 0x10, 0, 0), errTooLarge},
		{"array count past the limit", mp{}.arr(2).str("app").arr32(1 << 30), errTooLarge},
		{"too deep", bytes.Repeat([]byte{0x91}, maxDepth+1), errTooDeep},
		{"reserved byte", []byte{0xc1}, errBadByte},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.reset(1 << 10)
			if _, err := s.scan(tc.in); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func tagOnly(tag string) []record.Field { return []record.Field{{Name: "tag", Value: tag}} }

func fields(kv ...string) []record.Field {
	var f []record.Field
	for i := 0; i+1 < len(kv); i += 2 {
		f = append(f, record.Field{Name: kv[i], Value: kv[i+1]})
	}
	return f
}

func assertRecords(t *testing.T, got, want []record.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d:\n%s", len(got), len(want), dump(got))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Time != w.Time || g.Message != w.Message || g.Tenant != w.Tenant ||
			dumpFields(g.Stream) != dumpFields(w.Stream) || dumpFields(g.Fields) != dumpFields(w.Fields) {
			t.Errorf("record %d:\n got %s\nwant %s", i, dump(got[i:i+1]), dump(want[i:i+1]))
		}
	}
}

func dump(recs []record.Record) string {
	var b strings.Builder
	for _, r := range recs {
		b.WriteString(string(record.AppendJSON(nil, &r)))
		b.WriteByte('\n')
	}
	return b.String()
}

func dumpFields(fs []record.Field) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.Name + "=" + f.Value + ";")
	}
	return b.String()
}
