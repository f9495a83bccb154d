package autoscale

import (
	"strings"
	"testing"
)

func TestParseConsumed(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
		err  string
	}{
		{"# TYPE sluice_kafka_consumed_records_total counter\nsluice_kafka_consumed_records_total 1234\n", 1234, ""},
		{"sluice_kafka_consumed_records_total 7\nother 1\n", 7, ""}, // untyped
		{"# TYPE sluice_kafka_consumed_records_total counter\nsluice_kafka_consumed_records_total{a=\"1\"} 2\nsluice_kafka_consumed_records_total{a=\"2\"} 3\n", 5, ""},
		{"other 1\n", 0, "no sluice_kafka_consumed_records_total"},
		{"sluice_kafka_consumed_records_total x\n", 0, "parse metrics"},
	} {
		got, err := ParseConsumed(strings.NewReader(c.in))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseConsumed(%q): %v, want an error with %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseConsumed(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

func FuzzParseConsumed(f *testing.F) {
	f.Add("# TYPE sluice_kafka_consumed_records_total counter\nsluice_kafka_consumed_records_total 1234\n")
	f.Add("sluice_kafka_consumed_records_total{a=\"1\"} 2 1700000000\n")
	f.Fuzz(func(t *testing.T, in string) {
		_, _ = ParseConsumed(strings.NewReader(in))
	})
}
