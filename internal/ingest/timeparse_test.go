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
	f.Add("2024-02-29T23:59:59.000000001Z", int64(-1))
	f.Add("2023-02-29T00:00:00Z", int64(1))
	f.Fuzz(func(t *testing.T, s string, ns int64) {
		ParseTime(s)
		if got, ok := parseUTCFast(s); ok {
			want, err := time.Parse(time.RFC3339Nano, s)
			if err != nil || got != want.UnixNano() {
				t.Fatalf("parseUTCFast(%q) = %d; time.Parse: %d, %v", s, got, want.UnixNano(), err)
			}
		}
		text := time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
		got, ok := ParseTime(text)
		year := time.Unix(0, ns).UTC().Year()
		if year > minYear && year < maxYear && (!ok || got != ns) {
			t.Fatalf("ParseTime(%q) = %d, %v; want %d", text, got, ok, ns)
		}
	})
}

// TestParseUTCFast: the fast path takes the common UTC form and gives
// time.Parse's answer; anything else it leaves to time.Parse.
func TestParseUTCFast(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"2024-01-02T03:04:05Z", true},
		{"2024-01-02T03:04:05.1Z", true},
		{"2024-01-02T03:04:05.123456789Z", true},
		{"2024-02-29T23:59:59.5Z", true},
		{"2000-02-29T00:00:00Z", true},
		{"1678-01-01T00:00:00Z", true},
		{"2261-12-31T23:59:59.999999999Z", true},
		{"1969-12-31T23:59:59.999Z", true},
		{"1970-01-01T00:00:00Z", true},
		{"2023-02-29T00:00:00Z", false},
		{"1900-02-29T00:00:00Z", false},
		{"2024-04-31T00:00:00Z", false},
		{"2024-01-02T24:00:00Z", false},
		{"2024-01-02T23:60:00Z", false},
		{"2024-01-02T23:59:60Z", false},
		{"2024-00-02T03:04:05Z", false},
		{"2024-01-00T03:04:05Z", false},
		{"2024-01-02T03:04:05.Z", false},
		{"2024-01-02T03:04:05.1234567891Z", false},
		{"2024-01-02T03:04:05,5Z", false},
		{"2024-01-02T03:04:05.5+00:00", false},
		{"2024-01-02 03:04:05Z", false},
		{"2024-01-02T03:04:0xZ", false},
		{"+024-01-02T03:04:05Z", false},
		{"1677-12-31T23:59:59Z", false},
		{"2262-01-01T00:00:00Z", false},
	}
	for _, tt := range tests {
		got, ok := parseUTCFast(tt.in)
		if ok != tt.ok {
			t.Errorf("parseUTCFast(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			continue
		}
		if ok {
			want, err := time.Parse(time.RFC3339Nano, tt.in)
			if err != nil || got != want.UnixNano() {
				t.Errorf("parseUTCFast(%q) = %d; time.Parse: %d, %v", tt.in, got, want.UnixNano(), err)
			}
		}
	}
	// Every day of four centuries, at a time and fraction that vary.
	for d := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2300; d = d.Add(24*time.Hour + 3607*time.Second + 123457*time.Nanosecond) {
		if d.Year() < minYear || d.Year() > maxYear {
			continue
		}
		s := d.Format(time.RFC3339Nano)
		if got, ok := parseUTCFast(s); !ok || got != d.UnixNano() {
			t.Fatalf("parseUTCFast(%q) = %d, %v; want %d", s, got, ok, d.UnixNano())
		}
	}
}
