package main

import (
	"bytes"
	"net/url"
	"time"
)

// system is a log store the harness can run: Sluice itself or, for a
// side-by-side run, VictoriaLogs. Both get the same data, the same load and
// the same queries (in their own language); only the command line and the
// HTTP paths differ.
type system struct {
	name   string // "sluice" or "victorialogs"
	binary string
	config string // sluice only: a YAML config file, "" for the defaults
	vlogs  bool
	// bulk sends the data through the Elasticsearch _bulk API instead of
	// JSON lines (-protocol bulk).
	bulk bool
	// data is the data set sent; the zero value sends bench/gen's.
	data dataset
}

// dataset is the data set the system is sent.
func (s system) dataset() dataset {
	if s.data.open == nil {
		return genDataset
	}
	return s.data
}

// vlogsMapping is the data set's field mapping as VictoriaLogs' URL
// parameters.
func (s system) vlogsMapping() string {
	d := s.dataset()
	return url.Values{"_time_field": {d.timeField}, "_msg_field": {d.msgField}, "_stream_fields": {d.streams()}}.Encode()
}

// args is the command line that serves dataDir on addr.
func (s system) args(dataDir, addr string) []string {
	if s.vlogs {
		// Defaults, plus a retention that covers any -end the data may have.
		return []string{"-storageDataPath=" + dataDir, "-httpListenAddr=" + addr, "-retentionPeriod=100y"}
	}
	args := []string{"serve", "--data-dir", dataDir, "--http-addr", addr}
	if s.config != "" {
		args = append(args, "--config", s.config)
	}
	return args
}

func (s system) readyPath() string {
	if s.vlogs {
		return "/health"
	}
	return "/readyz"
}

// insertPath is the JSON-lines ingest endpoint with the field mapping
// (Sluice's in its config, where the data set needs one).
func (s system) insertPath() string {
	if s.vlogs {
		return "/insert/jsonline?" + s.vlogsMapping()
	}
	return insertPath
}

// bulkPath is the Elasticsearch _bulk endpoint. Sluice takes the field
// mapping from its config (httpOnlyConfig's ingest.bulk), as a Filebeat
// deployment would, and gets Filebeat's (and Logstash's) filter_path, which
// asks for each item's status and error alone; VictoriaLogs takes the
// mapping from the URL, as its docs say.
func (s system) bulkPath() string {
	if s.vlogs {
		return "/insert/elasticsearch/_bulk?" + s.vlogsMapping()
	}
	return "/_bulk?filter_path=" + bulkFilterPath
}

// bulkFilterPath is what Filebeat, Logstash and the OpenTelemetry
// Collector's exporter ask of a bulk answer.
const bulkFilterPath = "errors,items.*.error,items.*.status"

// bulkAction is the action line before every document of a _bulk request:
// Filebeat's, with an index name and no id.
const bulkAction = `{"create":{"_index":"bench"}}`

// appendBulk appends the JSON lines of lines to dst as a _bulk body, each
// document after its action line.
func appendBulk(dst, lines []byte) []byte {
	for len(lines) > 0 {
		line := lines
		if i := bytes.IndexByte(lines, '\n'); i >= 0 {
			line, lines = lines[:i+1], lines[i+1:]
		} else {
			lines = nil
		}
		dst = append(dst, bulkAction...)
		dst = append(dst, '\n')
		dst = append(dst, line...)
	}
	return dst
}

func (s system) queryPath() string {
	if s.vlogs {
		return "/select/logsql/query"
	}
	return queryPath
}

// queryForm is the form of a query request over [from, to).
func (s system) queryForm(q, from, to, limit string) url.Values {
	if s.vlogs {
		return url.Values{"query": {q}, "start": {from}, "end": {to}, "limit": {limit}}
	}
	return url.Values{"query": {q}, "from": {from}, "to": {to}, "limit": {limit}}
}

// settleStable is how long the data dir must keep its size before it counts
// as settled.
func (s system) settleStable() time.Duration {
	if s.vlogs {
		return vlogsSettleStable
	}
	return settleStable
}

// bulkItemErrors reports whether a _bulk answer says some item failed.
func bulkItemErrors(answer []byte) bool {
	return bytes.Contains(answer, []byte(`"errors":true`))
}
