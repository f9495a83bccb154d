package ingest

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

var testNow = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

func testConfig() RecordConfig {
	return RecordConfig{
		TimeFields:         []string{"_time", "@timestamp", "ts"},
		MessageFields:      []string{"_msg", "message", "log"},
		StreamFields:       []string{"service", "host.name"},
		MaxFieldsPerRecord: 10,
	}
}

func fields(kv ...string) []record.Field {
	var out []record.Field
	for i := 0; i < len(kv); i += 2 {
		out = append(out, record.Field{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

func TestConvert(t *testing.T) {
	tests := []struct {
		name string
		in   string
		cfg  func(*RecordConfig)
		want record.Record
	}{
		{
			name: "flat fields keep their order",
			in:   `{"message":"hi","b":"x","a":"y"}`,
			want: record.Record{Time: testNow.UnixNano(), Message: "hi", Fields: fields("b", "x", "a", "y")},
		},
		{
			name: "nested objects are flattened with dots",
			in:   `{"http":{"status":200,"req":{"method":"GET"}},"x":1}`,
			want: record.Record{Time: testNow.UnixNano(), Fields: fields("http.status", "200", "http.req.method", "GET", "x", "1")},
		},
		{
			name: "numbers keep their literal text",
			in:   `{"a":1.50,"b":-0,"c":1e300,"d":12345678901234567890123}`,
			want: record.Record{Time: testNow.UnixNano(), Fields: fields("a", "1.50", "b", "-0", "c", "1e300", "d", "12345678901234567890123")},
		},
		{
			name: "arrays are kept as JSON, booleans as words, nulls skipped",
			in:   `{"tags":["a", 1,{"b":null}],"ok":true,"bad":false,"gone":null,"empty":{}}`,
			want: record.Record{Time: testNow.UnixNano(), Fields: fields("tags", `["a",1,{"b":null}]`, "ok", "true", "bad", "false")},
		},
		{
			name: "escapes are decoded",
			in:   `{"msg":"a\"b\\c\nd\u00e9"}`,
			want: record.Record{Time: testNow.UnixNano(), Fields: fields("msg", "a\"b\\c\nd\u00e9")},
		},
		{
			name: "repeated names keep the last value at the first place",
			in:   `{"a":{"b":1},"c":2,"a.b":3}`,
			want: record.Record{Time: testNow.UnixNano(), Fields: fields("a.b", "3", "c", "2")},
		},
		{
			name: "first present message field wins and the others stay fields",
			in:   `{"log":"l","message":"m"}`,
			want: record.Record{Time: testNow.UnixNano(), Message: "m", Fields: fields("log", "l")},
		},
		{
			name: "message may be a number",
			in:   `{"message":42}`,
			want: record.Record{Time: testNow.UnixNano(), Message: "42"},
		},
		{
			name: "stream fields are taken after flattening and sorted",
			in:   `{"service":"api","host":{"name":"h1"},"x":"y"}`,
			want: record.Record{Time: testNow.UnixNano(), Stream: fields("host.name", "h1", "service", "api"), Fields: fields("x", "y")},
		},
		{
			name: "first present time field wins",
			in:   `{"@timestamp":"2024-01-02T03:04:05Z","ts":1}`,
			want: record.Record{Time: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano(), Fields: fields("ts", "1")},
		},
		{
			name: "an empty time counts as missing",
			in:   `{"_time":"","ts":"1700000000"}`,
			want: record.Record{Time: 1700000000e9},
		},
		{
			name: "missing time is now",
			in:   `{}`,
			want: record.Record{Time: testNow.UnixNano()},
		},
		{
			name: "an exported _stream is dropped",
			in:   `{"_stream":"{service=\"a\"}","service":"a"}`,
			want: record.Record{Time: testNow.UnixNano(), Stream: fields("service", "a")},
		},
		{
			name: "invalid UTF-8 becomes U+FFFD in names and values",
			in:   "{\"k\xff\":\"v\xfe\",\"a\":[\"\xc3\"]}",
			want: record.Record{Time: testNow.UnixNano(), Fields: fields("k\uFFFD", "v\uFFFD", "a", "[\"\uFFFD\"]")},
		},
		{
			name: "query overrides pick other fields",
			in:   `{"when":"1700000000123","text":"t","app":"a","service":"s"}`,
			cfg: func(c *RecordConfig) {
				c.TimeFields, c.MessageFields, c.StreamFields = []string{"when"}, []string{"text"}, []string{"app"}
			},
			want: record.Record{Time: 1700000000123e6, Message: "t", Stream: fields("app", "a"), Fields: fields("service", "s")},
		},
		{
			name: "exactly the field limit is fine",
			in:   `{"a":1,"b":2}`,
			cfg:  func(c *RecordConfig) { c.MaxFieldsPerRecord = 2 },
			want: record.Record{Time: testNow.UnixNano(), Fields: fields("a", "1", "b", "2")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			got, err := NewConverter(cfg).Convert([]byte(tt.in), testNow, "", nil)
			if err != nil {
				t.Fatalf("Convert(%s): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Convert(%s)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestConvertErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		extra   []record.Field
		want    error
		mention []string
	}{
		{name: "not JSON", in: `{"a":`, want: ErrBadJSON},
		{name: "trailing garbage", in: `{"a":1} x`, want: ErrBadJSON},
		{name: "not an object", in: `[1,2]`, want: ErrNotObject, mention: []string{"array"}},
		{name: "a string", in: `"x"`, want: ErrNotObject},
		{name: "bad time", in: `{"ts":"yesterday"}`, want: ErrBadTime, mention: []string{`"ts"`, `"yesterday"`, "RFC 3339", "Unix"}},
		{name: "boolean time", in: `{"_time":true}`, want: ErrBadTime},
		{name: "time out of range", in: `{"_time":"3000-01-01T00:00:00Z"}`, want: ErrBadTime},
		{name: "too many fields", in: `{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11}`, want: ErrTooManyFields},
		{name: "too many nested fields", in: `{"a":{"b":1,"c":2,"d":3,"e":4,"f":5,"g":6,"h":7,"i":8,"j":9,"k":10,"l":11}}`, want: ErrTooManyFields},
		{name: "empty name", in: `{"":1}`, want: ErrFieldName},
		{name: "empty nested name", in: `{"a":{"":1}}`, want: ErrFieldName},
		{name: "receiver field in the document", in: `{"_id":"x"}`, extra: fields("_id", "y"), want: ErrFieldName, mention: []string{"_id"}},
		{name: "unused reserved name", in: `{"_msg":"x","message":"y"}`, want: ErrFieldName, mention: []string{"_msg"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			if tt.name == "unused reserved name" {
				cfg.MessageFields = []string{"message"}
			}
			_, err := NewConverter(cfg).Convert([]byte(tt.in), testNow, "", tt.extra)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Convert(%s) error = %v, want %v", tt.in, err, tt.want)
			}
			for _, m := range tt.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}
}

func TestConvertExtraAndTenant(t *testing.T) {
	c := NewConverter(testConfig())
	got, err := c.Convert([]byte(`{"message":"m","a":"b"}`), testNow, "team", fields("_index", "logs", "_id", "1"))
	if err != nil {
		t.Fatal(err)
	}
	// The receiver's fields come first, at the same position in every
	// record, where the WAL stores them once per batch.
	want := record.Record{Time: testNow.UnixNano(), Tenant: "team", Message: "m", Fields: fields("_index", "logs", "_id", "1", "a", "b")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// TestConvertReuse checks that records never share memory with the
// converter's buffers, which are overwritten by the next call.
func TestConvertReuse(t *testing.T) {
	c := NewConverter(testConfig())
	first, err := c.Convert([]byte(`{"message":"first","k":"v1"}`), testNow, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Convert([]byte(`{"message":"SECOND","k":"XX"}`), testNow, "", nil); err != nil {
		t.Fatal(err)
	}
	if first.Message != "first" || first.Fields[0].Value != "v1" {
		t.Errorf("first record changed: %+v", first)
	}
}

// TestConvertManyFields covers the switch from scanning to a map index.
func TestConvertManyFields(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{`)
	for i := range 200 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"f` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + `":` + `"v"`)
	}
	b.WriteString(`,"fa":"last","service":"s"}`)
	cfg := testConfig()
	cfg.MaxFieldsPerRecord = 0
	got, err := NewConverter(cfg).Convert([]byte(b.String()), testNow, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range got.Fields {
		if seen[f.Name] {
			t.Fatalf("duplicate field %q", f.Name)
		}
		seen[f.Name] = true
	}
	if v, _ := got.Get("fa"); v != "last" {
		t.Errorf("fa = %q, want the last value", v)
	}
	if len(got.Stream) != 1 || got.Stream[0].Value != "s" {
		t.Errorf("stream = %v", got.Stream)
	}
	if len(got.Fields) != 7*26 {
		t.Errorf("got %d distinct fields, want %d", len(got.Fields), 7*26)
	}
}

func BenchmarkConvert(b *testing.B) {
	line := []byte(`{"@timestamp":"2024-05-06T07:08:09.123456Z","service":"checkout","host":{"name":"web-7"},"level":"info","message":"GET /api/v1/cart/items 200 12.5ms","http":{"method":"GET","status":200,"path":"/api/v1/cart/items"},"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}`)
	c := NewConverter(testConfig())
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Convert(line, testNow, "", nil); err != nil {
			b.Fatal(err)
		}
	}
}
