package otlp

import (
	"strings"

	"github.com/sluice-log/sluice/internal/ingest"

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
	if l, ok := ingest.NormalLevel(text); ok {
		return l
	}
	return strings.ToLower(strings.TrimSpace(text))
}
