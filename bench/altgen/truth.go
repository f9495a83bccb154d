package altgen

import (
	"strconv"
	"time"

	"github.com/sluice-log/sluice/bench/gen"
	"github.com/sluice-log/sluice/internal/record"
)

// The values the queries look for.
const (
	focusApp     = 3   // the stream and field filters' app, a busy one
	slowMs       = 500 // duration_ms > slowMs
	foldedWord   = "login"
	phraseFirst  = "timed"
	phraseSecond = "out"
	statusLow    = 500 // the status range, both bounds included
	statusHigh   = 599
	topApps      = 10
	minute       = int64(60)
)

// wordIn and phraseIn say, per subject, verb and object, whether a
// message has the folded word and the phrase. They are found with
// record.Tokens, the server's tokenizer (which lowercases), so that the
// two cannot disagree about a word; the number that ends a message is one
// token of digits, which neither matches.
var wordIn, phraseIn = func() (w, p [8][8][6]bool) {
	for s, subj := range subjects {
		for v, verb := range verbs {
			for o, obj := range objects {
				prev := ""
				record.Tokens(subj+" "+verb+" "+obj, func(tok string) {
					w[s][v][o] = w[s][v][o] || tok == foldedWord
					p[s][v][o] = p[s][v][o] || prev == phraseFirst && tok == phraseSecond
					prev = tok
				})
			}
		}
	}
	return w, p
}()

// truth counts, as records are generated, what each query should answer
// over [from, to) (Unix seconds).
type truth struct {
	from, to int64
	hourFrom int64 // the level filter's hour, the window's last
	apps     [Apps]int64
	pods     [Regions][Apps * Pods]bool
	levels   [4]int64
	// hourErrors are the ERROR records of the last hour; focusSlow the
	// focus app's records over slowMs.
	hourErrors, focusSlow, word, phrase, serverErrors int64
	firstMinute                                       int64
	minutes                                           [4][]int64 // per level, per minute from firstMinute
}

func (t *truth) init(from, to int64) {
	t.from, t.to = from, to
	t.hourFrom = to - int64(time.Hour/time.Second)
	t.firstMinute = from / minute
	for l := range t.minutes {
		t.minutes[l] = make([]int64, (to-1)/minute-t.firstMinute+1)
	}
}

func (t *truth) add(d *draw) {
	if d.t < t.from || d.t >= t.to {
		return
	}
	t.apps[d.app]++
	t.pods[d.region][d.app*Pods+d.pod] = true
	t.levels[d.level]++
	if d.level == levelError && d.t >= t.hourFrom {
		t.hourErrors++
	}
	if d.app == focusApp && d.dur > slowMs {
		t.focusSlow++
	}
	if wordIn[d.subject][d.verb][d.object] {
		t.word++
	}
	if phraseIn[d.subject][d.verb][d.object] {
		t.phrase++
	}
	if d.status >= statusLow && d.status <= statusHigh {
		t.serverErrors++
	}
	t.minutes[d.level][d.t/minute-t.firstMinute]++
}

// Queries returns the query set with its answers over the records
// generated so far whose time is in the last 24 h, [From, To).
func (g *Generator) Queries() []gen.Query { return g.day.queries() }

// RecentQueries returns the query set with its answers over the records
// generated so far whose time is in the last hour, [RecentFrom, To).
func (g *Generator) RecentQueries() []gen.Query { return g.recent.queries() }

// queries is the query set, in Sluice's language and in VictoriaLogs'
// LogsQL, each with its answer over t's window. Names that are also
// bench/gen's are kept apart by the data set's name in reports.
func (t *truth) queries() []gen.Query {
	count := func(name, sluice, logsql string, n int64) gen.Query {
		return gen.Query{Name: name, Sluice: sluice, LogsQL: logsql, Want: gen.Answer{Count: n}}
	}
	var uniqApps int64
	var apps []gen.Group
	for a, n := range t.apps {
		if n > 0 {
			uniqApps++
		}
		apps = appendGroup(apps, "app-"+strconv.Itoa(a), n)
	}
	var pods []gen.Group
	for r, seen := range t.pods {
		var n int64
		for _, s := range seen {
			if s {
				n++
			}
		}
		pods = appendGroup(pods, regions[r], n)
	}
	var hist []gen.Group
	for l, ms := range t.minutes {
		for i, n := range ms {
			start := time.Unix((t.firstMinute+int64(i))*minute, 0).UTC().Format(time.RFC3339)
			hist = appendGroup(hist, Levels[l]+gen.KeySep+start, n)
		}
	}
	rfc := func(s int64) string { return time.Unix(s, 0).UTC().Format(time.RFC3339) }
	app := "app-" + strconv.Itoa(focusApp)
	slow := strconv.Itoa(slowMs)
	phrase := `"` + phraseFirst + " " + phraseSecond + `"`
	return []gen.Query{
		count("count_uniq_stream",
			"* | stats count_uniq(app) as n",
			"* | stats count_uniq(app) as n", uniqApps),
		{
			Name:   "count_uniq_stream_by",
			Sluice: "* | stats count_uniq(pod) as n by region",
			LogsQL: "* | stats by (region) count_uniq(pod) as n",
			Want:   gen.Answer{By: "region", Groups: gen.SortGroups(pods)},
		},
		count("level_last_hour",
			"_time:["+rfc(t.hourFrom)+" TO "+rfc(t.to)+"} severity:ERROR | stats count() as n",
			"_time:["+rfc(t.hourFrom)+", "+rfc(t.to)+") severity:=ERROR | stats count() as n", t.hourErrors),
		count("level_day",
			"severity:ERROR | stats count() as n",
			"severity:=ERROR | stats count() as n", t.levels[levelError]),
		count("stream_and_range",
			`_stream:{app="`+app+`"} duration_ms:>`+slow+` | stats count() as n`,
			`{app="`+app+`"} duration_ms:>`+slow+` | stats count() as n`, t.focusSlow),
		count("field_and_range",
			"app:"+app+" duration_ms:>"+slow+" | stats count() as n",
			"app:="+app+" duration_ms:>"+slow+" | stats count() as n", t.focusSlow),
		// Sluice's words fold case; LogsQL's do with i().
		count("word_folded",
			foldedWord+" | stats count() as n",
			"i("+foldedWord+") | stats count() as n", t.word),
		count("phrase_folded",
			phrase+" | stats count() as n",
			"i("+phrase+") | stats count() as n", t.phrase),
		{
			Name:   "histogram_by_level",
			Sluice: "* | stats count() as n by severity, _time:1m",
			LogsQL: "* | stats by (severity, _time:1m) count() as n",
			Want:   gen.Answer{By: "severity,_time", Groups: gen.SortGroups(hist)},
		},
		{
			Name:   "top_apps",
			Sluice: "* | stats count() as n by app | sort by n desc | limit " + strconv.Itoa(topApps),
			LogsQL: "* | stats by (app) count() as n | sort by (n desc) | limit " + strconv.Itoa(topApps),
			Want:   gen.Answer{By: "app", Groups: gen.SortGroups(apps), Limit: topApps},
		},
		count("status_range",
			"status:["+strconv.Itoa(statusLow)+" TO "+strconv.Itoa(statusHigh)+"] | stats count() as n",
			"status:range["+strconv.Itoa(statusLow)+", "+strconv.Itoa(statusHigh)+"] | stats count() as n", t.serverErrors),
	}
}

func appendGroup(gs []gen.Group, key string, n int64) []gen.Group {
	if n == 0 {
		return gs
	}
	return append(gs, gen.Group{Key: key, N: n})
}
