package api

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/config"
)

// parseTime reads a time bound: RFC 3339, a relative time such as "now",
// "now-1h" or "now-7d", or Unix seconds (with fraction). Empty gives def.
func parseTime(s string, now time.Time, def int64) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return def, nil
	}
	if s == "now" {
		return now.UnixNano(), nil
	}
	if rest, ok := strings.CutPrefix(s, "now-"); ok {
		d, err := config.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("invalid relative time %q: %w", s, err)
		}
		return now.Add(-d).UnixNano(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UnixNano(), nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return int64(f * 1e9), nil
	}
	return 0, fmt.Errorf("invalid time %q: want RFC 3339 (2024-05-01T12:00:00Z), now, now-1h, now-7d or Unix seconds", s)
}
