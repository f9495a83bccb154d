package kafka

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

func testDecoder() *Decoder {
	return NewDecoder(ingest.RecordConfig{
		TimeFields:         []string{"_time", "time"},
		MessageFields:      []string{"_msg", "message"},
		StreamFields:       []string{"service"},
		MaxFieldsPerRecord: 100,
		MaxLineBytes:       1 << 16,
	}, nil)
}

func TestRecordRoundTrip(t *testing.T) {
	recs := []record.Record{
		{Time: 1_700_000_000_000_000_001, Message: "plain"},
		{Time: 1, Tenant: "team-a", Message: "with \"quotes\"\nand newline",
			Stream: []record.Field{{Name: "host", Value: `h"1\`}, {Name: "service", Value: "api\nx"}},
			Fields: []record.Field{{Name: "level", Value: "warn"}, {Name: "latency", Value: "12.5"}, {Name: "a.b", Value: ""}}},
		{Time: 5, Message: "", Stream: []record.Field{{Name: "k", Value: "v,w=\"z\""}}},
	}
	d := testDecoder()
	for _, want := range recs {
		m := encode(&want, "logs", nil)
		got, err := d.Decode(m)
		if err != nil {
			t.Fatalf("decode %s: %v", m.Value, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip of %s:\n got %+v\nwant %+v", m.Value, got, want)
		}
		if wantKey := want.Tenant + "\x00" + want.StreamString(); string(m.Key) != wantKey {
			t.Errorf("key %q, want %q", m.Key, wantKey)
		}
	}
}

func TestDecodeForeignJSON(t *testing.T) {
	ts := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name    string
		value   string
		header  bool
		want    record.Record
		wantErr error
	}{
		{name: "any JSON log object", value: `{"time":"2024-01-02T03:04:05Z","message":"hi","service":"api","n":3}`,
			want: record.Record{Time: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano(), Message: "hi",
				Stream: []record.Field{{Name: "service", Value: "api"}}, Fields: []record.Field{{Name: "n", Value: "3"}}}},
		{name: "no time: the message timestamp", value: `{"message":"hi"}`,
			want: record.Record{Time: ts.UnixNano(), Message: "hi"}},
		{name: "not JSON", value: `hello`, wantErr: ingest.ErrBadJSON},
		{name: "not an object", value: `[1]`, wantErr: ingest.ErrNotObject},
		{name: "gateway record without _stream", value: `{"_time":"2024-01-02T03:04:05Z","_msg":"x"}`, header: true, wantErr: errRecord},
		{name: "gateway record with a bad _stream", value: `{"_time":"2024-01-02T03:04:05Z","_stream":"{a=1}","_msg":"x"}`, header: true, wantErr: errStream},
		{name: "gateway record with a bad time", value: `{"_time":"yesterday","_stream":"{}","_msg":"x"}`, header: true, wantErr: errRecord},
		{name: "too large", value: `{"message":"` + strings.Repeat("x", 1<<16) + `"}`, wantErr: ingest.ErrLineTooLong},
	}
	d := testDecoder()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &kgo.Record{Value: []byte(tt.value), Timestamp: ts}
			if tt.header {
				m.Headers = []kgo.RecordHeader{{Key: FormatHeader, Value: []byte(FormatRecord)}, {Key: TenantHeader}}
			}
			got, err := d.Decode(m)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseStream(t *testing.T) {
	tests := []struct {
		in      string
		want    []record.Field
		wantErr bool
	}{
		{in: `{}`},
		{in: `{a="1"}`, want: []record.Field{{Name: "a", Value: "1"}}},
		{in: `{a="x,y",b="q\"\\\n"}`, want: []record.Field{{Name: "a", Value: "x,y"}, {Name: "b", Value: "q\"\\\n"}}},
		{in: ``, wantErr: true},
		{in: `{a=1}`, wantErr: true},
		{in: `{a="1"`, wantErr: true},
		{in: `{a="1}`, wantErr: true},
		{in: `{a="1",}`, wantErr: true},
		{in: `{a="1"b="2"}`, wantErr: true},
		{in: `{a="\t"}`, wantErr: true},
		{in: `{="1"}`, wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseStream(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("%q: error %v, want error %t", tt.in, err, tt.wantErr)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %v, want %v", tt.in, got, tt.want)
		}
	}
}

// FuzzParseStream checks that parsing never panics and that whatever
// parses renders back to the same labels.
func FuzzParseStream(f *testing.F) {
	for _, s := range []string{`{}`, `{a="1",b="x\"y"}`, `{a="\n\\"}`, `{a=`, `{a="1",}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		labels, err := parseStream(s)
		if err != nil || !utf8.ValidString(s) {
			return // StreamString writes invalid UTF-8 as U+FFFD, so only valid text round-trips
		}
		again, err := parseStream(record.StreamString(labels))
		if err != nil || !reflect.DeepEqual(again, labels) {
			t.Fatalf("%q parsed to %v, which renders to %q and parses to %v (%v)", s, labels, record.StreamString(labels), again, err)
		}
	})
}

// FuzzDecode feeds arbitrary messages, with and without the gateway
// header: no panic, and a decoded gateway record encodes and decodes to
// itself.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"_time":"2024-01-02T03:04:05Z","_stream":"{a=\"1\"}","_msg":"x","a":"1","b":"2"}`), true)
	f.Add([]byte(`{"message":"hi","service":"api"}`), false)
	f.Add([]byte(`{"_time":1,"_stream":"{}","x":{"y":[1,2]}}`), true)
	d := testDecoder()
	f.Fuzz(func(t *testing.T, value []byte, header bool) {
		m := &kgo.Record{Value: value, Timestamp: time.Unix(1, 0)}
		if header {
			m.Headers = []kgo.RecordHeader{{Key: FormatHeader, Value: []byte(FormatRecord)}, {Key: TenantHeader, Value: []byte("t")}}
		}
		r, err := d.Decode(m)
		if err != nil || !header {
			return
		}
		again, err := d.Decode(encode(&r, "logs", nil))
		if err != nil {
			t.Fatalf("re-decoding %+v: %v", r, err)
		}
		if !reflect.DeepEqual(again, r) {
			t.Fatalf("round trip changed the record:\n%+v\n%+v", r, again)
		}
	})
}

// TestTenantOnlyFromHeader is the forgery through Kafka: a record's own
// _tenant never chooses its tenant; the gateway's header does, and with a
// signing key only a signed header.
func TestTenantOnlyFromHeader(t *testing.T) {
	value := []byte(`{"_time":"2024-01-02T03:04:05Z","_stream":"{}","_msg":"INJECTED","_tenant":"victim"}`)
	hdr := func(kv ...string) []kgo.RecordHeader {
		h := []kgo.RecordHeader{{Key: FormatHeader, Value: []byte(FormatRecord)}}
		for i := 0; i < len(kv); i += 2 {
			h = append(h, kgo.RecordHeader{Key: kv[i], Value: []byte(kv[i+1])})
		}
		return h
	}
	key := []byte("s3cret")
	signed := string(tenantMAC(key, "attacker", value))
	for _, tt := range []struct {
		name    string
		key     []byte
		headers []kgo.RecordHeader
		tenant  string
		ok      bool
	}{
		{"header wins over _tenant", nil, hdr(TenantHeader, "attacker"), "attacker", true},
		{"default tenant", nil, hdr(TenantHeader, ""), "", true},
		{"no tenant header", nil, hdr(), "", false},
		{"bad tenant name", nil, hdr(TenantHeader, "../x"), "", false},
		{"audit tenant", nil, hdr(TenantHeader, "_audit"), "_audit", true},
		{"signed", key, hdr(TenantHeader, "attacker", TenantMACHeader, signed), "attacker", true},
		{"signature of another tenant", key, hdr(TenantHeader, "victim", TenantMACHeader, signed), "", false},
		{"unsigned with a key", key, hdr(TenantHeader, "victim"), "", false},
	} {
		d := NewDecoder(ingest.RecordConfig{MaxLineBytes: 1 << 16, MaxFieldsPerRecord: 10}, tt.key)
		r, err := d.Decode(&kgo.Record{Value: value, Headers: tt.headers})
		if (err == nil) != tt.ok {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if err == nil && (r.Tenant != tt.tenant || len(r.Fields) != 0) {
			t.Errorf("%s: tenant %q fields %v, want %q and no fields", tt.name, r.Tenant, r.Fields, tt.tenant)
		}
	}
	// What a gateway writes carries no _tenant in its value at all.
	r := record.Record{Time: 1, Tenant: "acme", Message: "m"}
	m := encode(&r, "logs", key)
	if strings.Contains(string(m.Value), "_tenant") || r.Tenant != "acme" {
		t.Errorf("encoded value %s (record tenant now %q)", m.Value, r.Tenant)
	}
	if got, err := NewDecoder(ingest.RecordConfig{MaxLineBytes: 1 << 16}, key).Decode(m); err != nil || got.Tenant != "acme" {
		t.Errorf("signed round trip: %+v, %v", got, err)
	}
}
