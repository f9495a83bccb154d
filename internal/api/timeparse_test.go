package api

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{in: "now", want: now},
		{in: "now-1h", want: now.Add(-time.Hour)},
		{in: "now-7d", want: now.Add(-7 * 24 * time.Hour)},
		{in: "2024-04-30T10:00:00Z", want: time.Date(2024, 4, 30, 10, 0, 0, 0, time.UTC)},
		{in: "2024-04-30T12:00:00+02:00", want: time.Date(2024, 4, 30, 10, 0, 0, 0, time.UTC)},
		{in: "1714564800", want: time.Unix(1714564800, 0)},
		{in: "1714564800.5", want: time.Unix(1714564800, 5e8)},
		{in: "now-1h30m", want: now.Add(-90 * time.Minute)},
		{in: "now+1h", want: now.Add(time.Hour)},
		{in: "now-1d/d", want: time.Date(2024, 4, 30, 0, 0, 0, 0, time.UTC)},
		{in: "now/d", want: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)},
		{in: "now/d+1h", want: time.Date(2024, 5, 1, 1, 0, 0, 0, time.UTC)},
		{in: "now/w", want: time.Date(2024, 4, 29, 0, 0, 0, 0, time.UTC)}, // a Monday
		{in: "now-1M/M", want: time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)},
		{in: "now/y", want: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{in: "now-90m/h", want: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)},
		{in: "yesterday", err: true},
		{in: "now/x", err: true},
		{in: "now+", err: true},
		{in: "now*2", err: true},
		{in: "now-1x", err: true},
	}
	for _, tt := range tests {
		got, err := parseTime(tt.in, now, -1)
		if tt.err {
			if err == nil {
				t.Errorf("parseTime(%q) = %d, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want.UnixNano() {
			t.Errorf("parseTime(%q) = %v, %v; want %v", tt.in, time.Unix(0, got).UTC(), err, tt.want)
		}
	}
	// Upper bounds round to the end of the unit (exclusive).
	for in, want := range map[string]time.Time{
		"now/d":    time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC),
		"now-1d/d": time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
		"now/M":    time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC),
		"now+1h":   now.Add(time.Hour),
	} {
		if got, err := parseUpperTime(in, now, -1); err != nil || got != want.UnixNano() {
			t.Errorf("parseUpperTime(%q) = %v, %v; want %v", in, time.Unix(0, got).UTC(), err, want)
		}
	}
	if got, _ := parseTime("", now, 42); got != 42 {
		t.Errorf("empty time gave %d, want the default", got)
	}
}

func TestHitsStep(t *testing.T) {
	tests := []struct {
		step string
		span time.Duration
		want string
	}{
		{"", time.Hour, "30s"},
		{"", 24 * time.Hour, "30m"},
		{"", 5 * time.Minute, "5s"},
		{"", 365 * 24 * time.Hour, "1d"},
		{"90s", time.Hour, "90s"},
		{"", 3 * time.Hour, "5m"},
		{"250ms", time.Hour, "250ms"},
	}
	for _, tt := range tests {
		d, err := hitsStep(tt.step, tt.span)
		if err != nil || formatStep(d) != tt.want {
			t.Errorf("hitsStep(%q, %s) = %s, %v; want %s", tt.step, tt.span, formatStep(d), err, tt.want)
		}
	}
	if _, err := hitsStep("soon", time.Hour); err == nil {
		t.Error("hitsStep accepted a bad step")
	}
}
