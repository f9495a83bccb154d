package ingest

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// readLines reads every line of lr; an over-long line shows as "<long>".
func readLines(t *testing.T, lr *LineReader) ([]string, []int) {
	t.Helper()
	var lines []string
	var nums []int
	for {
		line, err := lr.Next()
		if err == io.EOF {
			return lines, nums
		}
		switch {
		case errors.Is(err, ErrLineTooLong):
			lines = append(lines, "<long>")
		case err != nil:
			t.Fatalf("Next: %v", err)
		default:
			lines = append(lines, string(line))
		}
		nums = append(nums, lr.Line())
	}
}

func TestLineReader(t *testing.T) {
	long := strings.Repeat("x", 200<<10)
	tests := []struct {
		name string
		in   string
		max  int
		want []string
	}{
		{"empty", "", 10, nil},
		{"one line without newline", "abc", 10, []string{"abc"}},
		{"crlf", "a\r\nb\r\n", 10, []string{"a", "b"}},
		{"empty lines are lines", "a\n\n\nb", 10, []string{"a", "", "", "b"}},
		{"exactly the limit", "12345\n123456\n", 5, []string{"12345", "<long>"}},
		{"limit with crlf", "12345\r\n", 5, []string{"12345"}},
		{"long line in the middle", "a\n" + long + "\nb\n", 1000, []string{"a", "<long>", "b"}},
		{"long line at the end", "a\n" + long, 1000, []string{"a", "<long>"}},
		{"long lines in a row", long + "\n" + long + "\nc", 1000, []string{"<long>", "<long>", "c"}},
		{"long line fits without limit", long + "\n", 0, []string{long}},
	}
	for _, tt := range tests {
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = strings.NewReader(tt.in)
			if oneByte {
				if len(tt.in) > 1000 {
					continue
				}
				r = iotest.OneByteReader(r)
			}
			lr := NewLineReader(r, tt.max)
			got, nums := readLines(t, lr)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
				t.Errorf("%s (one byte %v): got %q, want %q", tt.name, oneByte, got, tt.want)
			}
			for i, n := range nums {
				if n != i+1 {
					t.Errorf("%s: line %d numbered %d", tt.name, i+1, n)
				}
			}
			if lr.Bytes() != int64(len(tt.in)) {
				t.Errorf("%s: Bytes() = %d, want %d", tt.name, lr.Bytes(), len(tt.in))
			}
		}
	}
}

// TestLineReaderBoundedMemory checks that a huge line is skipped without
// being buffered.
func TestLineReaderBoundedMemory(t *testing.T) {
	huge := io.MultiReader(strings.NewReader("a\n"), io.LimitReader(zeros{}, 64<<20), strings.NewReader("\nb\n"))
	lr := NewLineReader(huge, 1024)
	got, _ := readLines(t, lr)
	if strings.Join(got, "|") != "a|<long>|b" {
		t.Errorf("got %q", got)
	}
	if cap(lr.buf) > 1024+2+lineReadChunk {
		t.Errorf("buffer grew to %d bytes", cap(lr.buf))
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestLineReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	lr := NewLineReader(io.MultiReader(strings.NewReader("a\nb"), iotest.ErrReader(boom)), 10)
	if line, err := lr.Next(); err != nil || string(line) != "a" {
		t.Fatalf("first line = %q, %v", line, err)
	}
	if _, err := lr.Next(); !errors.Is(err, boom) {
		t.Fatalf("error = %v, want boom (a partial line must not be delivered)", err)
	}
}

// FuzzLineReader compares the reader with splitting the whole input.
func FuzzLineReader(f *testing.F) {
	f.Add([]byte("a\nbb\r\nccc\n\nd"), 2)
	f.Add([]byte("\r\n\r"), 0)
	f.Fuzz(func(t *testing.T, in []byte, max int) {
		max = max % 64
		var want []string
		if len(in) > 0 {
			parts := bytes.Split(in, []byte("\n"))
			if len(parts[len(parts)-1]) == 0 {
				parts = parts[:len(parts)-1]
			}
			for _, p := range parts {
				p = bytes.TrimSuffix(p, []byte("\r"))
				if max > 0 && len(p) > max {
					want = append(want, "<long>")
				} else {
					want = append(want, string(p))
				}
			}
		}
		got, _ := readLines(t, NewLineReader(iotest.HalfReader(bytes.NewReader(in)), max))
		if len(got) != len(want) || strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}
