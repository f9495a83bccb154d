package ingest

import (
	"context"
	"strings"

	"github.com/sluice-log/sluice/internal/record"
)

// Severities are normalised at ingest to OpenTelemetry's severity names
// (trace, debug, info, warn, error, fatal), so that level:warn finds a
// syslog "warning", a JSON "WARN" and an OTLP SeverityNumber 13 alike, and
// a chart has one series per severity. The value as the source wrote it is
// kept in SeverityTextField when it differs (OpenTelemetry's data model
// calls the source's own text SeverityText).
const (
	LevelField        = "level"
	SeverityTextField = "severity_text"
)

// NormalLevel maps a severity text, in any case, to OpenTelemetry's name;
// ok is false for a text outside the known vocabulary (left as it is).
func NormalLevel(text string) (level string, ok bool) {
	t := strings.ToLower(strings.TrimSpace(text))
	switch t {
	case "trace", "trc":
		return "trace", true
	case "debug", "dbg":
		return "debug", true
	case "info", "information", "informational", "notice":
		return "info", true
	case "warn", "warning", "wrn":
		return "warn", true
	case "error", "err", "eror":
		return "error", true
	case "fatal", "crit", "critical", "alert", "emerg", "emergency", "panic":
		return "fatal", true
	}
	// Texts like "INFO2" or "Error3" follow the severity number's short
	// names (TRACE2, DEBUG3 …).
	for _, l := range []string{"trace", "debug", "info", "warn", "error", "fatal"} {
		if rest, ok := strings.CutPrefix(t, l); ok && len(rest) == 1 && rest[0] >= '2' && rest[0] <= '4' {
			return l, true
		}
	}
	return "", false
}

// NormalizeLevels rewrites the level field of a record in place: a known
// severity text becomes its normal name, and the text it had goes to
// severity_text (unless the record has that field already). A stream
// label named level is the stream's identity and is left alone.
func NormalizeLevels(recs []record.Record) {
	for i := range recs {
		r := &recs[i]
		at, hasText := -1, false
		for j := range r.Fields {
			switch r.Fields[j].Name {
			case LevelField:
				at = j
			case SeverityTextField:
				hasText = true
			}
		}
		if at < 0 {
			continue
		}
		orig := r.Fields[at].Value
		switch orig {
		case "trace", "debug", "info", "warn", "error", "fatal":
			continue // already normal: the common case costs no mapping
		}
		norm, ok := NormalLevel(orig)
		if !ok || norm == orig {
			continue
		}
		r.Fields[at].Value = norm
		if !hasText {
			// A new array: a receiver may have cut several records'
			// fields from one, and appending in place would overwrite
			// the next record's.
			n := len(r.Fields)
			r.Fields = append(r.Fields[:n:n], record.Field{Name: SeverityTextField, Value: orig})
		}
	}
}

// LevelSink normalises every batch's levels (NormalizeLevels) before next
// takes it.
func LevelSink(next Sink) Sink { return levelSink{next} }

type levelSink struct{ next Sink }

func (s levelSink) Ingest(ctx context.Context, recs []record.Record) error {
	NormalizeLevels(recs)
	return s.next.Ingest(ctx, recs)
}
