package main

import (
	"io"
	"net/url"
	"reflect"
	"strings"
	"testing"

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
