package syslog

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/sluice-log/sluice/internal/ingest"
)

// readFrames reads every frame of r; skipped (too long) frames show as
// "<skipped>".
func readFrames(r io.Reader, maxBytes int) ([]string, error) {
	fr := newFrameReader(r, maxBytes)
	var out []string
	for {
		f, err := fr.Next()
		switch {
		case errors.Is(err, ingest.ErrLineTooLong):
			out = append(out, "<skipped>")
			continue
		case err == io.EOF:
			return out, nil
		case err != nil:
			return out, err
		}
		out = append(out, string(f))
	}
}

func TestFraming(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		max     int
		want    []string
		wantErr error
	}{
		{"octet counting", "5 <13>a6 <13>bc", 100, []string{"<13>a", "<13>bc"}, nil},
		{"newline", "<13>a\n<13>b\r\n<13>c", 100, []string{"<13>a", "<13>b", "<13>c"}, nil},
		{"mixed", "5 <13>a\n<13>b\n6 <13>cd", 100, []string{"<13>a", "<13>b", "<13>cd"}, nil},
		{"counted frame holds newlines", "9 <13>a\nb\nc", 100, []string{"<13>a\nb\nc"}, nil},
		{"empty lines skipped", "\n\r\n<13>a\n\n", 100, []string{"<13>a"}, nil},
		{"counted too long is skipped", "12 <13>abcdefgh5 <13>x", 10, []string{"<skipped>", "<13>x"}, nil},
		{"line too long is skipped", "<13>abcdefghijkl\n<13>x\n", 10, []string{"<skipped>", "<13>x"}, nil},
		{"line at the limit", "<13>abcdef\n", 10, []string{"<13>abcdef"}, nil},
		{"last line without LF over the limit", "<13>abcdefg", 10, []string{"<skipped>"}, nil},
		{"broken count", "12x<13>a", 100, nil, ErrFraming},
		{"count too long", "1234567890 x", 100, nil, ErrFraming},
		{"truncated counted frame", "10 <13>a", 100, nil, io.ErrUnexpectedEOF},
		{"long line across buffer refills", "<13>" + strings.Repeat("x", 40000) + "\n<13>y\n", 50000,
			[]string{"<13>" + strings.Repeat("x", 40000), "<13>y"}, nil},
	}
	for _, tt := range tests {
		for _, split := range []bool{false, true} {
			var r io.Reader = strings.NewReader(tt.in)
			if split {
				r = iotest.OneByteReader(r) // every frame split across reads
			}
			got, err := readFrames(r, tt.max)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("%s (split %v): err %v, want %v", tt.name, split, err, tt.wantErr)
			}
			if tt.wantErr == nil && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s (split %v): got %q, want %q", tt.name, split, got, tt.want)
			}
		}
	}
}

func FuzzFraming(f *testing.F) {
	for _, s := range []string{"5 <13>a6 <13>bc", "<13>a\n<13>b\r\n", "12 <13>abcdefgh5 <13>x", "12x", "\n\n9 <13>a\nb\nc"} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, s string, maxBytes int) {
		if maxBytes < 1 || maxBytes > 1<<16 {
			return
		}
		frames, _ := readFrames(iotest.HalfReader(strings.NewReader(s)), maxBytes)
		total := 0
		for _, fr := range frames {
			if fr == "<skipped>" {
				continue
			}
			if len(fr) > maxBytes {
				t.Fatalf("frame of %d bytes over the limit %d", len(fr), maxBytes)
			}
			total += len(fr)
		}
		if total > len(s) {
			t.Fatalf("frames hold %d bytes, input only %d", total, len(s))
		}
	})
}
