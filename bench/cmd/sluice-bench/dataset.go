package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/sluice-log/sluice/bench/altgen"
	"github.com/sluice-log/sluice/bench/gen"
)

// source is one data set's records, generated as they are sent, with the
// exact answers of its query set over the records generated so far.
type source interface {
	// AppendBatch appends up to max records to dst as JSON lines and
	// returns dst and how many (0 once all are generated).
	AppendBatch(dst []byte, max int) ([]byte, int)
	// Queries are the query set over the last 24 h, [From, To);
	// RecentQueries over the last hour, [RecentFrom, To).
	Queries() []gen.Query
	RecentQueries() []gen.Query
	From() time.Time
	To() time.Time
	RecentFrom() time.Time
}

// dataset is a data set the harness can send: a generator of JSON lines,
// its query set in both systems' languages and its ground truth (both
// from the source), and the names of its time, message and stream
// fields, which each system is told as its users would tell it.
type dataset struct {
	name         string
	timeField    string
	msgField     string
	streamFields []string
	// probeFields are the fields of a freshness probe besides its time
	// and message, as JSON object members after a comma: a stream of the
	// probes' own.
	probeFields string
	// sluiceJSONLine says that Sluice's default /insert/jsonline mapping
	// does not fit the data, so that the harness's config maps it
	// (otherwise Sluice's jsonline runs on its defaults).
	sluiceJSONLine bool
	// open returns a generator of records over days days ending at end
	// (days 1: the 24 h window itself).
	open func(seed uint64, records int, end time.Time, days int) (source, error)
}

// datasets are the data sets -dataset names.
var datasets = []dataset{
	{
		// bench/gen: application JSON, nginx, Java traces and syslog.
		name: "gen", timeField: "_time", msgField: "_msg", streamFields: []string{"service", "host", "container"},
		probeFields: `,"service":"sluice-bench","host":"bench","level":"info"`,
		open: func(seed uint64, records int, end time.Time, days int) (source, error) {
			return gen.New(gen.Config{Seed: seed, Records: records, End: end, Days: days})
		},
	},
	{
		// bench/altgen: issue 13's second data set.
		name: "alt", timeField: altgen.TimeField, msgField: altgen.MessageField, streamFields: altgen.StreamFields,
		probeFields:    `,"app":"sluice-bench","pod":"bench","region":"bench","severity":"INFO"`,
		sluiceJSONLine: true,
		open: func(seed uint64, records int, end time.Time, days int) (source, error) {
			return altgen.New(altgen.Config{Seed: seed, Records: records, End: end, Days: days})
		},
	},
}

// datasetNamed returns the data set called name.
func datasetNamed(name string) (dataset, error) {
	var names []string
	for _, d := range datasets {
		if d.name == name {
			return d, nil
		}
		names = append(names, d.name)
	}
	return dataset{}, fmt.Errorf("-dataset must be one of %s, got %q", strings.Join(names, ", "), name)
}

// genDataset is bench/gen's data set, the default.
var genDataset = datasets[0]

// streams is the data set's stream fields as a comma-separated list.
func (d dataset) streams() string { return strings.Join(d.streamFields, ",") }

// sluiceConfig is the YAML config Sluice serves the data set with: the
// receivers with ports of their own off (they take no part in the
// benchmark; off, they cannot collide with another server's), and the
// data set's fields mapped for _bulk (as a Filebeat deployment's config
// would: the shipper cannot say it per request) and, where Sluice's
// defaults do not fit, for jsonline. Sluice's defaults otherwise.
func (d dataset) sluiceConfig() string {
	mapping := func(indent string) string {
		return indent + "time_fields: [" + d.timeField + "]\n" +
			indent + "message_fields: [" + d.msgField + "]\n" +
			indent + "stream_fields: [" + strings.Join(d.streamFields, ", ") + "]\n"
	}
	cfg := "forward:\n  enabled: false\nsyslog:\n  enabled: false\notlp:\n  enabled: false\n" +
		"ingest:\n  bulk:\n" + mapping("    ")
	if d.sluiceJSONLine {
		cfg += "  jsonline:\n" + mapping("    ")
	}
	return cfg
}
