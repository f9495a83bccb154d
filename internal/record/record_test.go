package record

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func sample() Record {
	return Record{
		Time:    1714564800123456789,
		Tenant:  "team-a",
		Stream:  []Field{{Name: "host", Value: "web-1"}, {Name: "service", Value: "api"}},
		Message: "upstream timeout\n\tat Foo \"quoted\"",
		Fields:  []Field{{Name: "status", Value: "503"}, {Name: "path", Value: "/v1/ü"}},
	}
}

func TestCodecRoundTrip(t *testing.T) {
	recs := []Record{sample(), {}, {Time: -5, Message: strings.Repeat("x", 1000)}}
	var buf []byte
	for i := range recs {
		buf = AppendBinary(buf, &recs[i])
	}
	for i, want := range recs {
		var got Record
		n, err := Decode(buf, &got)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		buf = buf[n:]
		if got.Stream == nil {
			got.Stream = want.Stream
		}
		if got.Fields == nil {
			got.Fields = want.Fields
		}
		if len(want.Stream) == 0 {
			got.Stream, want.Stream = nil, nil
		}
		if len(want.Fields) == 0 {
			got.Fields, want.Fields = nil, nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("record %d: got %+v, want %+v", i, got, want)
		}
	}
	if len(buf) != 0 {
		t.Errorf("%d bytes left over", len(buf))
	}
}

func TestDecodeTruncated(t *testing.T) {
	r := sample()
	enc := AppendBinary(nil, &r)
	for cut := 0; cut < len(enc); cut++ {
		var got Record
		if _, err := Decode(enc[:cut], &got); err == nil {
			t.Fatalf("decoding %d of %d bytes succeeded", cut, len(enc))
		}
	}
}

func FuzzDecode(f *testing.F) {
	r := sample()
	f.Add(AppendBinary(nil, &r))
	f.Add([]byte{0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		var got Record
		n, err := Decode(b, &got)
		if err != nil {
			return
		}
		if n > len(b) {
			t.Fatalf("used %d of %d bytes", n, len(b))
		}
		again := AppendBinary(nil, &got)
		var back Record
		if _, err := Decode(again, &back); err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
	})
}

func TestTokens(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Connection refused: dial tcp 10.0.0.1:5432", []string{"connection", "refused", "dial", "tcp", "10", "0", "0", "1", "5432"}},
		{"user_id=42 ÜBER-größe", []string{"user_id", "42", "über", "größe"}},
		{"", nil},
		{"  --  ", nil},
		{"trace=4bf92f3577b34da6", []string{"trace", "4bf92f3577b34da6"}},
	}
	for _, tt := range tests {
		if got := TokenList(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("TokenList(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAppendJSON(t *testing.T) {
	r := sample()
	var m map[string]string
	if err := json.Unmarshal(AppendJSON(nil, &r), &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"_time": "2024-05-01T12:00:00.123456789Z", "_stream": `{host="web-1",service="api"}`,
		"_msg": r.Message, "_tenant": "team-a", "host": "web-1", "service": "api", "status": "503", "path": "/v1/ü",
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %v\nwant %v", m, want)
	}
	// Invalid UTF-8 and control characters still give valid JSON.
	bad := Record{Message: "a\xffb\x01c"}
	if !json.Valid(AppendJSON(nil, &bad)) {
		t.Errorf("invalid JSON for %q", bad.Message)
	}
}

func TestGet(t *testing.T) {
	r := sample()
	for name, want := range map[string]string{"_msg": r.Message, "host": "web-1", "status": "503", "_time": "2024-05-01T12:00:00.123456789Z"} {
		if got, ok := r.Get(name); !ok || got != want {
			t.Errorf("Get(%q) = %q, %v", name, got, ok)
		}
	}
	if _, ok := r.Get("missing"); ok {
		t.Error("Get of a missing field reported ok")
	}
}

// TestTokenKeys: TokenKeys gives the prefix followed by each token Tokens
// gives, in order, whatever the case and script of the text.
func TestTokenKeys(t *testing.T) {
	for _, in := range []string{
		"Connection REFUSED: dial tcp 10.0.0.1:5432",
		"user_id=42 ÜBER-größe ǅemo İstanbul",
		"", "  --  ", "MixedCase_Word x", "ÀB Cd\xffEF", "ΣΑΣ straße",
		// ASCII tokens first, then a non-ASCII byte inside a token, at
		// one's start, alone between separators, and as a separator.
		"GET /Api done mid_TöKen tail", "One two Ärger", "a b → c", "x→Y", "Ab1\u00a0Cd", "ok.\xff",
	} {
		checkTokenKeys(t, in)
	}
}

func FuzzTokenKeys(f *testing.F) {
	for _, s := range []string{"Hello World", "ÜBER-größe", "a\xffB", "İ_x"} {
		f.Add(s)
	}
	f.Fuzz(checkTokenKeys)
}

func checkTokenKeys(t *testing.T, in string) {
	var want []string
	Tokens(in, func(tok string) { want = append(want, "f\x00"+tok) })
	var got []string
	buf := append([]byte(nil), "f\x00"...)
	buf = TokenKeys(buf, len(buf), in, func(key []byte) { got = append(got, string(key)) })
	if !reflect.DeepEqual(got, want) {
		t.Errorf("TokenKeys(%q) = %q, want %q", in, got, want)
	}
	if string(buf[:2]) != "f\x00" {
		t.Errorf("TokenKeys(%q) changed the prefix: %q", in, buf[:2])
	}
}
