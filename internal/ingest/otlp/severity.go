package otlp

import (
	"strings"

	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
)

// level returns the normalized level of a log record: one of trace, debug,
// info, warn, error, fatal. The severity number decides when it is set,
// since it is OTLP's canonical severity; otherwise the severity text is
// mapped, and a text that maps to nothing is kept lowercased so that it
// is still searchable. "" when neither is set.
func level(num logspb.SeverityNumber, text string) string {
	switch {
	case num >= 1 && num <= 4:
		return "trace"
	case num >= 5 && num <= 8:
		return "debug"
	case num >= 9 && num <= 12:
		return "info"
	case num >= 13 && num <= 16:
		return "warn"
	case num >= 17 && num <= 20:
		return "error"
	case num >= 21 && num <= 24:
		return "fatal"
	}
	t := strings.ToLower(strings.TrimSpace(text))
	switch t {
	case "trace", "trc":
		return "trace"
	case "debug", "dbg":
		return "debug"
	case "info", "information", "informational", "notice":
		return "info"
	case "warn", "warning", "wrn":
		return "warn"
	case "error", "err", "eror":
		return "error"
	case "fatal", "crit", "critical", "alert", "emerg", "emergency", "panic":
		return "fatal"
	}
	// Texts like "INFO2" or "Error3" follow the severity number's short
	// names (TRACE2, DEBUG3 …).
	for _, l := range []string{"trace", "debug", "info", "warn", "error", "fatal"} {
		if rest, ok := strings.CutPrefix(t, l); ok && len(rest) == 1 && rest[0] >= '2' && rest[0] <= '4' {
			return l
		}
	}
	return t
}
