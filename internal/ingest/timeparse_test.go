package ingest

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	date := func(y int, mo time.Month, d, h, mi, s, ns int, loc *time.Location) int64 {
		return time.Date(y, mo, d, h, mi, s, ns, loc).UnixNano()
	}
	plus2 := time.FixedZone("", 2*3600)
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"2024-01-02T03:04:05Z", date(2024, 1, 2, 3, 4, 5, 0, time.UTC), true},
		{"2024-01-02T03:04:05.123456789Z", date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC), true},
		{"2024-01-02T03:04:05.5+02:00", date(2024, 1, 2, 3, 4, 5, 500000000, plus2), true},
		{"2024-01-02T03:04:05-07:30", date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("", -(7*3600+1800))), true},
		{"2024-01-02 03:04:05", date(2024, 1, 2, 3, 4, 5, 0, time.UTC), true},
		{"2024-01-02 03:04:05.250", date(2024, 1, 2, 3, 4, 5, 250000000, time.UTC), true},
		{"2024-01-02 03:04:05+02:00", date(2024, 1, 2, 3, 4, 5, 0, plus2), true},
		{"2024-01-02T03:04:05", date(2024, 1, 2, 3, 4, 5, 0, time.UTC), true},
		{"2024-01-02T03:04:05.000001", date(2024, 1, 2, 3, 4, 5, 1000, time.UTC), true},
		{"1700000000", 1700000000e9, true},
		{"1700000000.5", 1700000000500000000, true},
		{"1700000000.123456789123", 1700000000123456789, true},
		{"1700000000123", 1700000000123e6, true},
		{"1700000000123.4", 1700000000123400000, true},
		{"1700000000123456", 1700000000123456e3, true},
		{"1700000000123456789", 1700000000123456789, true},
		{"1.7e9", 1700000000e9, true},
		{"-1.5", -1500000000, true},
		{"0", 0, true},
		{".5", 500000000, true},
		{"", 0, false},
		{"-", 0, false},
		{".", 0, false},
		{"abc", 0, false},
		{"1700000000x", 0, false},
		{"1.2.3", 0, false},
		{"99999999999999999999", 0, false},
		{"9223372036854775808", 0, false},
		{"1e400", 0, false},
		{"NaN", 0, false},
		{"2024-13-02T03:04:05Z", 0, false},
		{"2024-01-02T03:04:05+2:00", 0, false},
		{"1677-01-01T00:00:00Z", 0, false},
		{"2262-06-01T00:00:00Z", 0, false},
		{"2024-01-02", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseTime(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseTime(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzParseTime checks that any input parses or fails without panicking and
// that every time in range round-trips through RFC 3339.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2024-01-02T03:04:05.123Z", "2024-01-02 03:04:05", "1700000000.5", "1.7e9", "-0", "1700000000123456789"} {
		f.Add(s, int64(0))
	}
	f.Fuzz(func(t *testing.T, s string, ns int64) {
		ParseTime(s)
		text := time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
		got, ok := ParseTime(text)
		year := time.Unix(0, ns).UTC().Year()
		if year > minYear && year < maxYear && (!ok || got != ns) {
			t.Fatalf("ParseTime(%q) = %d, %v; want %d", text, got, ok, ns)
		}
	})
}
