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
// A Generator streams the records as JSON lines and keeps the exact ground
// truth of its query set (Generator.Queries) as it goes, for
// bench/cmd/sluice-bench; Records returns them in memory for tests inside
// the store and query engine, which check their answers against a
// reference searcher instead.
package altgen

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// Shape of the data.
const (
	Apps    = 400
	Regions = 3
	// Pods is how many pods each app has.
	Pods = 3
)

// Field names of the data, for a receiver's or a client's mapping.
const (
	TimeField    = "ts"
	MessageField = "text"
)

// StreamFields are the data's stream fields, for a receiver's configuration.
var StreamFields = []string{"app", "pod", "region"}

// Levels are the severities, in the order of the ground truth's counts.
var Levels = []string{"DEBUG", "INFO", "WARN", "ERROR"}

const levelError = 3

var (
	regions = []string{"eu-west", "us-east", "ap-south"}
	// severities are indexes into Levels, INFO four times as likely.
	severities = []int{0, 1, 1, 1, 1, 2, levelError}
	subjects   = []string{"User", "Payment", "Session", "Cache", "Order", "Upload", "Token", "Database"}
	verbs      = []string{"LOGIN failed", "Login succeeded", "declined", "Expired", "timed OUT", "Refused", "accepted", "Retried"}
	objects    = []string{"for Account", "at Gateway", "on Shard", "by Upstream", "in Queue", "with Code"}
	statuses   = []int{200, 200, 200, 201, 404, 500, 503}
)

// draw is one record as chosen, before it is rendered.
type draw struct {
	t                       int64 // Unix seconds
	app, pod, region, level int
	subject, verb, object   int
	num, dur, status        int
}

// Config says what to generate. The same Config always yields the same
// records.
type Config struct {
	Seed    uint64
	Records int
	// End is the end of the data's time (exclusive), whole seconds (a
	// fraction is dropped); records fall in [End-Days*24h, End).
	End time.Time
	// Days is how many days the records are spread over, evenly and in
	// time order; 0 means 1. The ground truth covers the last 24 h and the
	// last hour.
	Days int
}

// Window is the span of the queries (Generator.From to To), the last day.
const Window = 24 * time.Hour

// RecentWindow is the span of the recent queries, the last hour.
const RecentWindow = time.Hour

// maxDays bounds Config.Days: a long run's span, not a history.
const maxDays = 3660

// Generator produces the records of one Config in time order and keeps
// the ground truth of the query set over the records produced so far. It
// is not safe for concurrent use.
type Generator struct {
	cfg         Config
	rng         *rand.Rand
	start, span int64 // Unix seconds
	end         int64
	next        int
	day, recent truth
}

// New returns a Generator for cfg.
func New(cfg Config) (*Generator, error) {
	if cfg.Records <= 0 {
		return nil, fmt.Errorf("altgen config: records must be positive, got %d", cfg.Records)
	}
	if cfg.End.IsZero() {
		return nil, errors.New("altgen config: end time is not set")
	}
	if cfg.Days < 0 || cfg.Days > maxDays {
		return nil, fmt.Errorf("altgen config: days must be in [0, %d], got %d", maxDays, cfg.Days)
	}
	cfg.Days = max(cfg.Days, 1)
	cfg.End = cfg.End.Truncate(time.Second)
	end := cfg.End.Unix()
	span := int64(cfg.Days) * int64(Window/time.Second)
	g := &Generator{
		cfg:   cfg,
		rng:   rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5eed)),
		start: end - span,
		span:  span,
		end:   end,
	}
	g.day.init(end-int64(Window/time.Second), end)
	g.recent.init(end-int64(RecentWindow/time.Second), end)
	return g, nil
}

// draw chooses the next record.
func (g *Generator) draw() draw {
	rng := g.rng
	i := g.next
	g.next++
	// A skewed choice of app: a few busy ones, most of them sparse.
	d := draw{app: int(float64(Apps) * rng.Float64() * rng.Float64())}
	d.region = (d.app + rng.IntN(2)) % Regions
	d.level = severities[rng.IntN(len(severities))]
	d.subject, d.verb, d.object = rng.IntN(len(subjects)), rng.IntN(len(verbs)), rng.IntN(len(objects))
	d.num = rng.IntN(100000)
	d.dur = rng.IntN(50)
	if rng.IntN(20) == 0 {
		d.dur = 500 + rng.IntN(5000)
	}
	d.pod = rng.IntN(Pods)
	d.status = statuses[rng.IntN(len(statuses))]
	d.t = g.start + int64(i)*g.span/int64(g.cfg.Records)
	g.day.add(&d)
	g.recent.add(&d)
	return d
}

// Remaining is how many records are still to come.
func (g *Generator) Remaining() int { return g.cfg.Records - g.next }

// AppendBatch appends up to max records to dst as JSON lines (AppendJSON's
// form) and returns dst and how many it appended (0 once all are
// generated).
func (g *Generator) AppendBatch(dst []byte, max int) ([]byte, int) {
	n := 0
	for ; n < max && g.next < g.cfg.Records; n++ {
		d := g.draw()
		dst = d.appendJSON(dst)
	}
	return dst, n
}

// From and To bound the queries' window, the last 24 h of the records:
// From <= t < To.
func (g *Generator) From() time.Time { return time.Unix(g.day.from, 0).UTC() }

// To is the end of the data, Config.End.
func (g *Generator) To() time.Time { return time.Unix(g.end, 0).UTC() }

// RecentFrom is the start of the recent queries' window, the last hour.
func (g *Generator) RecentFrom() time.Time { return time.Unix(g.recent.from, 0).UTC() }

func (d *draw) message() string {
	return subjects[d.subject] + " " + verbs[d.verb] + " " + objects[d.object] + " " + strconv.Itoa(d.num)
}

func (d *draw) record() record.Record {
	app := "app-" + strconv.Itoa(d.app)
	return record.Record{
		Time:    time.Unix(d.t, 0).UnixNano(),
		Message: d.message(),
		Stream: []record.Field{
			{Name: "app", Value: app},
			{Name: "pod", Value: app + "-" + strconv.Itoa(d.pod)},
			{Name: "region", Value: regions[d.region]},
		},
		Fields: []record.Field{
			{Name: "duration_ms", Value: strconv.Itoa(d.dur)},
			{Name: "severity", Value: Levels[d.level]},
			{Name: "status", Value: strconv.Itoa(d.status)},
		},
	}
}

// appendJSON appends d as AppendJSON does its record, without building
// the record.
func (d *draw) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"ts":"`...)
	dst = time.Unix(d.t, 0).UTC().AppendFormat(dst, time.RFC3339)
	dst = append(dst, `","text":"`...)
	// The words hold nothing JSON escapes.
	dst = append(dst, subjects[d.subject]...)
	dst = append(dst, ' ')
	dst = append(dst, verbs[d.verb]...)
	dst = append(dst, ' ')
	dst = append(dst, objects[d.object]...)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(d.num), 10)
	dst = append(dst, `","app":"app-`...)
	dst = strconv.AppendInt(dst, int64(d.app), 10)
	dst = append(dst, `","pod":"app-`...)
	dst = strconv.AppendInt(dst, int64(d.app), 10)
	dst = append(dst, '-')
	dst = strconv.AppendInt(dst, int64(d.pod), 10)
	dst = append(dst, `","region":"`...)
	dst = append(dst, regions[d.region]...)
	dst = append(dst, `","duration_ms":"`...)
	dst = strconv.AppendInt(dst, int64(d.dur), 10)
	dst = append(dst, `","severity":"`...)
	dst = append(dst, Levels[d.level]...)
	dst = append(dst, `","status":"`...)
	dst = strconv.AppendInt(dst, int64(d.status), 10)
	return append(dst, "\"}\n"...)
}

// Records returns n records over the 24 hours before end (whole seconds),
// deterministic per seed, in time order: the records a Generator of
// Config{seed, n, end, 1} streams.
func Records(seed uint64, n int, end time.Time) []record.Record {
	g, err := New(Config{Seed: seed, Records: n, End: end})
	if err != nil {
		panic(err) // n <= 0 or no end: a caller's bug
	}
	out := make([]record.Record, n)
	for i := range out {
		d := g.draw()
		out[i] = d.record()
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
// it, for the range queries), without answers: for tests that check them
// against a reference searcher. Generator.Queries has them (and more) in
// both languages with their exact answers.
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
