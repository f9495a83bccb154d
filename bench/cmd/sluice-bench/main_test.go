package main

import (
	"io"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/config"
)

// TestParseFlagsDaysLiveRestart: -days above 1 turns on -live and
// -restart, unless either is set to false explicitly.
func TestParseFlagsDaysLiveRestart(t *testing.T) {
	for _, tc := range []struct {
		args          []string
		live, restart bool
	}{
		{[]string{}, false, false},
		{[]string{"-days", "10"}, true, true},
		{[]string{"-days", "10", "-live=false"}, false, true},
		{[]string{"-days", "10", "-live=false", "-restart=false"}, false, false},
		{[]string{"-days", "10", "-restart=false", "-live"}, true, false},
		{[]string{"-live"}, true, false},
	} {
		o, err := parseFlags(tc.args, io.Discard)
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if o.live != tc.live || o.restart != tc.restart {
			t.Errorf("%q: live %v restart %v, want %v %v", tc.args, o.live, o.restart, tc.live, tc.restart)
		}
	}
}

// TestSluiceConfigMapsDataset: the config the harness writes for each data
// set is one Sluice accepts, and it maps the data set's fields for _bulk
// and, where the data set says so, for jsonline (else jsonline keeps
// Sluice's defaults); VictoriaLogs gets the same mapping in its URLs.
func TestSluiceConfigMapsDataset(t *testing.T) {
	for _, d := range datasets {
		t.Run(d.name, func(t *testing.T) {
			cfg, err := config.Parse(strings.NewReader(d.sluiceConfig()))
			if err != nil {
				t.Fatalf("%v in\n%s", err, d.sluiceConfig())
			}
			want := config.FieldMapping{TimeFields: []string{d.timeField}, MessageFields: []string{d.msgField}, StreamFields: d.streamFields}
			if !reflect.DeepEqual(cfg.Ingest.Bulk, want) {
				t.Errorf("bulk mapping %+v, want %+v", cfg.Ingest.Bulk, want)
			}
			wantJSON := config.Default().Ingest.JSONLine
			if d.sluiceJSONLine {
				wantJSON = want
			}
			if !reflect.DeepEqual(cfg.Ingest.JSONLine, wantJSON) {
				t.Errorf("jsonline mapping %+v, want %+v", cfg.Ingest.JSONLine, wantJSON)
			}
			if cfg.Forward.Enabled || cfg.Syslog.Enabled || cfg.OTLP.Enabled {
				t.Error("a receiver with a port of its own is on")
			}
			vl := system{vlogs: true, data: d}
			for _, path := range []string{vl.insertPath(), vl.bulkPath()} {
				u, err := url.Parse(path)
				if err != nil {
					t.Fatal(err)
				}
				q := u.Query()
				if q.Get("_time_field") != d.timeField || q.Get("_msg_field") != d.msgField || q.Get("_stream_fields") != strings.Join(d.streamFields, ",") {
					t.Errorf("victorialogs path %s does not map %+v", path, want)
				}
			}
		})
	}
	if o, err := parseFlags(nil, io.Discard); err != nil || o.data.name != "gen" {
		t.Errorf("default data set %q (%v), want gen", o.data.name, err)
	}
}

// TestEndLayout: the report says where the last hour and the 24 h fall
// among UTC day partitions for the time of day the data ends at.
func TestEndLayout(t *testing.T) {
	for _, tc := range []struct {
		end, want string
	}{
		{"2026-12-02T00:00:00Z", "at midnight: the last hour and the 24 h lie in the day before"},
		{"2026-12-02T00:30:00Z", "the last hour straddles midnight: 0h30m of it in the newest day partition, the rest in the day before"},
		{"2026-12-02T01:41:00Z", "the newest day partition holds the last 1h41m, the last hour lies in it, the 24 h 1h41m in it and 22h19m in the day before"},
		{"2026-12-02T22:30:00+02:00", "the newest day partition holds the last 20h30m, the last hour lies in it, the 24 h 20h30m in it and 3h30m in the day before"},
	} {
		end, err := time.Parse(time.RFC3339, tc.end)
		if err != nil {
			t.Fatal(err)
		}
		if got := endLayout(end); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.end, got, tc.want)
		}
	}
}

// TestParseFlagsEndPinned: the report tells a pinned -end from the
// default (now).
func TestParseFlagsEndPinned(t *testing.T) {
	o, err := parseFlags(nil, io.Discard)
	if err != nil || o.endPinned {
		t.Fatalf("default -end: pinned %v, %v", o.endPinned, err)
	}
	o, err = parseFlags([]string{"-end", "2026-12-02T20:30:00Z"}, io.Discard)
	if err != nil || !o.endPinned || o.end.Hour() != 20 {
		t.Fatalf("-end 20:30: pinned %v end %v, %v", o.endPinned, o.end, err)
	}
}
