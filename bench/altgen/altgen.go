// Package altgen generates a second data set for the benchmarks, shaped
// unlike bench/gen on purpose, so that a speed-up that depends on
// bench/gen's shape shows as none here: other field names (ts, text,
// severity, duration_ms, app, region, pod), many more services (400 apps in
// 3 regions, most of them sparse streams of a few hundred records a day),
// stream fields other than the time/message convention, messages of
// mixed-case words (as people write them: "User LOGIN failed", "Payment
// declined"), upper-case severities and whole-second timestamps, so that
// many records share a time.
//
// It makes no ground truth of its own: its users check every answer
// against a reference (the query package's in-memory searcher), which is
// exact for any query.
package altgen

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// Shape of the data.
const (
	Apps    = 400
	Regions = 3
)

// Stream fields of the data, for a receiver's configuration.
var StreamFields = []string{"app", "pod", "region"}

var (
	regions    = []string{"eu-west", "us-east", "ap-south"}
	severities = []string{"DEBUG", "INFO", "INFO", "INFO", "INFO", "WARN", "ERROR"}
	subjects   = []string{"User", "Payment", "Session", "Cache", "Order", "Upload", "Token", "Database"}
	verbs      = []string{"LOGIN failed", "Login succeeded", "declined", "Expired", "timed OUT", "Refused", "accepted", "Retried"}
	objects    = []string{"for Account", "at Gateway", "on Shard", "by Upstream", "in Queue", "with Code"}
)

// Records returns n records over the 24 hours before end (whole seconds),
// deterministic per seed, in time order.
func Records(seed uint64, n int, end time.Time) []record.Record {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	start := end.Add(-24 * time.Hour).Unix()
	out := make([]record.Record, n)
	for i := range out {
		// A skewed choice of app: a few busy ones, most of them sparse.
		app := int(float64(Apps) * rng.Float64() * rng.Float64())
		region := regions[(app+rng.IntN(2))%Regions]
		sev := severities[rng.IntN(len(severities))]
		msg := subjects[rng.IntN(len(subjects))] + " " + verbs[rng.IntN(len(verbs))] + " " +
			objects[rng.IntN(len(objects))] + " " + strconv.Itoa(rng.IntN(100000))
		dur := rng.IntN(50)
		if rng.IntN(20) == 0 {
			dur = 500 + rng.IntN(5000)
		}
		t := start + int64(i)*24*3600/int64(n)
		out[i] = record.Record{
			Time:    time.Unix(t, 0).UnixNano(),
			Message: msg,
			Stream: []record.Field{
				{Name: "app", Value: "app-" + strconv.Itoa(app)},
				{Name: "pod", Value: "app-" + strconv.Itoa(app) + "-" + strconv.Itoa(rng.IntN(3))},
				{Name: "region", Value: region},
			},
			Fields: []record.Field{
				{Name: "duration_ms", Value: strconv.Itoa(dur)},
				{Name: "severity", Value: sev},
				{Name: "status", Value: strconv.Itoa([]int{200, 200, 200, 201, 404, 500, 503}[rng.IntN(7)])},
			},
		}
	}
	return out
}

// AppendJSON appends r as one JSON line with its time under "ts" in whole
// seconds and its message under "text".
func AppendJSON(dst []byte, r *record.Record) []byte {
	dst = append(dst, `{"ts":"`...)
	dst = time.Unix(0, r.Time).UTC().AppendFormat(dst, time.RFC3339)
	dst = append(dst, `","text":`...)
	dst = record.AppendJSONString(dst, r.Message)
	for _, fs := range [][]record.Field{r.Stream, r.Fields} {
		for _, f := range fs {
			dst = append(dst, ',')
			dst = record.AppendJSONString(dst, f.Name)
			dst = append(dst, ':')
			dst = record.AppendJSONString(dst, f.Value)
		}
	}
	return append(dst, "}\n"...)
}

// Queries are the questions of issue 13's second data set, in Sluice's
// language, over the data's 24 hours (hour is the start of one hour of
// it, for the range queries).
func Queries(hour time.Time) []Query {
	h := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	hr := "_time:[" + h(hour) + " TO " + h(hour.Add(time.Hour)) + "}"
	return []Query{
		{"count_uniq_stream", "* | stats count_uniq(app) as n"},
		{"count_uniq_stream_by", "* | stats count_uniq(pod) as n by region"},
		{"level_one_hour", hr + " severity:ERROR | stats count() as n"},
		{"level_one_day", "severity:ERROR | stats count() as n"},
		{"stream_and_range", `_stream:{app="app-3"} duration_ms:>500 | stats count() as n`},
		{"field_and_range", `app:app-3 duration_ms:>500 | stats count() as n`},
		{"word_folded", "login | stats count() as n"},
		{"phrase_folded", `"timed out" | stats count() as n`},
		{"histogram_by_level", "* | stats count() as n by severity, _time:1m"},
	}
}

// Query is one question by name.
type Query struct{ Name, Sluice string }
