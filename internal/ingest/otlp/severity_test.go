package otlp

import (
	"testing"

	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
)

func TestLevel(t *testing.T) {
	for _, tc := range []struct {
		num  logspb.SeverityNumber
		text string
		want string
	}{
		{0, "", ""},
		{1, "", "trace"},
		{4, "", "trace"},
		{5, "", "debug"},
		{9, "", "info"},
		{12, "", "info"},
		{13, "", "warn"},
		{17, "", "error"},
		{20, "", "error"},
		{21, "", "fatal"},
		{24, "", "fatal"},
		{9, "ERROR", "info"}, // the number is canonical
		{25, "Warning", "warn"},
		{0, "WARNING", "warn"},
		{0, " Err ", "error"},
		{0, "CRITICAL", "fatal"},
		{0, "notice", "info"},
		{0, "DEBUG3", "debug"},
		{0, "Info2", "info"},
		{0, "info5", "info5"},
		{0, "VERBOSE", "verbose"},
	} {
		if got := level(tc.num, tc.text); got != tc.want {
			t.Errorf("level(%d, %q) = %q, want %q", tc.num, tc.text, got, tc.want)
		}
	}
}
