package gen

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// The services the prefix and regular-expression queries select. The
// prefix matches words of the service name (as both engines' prefix filters
// do), the expression the raw value.
const (
	servicePrefix = "re"
	serviceRegexp = "^(pay|check)"
)

// topTraces is how many groups the high-cardinality stats query keeps.
const topTraces = 5

// Query is one bench query with the answer the generated data must give.
type Query struct {
	// Name is a short label for reports, such as "term" or "histogram".
	Name string
	// Sluice is the query in Sluice's language.
	Sluice string
	// LogsQL is the same query in VictoriaLogs' LogsQL, for side-by-side
	// runs against it.
	LogsQL string
	// Want is the exact answer.
	Want Answer
}

// Answer is the result of a stats query whose count is named n.
type Answer struct {
	// By names the field the rows are grouped by, or the fields joined by
	// commas ("severity,_time"), whose values, joined by KeySep, make a
	// group's key; "" means a single row with the count.
	By string
	// Count is the answer when By is "".
	Count int64
	// Groups holds every group with its count, by count descending and then
	// key; groups with no records are absent. For a "_time" field the value
	// is the bucket's start in RFC 3339 (UTC).
	Groups []Group
	// Limit, when above zero, says that only the first Limit groups are
	// returned, in order. Groups whose counts tie may come in either order,
	// and a tie at the limit may be broken either way.
	Limit int
	// RestGroups, when above zero, says that besides Groups there are that
	// many more groups, each counting Rest records, whose keys are not
	// listed and are all different from each other and from those in
	// Groups. A high-cardinality field (a random trace id per record) needs
	// this: listing a million groups would cost the generator more memory
	// than the data. Rest must not exceed the smallest count in Groups.
	RestGroups int64
	Rest       int64
}

// KeySep joins the values of a group's key when Answer.By names several
// fields.
const KeySep = "|"

// Group is one row of a grouped answer.
type Group struct {
	Key string
	N   int64
}

// Queries returns the bench queries with their answers over the records
// generated so far (all of them, once Remaining is 0), for the whole window
// [From, To).
func (g *Generator) Queries() []Query { return g.queries(&g.truth) }

// RecentQueries returns the bench queries with their answers over the
// records generated so far whose time is in the last hour of the window,
// [RecentFrom, To).
func (g *Generator) RecentQueries() []Query { return g.queries(&g.recent) }

// RecentFrom is the start of the recent queries' window, RecentWindow
// before To.
func (g *Generator) RecentFrom() time.Time { return time.Unix(0, g.recentFrom).UTC() }

func (g *Generator) queries(t *truth) []Query {
	count := func(name, sluice, logsql string, n int64) Query {
		return Query{Name: name, Sluice: sluice, LogsQL: logsql, Want: Answer{Count: n}}
	}
	rare := string(g.rareID[:])

	var levels []Group
	for l, n := range t.levels {
		levels = appendGroup(levels, levelNames[l], n)
	}
	var minutes []Group
	for i, n := range t.buckets {
		start := time.Unix((t.firstBucket+int64(i))*bucketNanos/1e9, 0).UTC()
		minutes = appendGroup(minutes, start.Format(time.RFC3339), n)
	}
	var errs []Group
	for s, n := range t.errors {
		errs = appendGroup(errs, serviceName(s), n)
	}
	re := regexp.MustCompile(serviceRegexp)
	var prefixed, matched int64
	for s, n := range t.services {
		name := serviceName(s)
		if slices.ContainsFunc(record.TokenList(name), func(w string) bool { return strings.HasPrefix(w, servicePrefix) }) {
			prefixed += n
		}
		if re.MatchString(name) {
			matched += n
		}
	}
	// Every traced record has a fresh random 128-bit trace id except the
	// rare ones, which share theirs; untraced records group under "".
	traces := SortGroups(appendGroup(appendGroup(nil, "", t.windowNoTrace), rare, t.windowRare))
	traceFrom := time.Unix(0, t.traceFrom).UTC().Format(time.RFC3339)
	traceTo := time.Unix(0, t.traceTo).UTC().Format(time.RFC3339)
	status := "[" + strconv.Itoa(statusLow) + " TO " + strconv.Itoa(statusHigh) + "]"
	statusVL := "range[" + strconv.Itoa(statusLow) + ", " + strconv.Itoa(statusHigh) + "]"

	return []Query{
		count("term", termWord+" | stats count() as n", termWord+" | stats count() as n", t.term),
		count("phrase",
			`"`+phraseFirst+" "+phraseSecond+`" | stats count() as n`,
			`"`+phraseFirst+" "+phraseSecond+`" | stats count() as n`, t.phrase),
		count("field",
			"service:"+fieldService+" | stats count() as n",
			"service:="+fieldService+" | stats count() as n", t.services[paymentsIndex]),
		count("range",
			"latency_ms:>1000 | stats count() as n",
			"latency_ms:>1000 | stats count() as n", t.slow),
		count("trace",
			"trace_id:"+rare+" | stats count() as n",
			"trace_id:="+rare+" | stats count() as n", t.rare),
		count("prefix",
			"service:"+servicePrefix+"* | stats count() as n",
			"service:"+servicePrefix+"* | stats count() as n", prefixed),
		count("infix",
			"*"+infixText+"* | stats count() as n",
			// LogsQL's substring filter; refus holds no regexp syntax.
			`~"`+infixText+`" | stats count() as n`, t.infix),
		count("regexp",
			"service:/"+serviceRegexp+"/ | stats count() as n",
			"service:~"+strconv.Quote(serviceRegexp)+" | stats count() as n", matched),
		count("exact",
			`level:="error" | stats count() as n`,
			`level:="error" | stats count() as n`, t.levels[levelError]),
		count("stream",
			`_stream:{service="`+fieldService+`"} | stats count() as n`,
			`{service="`+fieldService+`"} | stats count() as n`, t.services[paymentsIndex]),
		count("status_range",
			"status:"+status+" | stats count() as n",
			"status:"+statusVL+" | stats count() as n", t.serverErrors),
		count("no_trace",
			"NOT trace_id:* | stats count() as n",
			"-trace_id:* | stats count() as n", t.noTrace),
		{
			Name:   "by_level",
			Sluice: "* | stats count() as n by level",
			LogsQL: "* | stats by (level) count() as n",
			Want:   Answer{By: "level", Groups: SortGroups(levels)},
		},
		{
			Name:   "histogram",
			Sluice: "* | stats count() as n by _time:1m",
			LogsQL: "* | stats by (_time:1m) count() as n",
			Want:   Answer{By: "_time", Groups: SortGroups(minutes)},
		},
		{
			Name:   "top_errors",
			Sluice: "level:error | stats count() as n by service | sort by n desc | limit 10",
			LogsQL: "level:=error | stats by (service) count() as n | sort by (n desc) | limit 10",
			Want:   Answer{By: "service", Groups: SortGroups(errs), Limit: 10},
		},
		{
			Name:   "top_traces",
			Sluice: "_time:[" + traceFrom + " TO " + traceTo + "} | stats count() as n by trace_id | sort by n desc | limit " + strconv.Itoa(topTraces),
			LogsQL: "_time:[" + traceFrom + ", " + traceTo + ") | stats by (trace_id) count() as n | sort by (n desc) | limit " + strconv.Itoa(topTraces),
			Want: Answer{By: "trace_id", Groups: traces, Limit: topTraces,
				RestGroups: t.windowRecs - t.windowNoTrace - t.windowRare, Rest: 1},
		},
	}
}

func appendGroup(gs []Group, key string, n int64) []Group {
	if n == 0 {
		return gs
	}
	return append(gs, Group{Key: key, N: n})
}

// SortGroups sorts gs as Answer.Groups are: by count descending and then
// key, and returns it.
func SortGroups(gs []Group) []Group {
	slices.SortFunc(gs, func(a, b Group) int {
		if c := cmp.Compare(b.N, a.N); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	return gs
}

// String renders the answer compactly for reports.
func (a Answer) String() string {
	switch {
	case a.By == "":
		return fmt.Sprintf("n=%d", a.Count)
	case a.Limit > 0:
		return fmt.Sprintf("top %d by %s of %d groups", a.Limit, a.By, int64(len(a.Groups))+a.RestGroups)
	}
	return fmt.Sprintf("%d groups by %s", int64(len(a.Groups))+a.RestGroups, a.By)
}
