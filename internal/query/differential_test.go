package query

import (
	"context"
	"fmt"
	"math/rand"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

var (
	diffWords  = []string{"error", "Timeout", "connection", "refused", "db", "retry", "ok", "conn", "user_42", "500", "ÉRROR", "\u212Aelvin", "kelvin", "İstanbul", "Straße"}
	diffFields = []string{"_msg", "level", "status", "latency", "service", "host"}
	diffValues = []string{"error", "warn", "INFO", "200", "503", "-1.5", "1e3", "n/a", "web-1", "web-2", "api", "a b", ""}
	// diffRegexes mix patterns with and without literal tokens that the
	// index can use.
	diffRegexes = []string{"error", "^conn", "refused$", "(?i)timeout", `user_\d+`, "db|retry", "^web-[12]$", "connection refused", "a b", "^error$", "(db) (retry)", "[0-9]{3}", ""}
)

func randomRecords(rng *rand.Rand, n int) []record.Record {
	pick := func(list []string) string { return list[rng.Intn(len(list))] }
	recs := make([]record.Record, n)
	for i := range recs {
		r := record.Record{Time: int64(i) * 1000}
		words := make([]string, 1+rng.Intn(4))
		for j := range words {
			words[j] = pick(diffWords)
		}
		r.Message = strings.Join(words, pick([]string{" ", ", ", "-", ": "}))
		if rng.Intn(4) > 0 {
			r.Stream = append(r.Stream, record.Field{Name: "host", Value: pick(diffValues)})
		}
		if rng.Intn(4) > 0 {
			r.Stream = append(r.Stream, record.Field{Name: "service", Value: pick(diffValues)})
		}
		for _, f := range []string{"level", "status", "latency"} {
			if rng.Intn(3) > 0 {
				r.Fields = append(r.Fields, record.Field{Name: f, Value: pick(diffValues)})
			}
		}
		recs[i] = r
	}
	// Shuffle, so that the searcher's order is not the time order.
	rng.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	return recs
}

func randomNode(rng *rand.Rand, depth int) Node {
	pick := func(list []string) string { return list[rng.Intn(len(list))] }
	bound := func() Bound {
		if rng.Intn(5) == 0 {
			return Bound{Unbounded: true}
		}
		return Bound{Value: pick(diffValues)}
	}
	k := rng.Intn(17)
	if depth <= 0 {
		k = rng.Intn(12)
	}
	switch k {
	case 7:
		w := []rune(pick(diffWords)) // cut at runes: a query holds valid UTF-8
		i, j := rng.Intn(len(w)+1), rng.Intn(len(w)+1)
		i, j = min(i, j), max(i, j)
		pat := pick([]string{"*", ""}) + string(w[:i]) + "*" + string(w[i:j]) + pick([]string{"*", ""})
		if strings.IndexByte(pat, '*') == len(pat)-1 {
			pat = "*" + pat // a lone trailing '*' would be a Prefix
		}
		return Wildcard{Field: pick(diffFields), Pattern: pat}
	case 8:
		return Regex{Field: pick(diffFields), Pattern: pick(diffRegexes)}
	case 9:
		return Exact{Field: pick(diffFields), Value: pick(append(diffWords, diffValues...))}
	case 10:
		ms := make([]LabelMatcher, 1+rng.Intn(2))
		for i := range ms {
			m := LabelMatcher{Label: pick([]string{"host", "service"}), Op: pick([]string{"=", "!=", "=~", "!~"}), Value: pick(diffValues)}
			if strings.HasSuffix(m.Op, "~") {
				m.Value = pick([]string{"web-.*", "api|INFO", "", ".*", "w.*1"})
			}
			ms[i] = m
		}
		return StreamSelector{Matchers: ms}
	case 11:
		ts := func() string { return time.Unix(0, int64(rng.Intn(310))*1000).UTC().Format(time.RFC3339Nano) }
		if rng.Intn(2) == 0 {
			return Compare{Field: "_time", Op: pick([]string{"<", "<=", ">", ">="}), Value: ts()}
		}
		lo, hi := Bound{Value: ts()}, Bound{Value: ts()}
		if rng.Intn(4) == 0 {
			lo = Bound{Unbounded: true}
		}
		return Range{Field: "_time", Lo: lo, Hi: hi, LoIncl: rng.Intn(2) == 0, HiIncl: rng.Intn(2) == 0}
	case 0:
		if rng.Intn(3) == 0 {
			return Phrase{Field: pick(diffFields), Value: pick(diffWords) + " " + pick(diffWords)}
		}
		return Phrase{Field: pick(diffFields), Value: pick(append(diffWords, diffValues...))}
	case 1:
		w := []rune(pick(diffWords))
		return Prefix{Field: pick(diffFields), Value: string(w[:1+rng.Intn(len(w))])}
	case 2:
		return Prefix{Field: pick(diffFields), Value: pick(diffWords) + "-" + pick([]string{"re", "c", "t"})}
	case 3:
		return Exists{Field: pick(diffFields)}
	case 4:
		return Compare{Field: pick(diffFields), Op: pick([]string{"<", "<=", ">", ">="}), Value: pick(diffValues)}
	case 5:
		return Range{Field: pick(diffFields), Lo: bound(), Hi: bound(), LoIncl: rng.Intn(2) == 0, HiIncl: rng.Intn(2) == 0}
	case 6:
		if rng.Intn(4) == 0 {
			return MatchAll{}
		}
		return Phrase{Field: "_msg", Value: pick(diffWords)}
	case 12, 13:
		children := make([]Node, 2+rng.Intn(2))
		for i := range children {
			children[i] = randomNode(rng, depth-1)
		}
		return And{Children: children}
	case 14, 15:
		children := make([]Node, 2+rng.Intn(2))
		for i := range children {
			children[i] = randomNode(rng, depth-1)
		}
		return Or{Children: children}
	}
	return Not{Child: randomNode(rng, depth-1)}
}

// naiveGet looks a field up without record.Get.
func naiveGet(r *record.Record, name string) (string, bool) {
	if name == "_msg" {
		return r.Message, true
	}
	for _, list := range [][]record.Field{r.Stream, r.Fields} {
		for _, f := range list {
			if f.Name == name {
				return f.Value, true
			}
		}
	}
	return "", false
}

// naiveMatch evaluates n on r the slow, obvious way: tokens joined by
// spaces and searched as text.
func naiveMatch(n Node, r *record.Record) bool {
	switch n := n.(type) {
	case MatchAll:
		return true
	case Phrase:
		v, _ := naiveGet(r, n.Field)
		want := record.TokenList(n.Value)
		if len(want) == 0 {
			return v == n.Value
		}
		return strings.Contains(" "+strings.Join(record.TokenList(v), " ")+" ", " "+strings.Join(want, " ")+" ")
	case Prefix:
		v, _ := naiveGet(r, n.Field)
		text := " " + strings.Join(record.TokenList(v), " ") + " "
		want := " " + strings.Join(record.TokenList(n.Value), " ")
		if !endsInTokenChar(n.Value) {
			want += " "
		}
		return strings.Contains(text, want)
	case Exists:
		v, ok := naiveGet(r, n.Field)
		return ok && v != ""
	case Wildcard:
		v, ok := naiveGet(r, n.Field)
		parts := strings.Split(n.Pattern, "*")
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		return ok && regexp.MustCompile("(?is)^"+strings.Join(parts, ".*")+"$").MatchString(v)
	case Regex:
		v, ok := naiveGet(r, n.Field)
		return ok && regexp.MustCompile(n.Pattern).MatchString(v)
	case Exact:
		v, _ := naiveGet(r, n.Field)
		return v == n.Value
	case StreamSelector:
		for _, m := range n.Matchers {
			v := ""
			for _, l := range r.Stream {
				if l.Name == m.Label {
					v = l.Value
				}
			}
			var ok bool
			switch m.Op {
			case "=":
				ok = v == m.Value
			case "!=":
				ok = v != m.Value
			case "=~":
				ok = regexp.MustCompile("^(" + m.Value + ")$").MatchString(v)
			case "!~":
				ok = !regexp.MustCompile("^(" + m.Value + ")$").MatchString(v)
			}
			if !ok {
				return false
			}
		}
		return true
	case Compare:
		if n.Field == "_time" {
			t, _ := time.Parse(time.RFC3339Nano, n.Value)
			switch n.Op {
			case "<":
				return r.Time < t.UnixNano()
			case "<=":
				return r.Time <= t.UnixNano()
			case ">":
				return r.Time > t.UnixNano()
			}
			return r.Time >= t.UnixNano()
		}
		lo, hi := Bound{Unbounded: true}, Bound{Unbounded: true}
		if n.Op[0] == '>' {
			lo = Bound{Value: n.Value}
		} else {
			hi = Bound{Value: n.Value}
		}
		return naiveRange(r, n.Field, lo, hi, n.Op == ">=", n.Op == "<=")
	case Range:
		if n.Field == "_time" {
			t := func(b Bound) int64 { x, _ := time.Parse(time.RFC3339Nano, b.Value); return x.UnixNano() }
			return (n.Lo.Unbounded || r.Time > t(n.Lo) || n.LoIncl && r.Time == t(n.Lo)) &&
				(n.Hi.Unbounded || r.Time < t(n.Hi) || n.HiIncl && r.Time == t(n.Hi))
		}
		return naiveRange(r, n.Field, n.Lo, n.Hi, n.LoIncl, n.HiIncl)
	case And:
		for _, c := range n.Children {
			if !naiveMatch(c, r) {
				return false
			}
		}
		return true
	case Or:
		for _, c := range n.Children {
			if naiveMatch(c, r) {
				return true
			}
		}
		return false
	case Not:
		return !naiveMatch(n.Child, r)
	}
	panic(fmt.Sprintf("naiveMatch: %T", n))
}

func naiveRange(r *record.Record, field string, lo, hi Bound, loIncl, hiIncl bool) bool {
	v, ok := naiveGet(r, field)
	if !ok {
		return false
	}
	num := func(s string) (float64, bool) {
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil && f == f && f-f == 0
	}
	lf, lok := num(lo.Value)
	hf, hok := num(hi.Value)
	if (lo.Unbounded || lok) && (hi.Unbounded || hok) {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || x != x {
			return false
		}
		return (lo.Unbounded || x > lf || loIncl && x == lf) && (hi.Unbounded || x < hf || hiIncl && x == hf)
	}
	c1, c2 := strings.Compare(v, lo.Value), strings.Compare(v, hi.Value)
	return (lo.Unbounded || c1 > 0 || loIncl && c1 == 0) && (hi.Unbounded || c2 < 0 || hiIncl && c2 == 0)
}

func TestDifferential(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	recs := randomRecords(rng, 300)
	src := sliceSearcher(recs)
	const blockSize = 6
	skipped, blocks, projections := 0, 0, 0
	for iter := 0; iter < 400; iter++ {
		node := randomNode(rng, 3)
		q := &Query{Filter: node}

		// The naive answer: matches, newest first.
		var want []record.Record
		for i := range recs {
			if naiveMatch(node, &recs[i]) {
				want = append(want, recs[i])
			}
		}
		sort.Slice(want, func(i, j int) bool { return want[i].Time > want[j].Time })
		limit := 1 + rng.Intn(len(recs))
		var wantMsgs []string
		for i := 0; i < len(want) && i < limit; i++ {
			wantMsgs = append(wantMsgs, strconv.FormatInt(want[i].Time, 10))
		}
		var got []string
		err := Execute(context.Background(), src, q, Options{Limit: limit}, func(r Row) error {
			got = append(got, strconv.FormatInt(r.Record.Time, 10))
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if strings.Join(got, ",") != strings.Join(wantMsgs, ",") {
			t.Fatalf("%s (limit %d):\n got %v\nwant %v", q, limit, got, wantMsgs)
		}

		// The same filter as a pipe (which runs before the newest-limit
		// cut) gives the same records.
		piped, err := Parse("* | filter " + node.String())
		if err != nil {
			t.Fatalf("filter pipe of %s: %v", q, err)
		}
		got = got[:0]
		err = Execute(context.Background(), src, piped, Options{Limit: limit}, func(r Row) error {
			got = append(got, strconv.FormatInt(r.Record.Time, 10))
			return nil
		})
		if err != nil || strings.Join(got, ",") != strings.Join(wantMsgs, ",") {
			t.Fatalf("%s (limit %d, err %v):\n got %v\nwant %v", piped, limit, err, got, wantMsgs)
		}

		// stats count() by level against counting by hand.
		counts := map[string]int{}
		for _, r := range want {
			lv, _ := naiveGet(&r, "level")
			counts[lv]++
		}
		stats, err := Parse(q.String() + " | stats count() as n by level")
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		rows := 0
		err = Execute(context.Background(), src, stats, Options{}, func(r Row) error {
			rows++
			if c := counts[r.Values[0].Str]; float64(c) != r.Values[1].Num {
				t.Errorf("%s: level %q counted %v, want %d", stats, r.Values[0].Str, r.Values[1].Num, c)
			}
			return nil
		})
		if err != nil || rows != len(counts) {
			t.Fatalf("%s: %d rows, want %d (err %v)", stats, rows, len(counts), err)
		}

		// With random pipes, projection (the Fields Execute asks for)
		// gives what whole records give.
		pipes := randomPipes(rng)
		projected, err := Parse(q.String() + pipes)
		if err != nil {
			t.Fatalf("%s%s: %v", q, pipes, err)
		}
		if projected.searchFields() != nil {
			projections++
		}
		gotRows, err := runJSON(src, projected, limit)
		if err != nil {
			t.Fatalf("%s: %v", projected, err)
		}
		wantRows, err := runJSON(unprojected{src}, projected, limit)
		if err != nil {
			t.Fatalf("%s unprojected: %v", projected, err)
		}
		if gotRows != wantRows {
			t.Fatalf("%s (limit %d) with projection %v:\n got %s\nwant %s", projected, limit, projected.searchFields(), gotRows, wantRows)
		}

		// The canonical text means the same (generated trees need not be
		// flat, so only the reparsed tree must round-trip exactly).
		back, err := Parse(q.String())
		if err != nil {
			t.Fatalf("canonical %q does not parse: %v", q, err)
		}
		checkRoundTrip(t, back)
		f, bf := q.Compile(), back.Compile()
		for i := range recs {
			if f.Match(&recs[i]) != bf.Match(&recs[i]) {
				t.Fatalf("%s and its reparse disagree on %+v", q, recs[i])
			}
		}

		// MayMatch never excludes a block that holds a match.
		for start := 0; start < len(recs); start += blockSize {
			block := recs[start:min(start+blockSize, len(recs))]
			hit := false
			for i := range block {
				hit = hit || naiveMatch(node, &block[i])
			}
			may := f.MayMatch(newExactSummary(block))
			if hit && !may {
				t.Fatalf("%s: MayMatch excluded a block holding a match: %+v", q, block)
			}
			blocks++
			if !may {
				skipped++
			}
		}
	}
	// A MayMatch that never says no would pass the check above; it must
	// also be useful.
	if skipped == 0 {
		t.Errorf("MayMatch skipped none of %d blocks", blocks)
	}
	t.Logf("MayMatch skipped %d of %d blocks", skipped, blocks)
	// The projection check above means little if no query projected.
	if projections == 0 {
		t.Errorf("no random query asked for fewer than all fields")
	}
	t.Logf("%d of 400 random piped queries projected", projections)
}

// randomPipes returns a random pipe suffix mixing aggregations, record
// pipes and extractions, for the projection check of TestDifferential.
func randomPipes(rng *rand.Rand) string {
	pick := func(list []string) string { return list[rng.Intn(len(list))] }
	field := func() string { return pick(diffFields) }
	twoFields := func() string {
		i := rng.Intn(len(diffFields))
		j := (i + 1 + rng.Intn(len(diffFields)-1)) % len(diffFields)
		return diffFields[i] + ", " + diffFields[j]
	}
	stages := []func() string{
		func() string { return " | stats count() as n by " + field() },
		func() string {
			return " | stats count() as n, count_uniq(" + field() + ") as u, max(" + field() + ") as mx, sum(" + field() + ") as s by " + twoFields()
		},
		func() string {
			return " | stats avg(" + field() + ") as a, min(" + field() + ") as mn, quantile(0.5, " + field() + ") as q, rate() as r by _stream"
		},
		func() string { return " | stats count() as n by _time:1s" },
		func() string { return " | top 3 by " + field() },
		func() string { return " | fields " + field() + ", _time, _stream" },
		func() string { return " | fields " + field() + " as a, " + field() + " as b | sort by a, b" },
		func() string { return " | sort by " + field() + " desc" },
		func() string { return " | limit 7" },
		func() string { return " | filter " + field() + ":" + pick(diffValues[:12]) },
		// Extractions into names that exist in some records: a row the
		// source does not fill keeps its stored value.
		func() string { return ` | extract "<level> <status>"` },
		func() string { return ` | extract ", <service>" from ` + field() },
		func() string { return " | unpack_logfmt" },
		func() string { return " | unpack_json from " + field() },
	}
	var b strings.Builder
	for n := 1 + rng.Intn(3); n > 0; n-- {
		b.WriteString(stages[rng.Intn(len(stages))]())
	}
	return b.String()
}

// runJSON executes q and returns its rows as JSON lines. Now is fixed, as
// rate() depends on it.
func runJSON(src store.Searcher, q *Query, limit int) (string, error) {
	var b []byte
	err := Execute(context.Background(), src, q, Options{Limit: limit, Now: time.Unix(1000, 0)}, func(r Row) error {
		b = append(r.AppendJSON(b), '\n')
		return nil
	})
	return string(b), err
}
