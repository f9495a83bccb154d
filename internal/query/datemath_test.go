package query

import (
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

func TestDateMathInFilters(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 30, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"now+1h", now.Add(time.Hour)},
		{"now-1d/d", time.Date(2024, 4, 30, 0, 0, 0, 0, time.UTC)},
		{"now/d", time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)},
		{"now/h-15m", time.Date(2024, 5, 1, 11, 45, 0, 0, time.UTC)},
		{"now+2w", now.AddDate(0, 0, 14)},
		{"now-1y/y", time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		got, err := parseTimeValue(tt.in, now)
		if err != nil || got != tt.want.UnixNano() {
			t.Errorf("parseTimeValue(%q) = %v, %v; want %v", tt.in, time.Unix(0, got).UTC(), err, tt.want)
		}
	}
	// A filter with date math selects by it.
	q, err := Parse(`_time:[now-1d/d TO now/d}`)
	if err != nil {
		t.Fatal(err)
	}
	f := q.CompileAt(now)
	for ts, want := range map[time.Time]bool{
		time.Date(2024, 4, 30, 0, 0, 0, 0, time.UTC):  true,
		time.Date(2024, 4, 30, 23, 0, 0, 0, time.UTC): true,
		time.Date(2024, 4, 29, 23, 0, 0, 0, time.UTC): false,
		time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC):   false,
	} {
		if got := f.Match(&record.Record{Time: ts.UnixNano()}); got != want {
			t.Errorf("%s: match %v, want %v", ts, got, want)
		}
	}
}
