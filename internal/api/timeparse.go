package api

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/query"
)

// parseTime reads a lower time bound: RFC 3339, Unix seconds (with
// fraction), or date math as Elasticsearch and Grafana send it (now,
// now-1h, now+1h, now-7d, now-1d/d, now/w: query.DateMath, rounding
// down). Empty gives def.
func parseTime(s string, now time.Time, def int64) (int64, error) {
	return parseBound(s, now, def, false)
}

// parseUpperTime reads an upper time bound (to, end) as parseTime does,
// except that rounding goes to the end of the unit: to=now/d is the end of
// today.
func parseUpperTime(s string, now time.Time, def int64) (int64, error) {
	return parseBound(s, now, def, true)
}

func parseBound(s string, now time.Time, def int64, roundUp bool) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return def, nil
	}
	if t, ok, err := query.DateMath(s, now, roundUp); ok {
		if err != nil {
			// Durations of several units (now-1h30m), as before.
			if rest, ok := strings.CutPrefix(s, "now-"); ok {
				if d, derr := config.ParseDuration(rest); derr == nil {
					return now.Add(-d).UnixNano(), nil
				}
			}
			return 0, err
		}
		return t.UnixNano(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UnixNano(), nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return int64(f * 1e9), nil
	}
	return 0, fmt.Errorf("invalid time %q: want RFC 3339 (2024-05-01T12:00:00Z), now, now-1h, now+1h, now-1d/d or Unix seconds", s)
}
