package query

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/bench/altgen"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// valuesOf lays vals out back to back, as the store hands them over.
func valuesOf(vals []string) store.Values {
	data := strings.Join(vals, "")
	vs := store.Values{Data: data, Values: make([]string, len(vals))}
	off := 0
	for i, v := range vals {
		vs.Values[i] = data[off : off+len(v)]
		off += len(v)
	}
	return vs
}

// valuesFilterOf compiles q, which must filter one field with a
// ValuesFilter.
func valuesFilterOf(t testing.TB, q string) (store.ValuesFilter, string) {
	t.Helper()
	parsed, err := Parse(q)
	if err != nil {
		t.Fatalf("Parse(%q): %v", q, err)
	}
	f := parsed.Compile()
	vf, ok := f.(store.ValuesFilter)
	if !ok || vf.MatchField() == "" {
		t.Fatalf("%q compiles to %T, not a one-field ValuesFilter", q, f)
	}
	return vf, vf.MatchField()
}

// matchOne is Match on a record whose field holds v alone.
func matchOne(f store.Filter, field, v string) bool {
	r := record.Record{}
	if field == record.MessageField {
		r.Message = v
	} else {
		r.Fields = []record.Field{{Name: field, Value: v}}
	}
	return f.Match(&r)
}

// checkValues fails unless MatchValues answers as Match does for each of
// vals, and returns the answers.
func checkValues(t testing.TB, q string, vals []string) []bool {
	t.Helper()
	vf, field := valuesFilterOf(t, q)
	got := make([]bool, len(vals))
	for i := range got {
		got[i] = i%2 == 0 // MatchValues must set every answer
	}
	vf.MatchValues(valuesOf(vals), got)
	for i, v := range vals {
		if want := matchOne(vf, field, v); got[i] != want {
			t.Fatalf("%q: MatchValues says %v for value %d %q of %q, Match says %v", q, got[i], i, v, vals, want)
		}
	}
	return got
}

func TestMatchValues(t *testing.T) {
	for _, tc := range []struct {
		q    string
		vals []string
		want []bool
	}{
		{`timeout`, []string{"read Timeout", "timeouts", "", "x timeout"}, []bool{true, false, false, true}},
		// A token must not run across two values, nor start inside one.
		{`timeout`, []string{"time", "out", "atimeout", "timeout_x", "TIMEOUT."}, []bool{false, false, false, false, true}},
		{`"connection refused"`, []string{"Connection  refused", "connection", "refused", "connection-refused!"}, []bool{true, false, false, true}},
		{`"connection refused"`, []string{"connection connection refused", "connection x refused"}, []bool{true, false}},
		{`web*`, []string{"webserver up", "a web", "cobweb", ""}, []bool{true, true, false, false}},
		{`a-b*`, []string{"A Bc", "a", "b", "a-b", "a x b"}, []bool{true, false, false, true, false}},
		// The Kelvin sign lowercases to 'k': the non-ASCII path.
		{`kelvin`, []string{"\u212aelvin", "kelvin", "ke\u212alvin"}, []bool{true, true, false}},
		{`"é x"`, []string{"É x", "e x", "é-X"}, []bool{true, false, true}},
		{`*refus*`, []string{"Refused", "ref", "us", "conn REFUSal", ""}, []bool{true, false, false, true, false}},
		{`*refus*`, []string{"ref", "usref", "us"}, []bool{false, false, false}},
		// The rarest byte (f) in upper case, a match across two values,
		// and hits whose value ends before the needle does.
		{`*refus*`, []string{"conn REFUSED", "REF", "US", "xrefuS", "reFU", "s"}, []bool{true, false, false, true, false, false}},
		{`*ref*sed`, []string{"REFUSED", "refused!", "Ref sed", "sed ref"}, []bool{true, false, true, false}},
		{`"CONNECTION REFUSED"`, []string{"connection REFUSED", "Connection", "REFUSED", "connection refusedx"}, []bool{true, false, false, false}},
		{`*a*b*`, []string{"xAyB", "ba", "ab"}, []bool{true, false, true}},
		{`host:web*01`, []string{"web-01", "WEB01", "web-02", "web-01x"}, []bool{true, true, false, false}},
		{"x:*\u212a*", []string{"k", "\u212a", "a"}, []bool{true, true, false}},
		{`latency_ms:>1000`, []string{"1000", "1000.5", "abc", "", "2e3", "-5"}, []bool{false, true, false, false, true, false}},
		{`status:[500 TO 599]`, []string{"500", "599", "600", "5xx"}, []bool{true, true, false, false}},
		{`level:>b`, []string{"a", "c", "b"}, []bool{false, true, false}},
		{`level:="Error"`, []string{"Error", "error", ""}, []bool{true, false, false}},
		{`level:""`, []string{"", "x"}, []bool{true, false}},
		{`level:(error OR warn)`, []string{"ERROR", "warn", "info"}, []bool{true, true, false}},
		{`status:>=500 AND NOT status:=503`, []string{"500", "503", "404"}, []bool{true, false, false}},
		{`NOT timeout`, []string{"timeout", "ok"}, []bool{false, true}},
		{`status:(>=500 OR 404)`, []string{"404", "500", "200"}, []bool{true, true, false}},
	} {
		got := checkValues(t, tc.q, tc.vals)
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%q on %q: got %v, want %v", tc.q, tc.vals, got, tc.want)
				break
			}
		}
	}
}

// valuesQueries are the filters the property and fuzz tests try.
var valuesQueries = []string{
	`timeout`, `"connection refused"`, `conn*`, `a-b*`, `a`, `k`, `"k a"`, `"a k"`, `"a b-k"`, `ab_c`, `x1`, `é`,
	`*refus*`, `*a*`, `*b`, `a*`, `*a*b*`, "*\u212a*", `x:>1000`, `x:[1 TO 5}`, `x:>b`,
	`x:="a b"`, `x:""`, `x:(a OR "b c")`, `x:a AND NOT x:b*`, `x:(/a.b/ OR 2)`,
}

// randomValue builds text from pieces that stress the matchers: tokens
// that the queries look for, case variations, separators, the Kelvin
// sign, non-ASCII letters and numbers.
func randomValue(rng *rand.Rand) string {
	pieces := []string{"a", "A", "b", "B", "k", "\u212a", "é", "É", "timeout", "TimeOut", "connection", "refused",
		"Refus", "conn", "ab_c", "x1", " ", "  ", "-", "_", ".", "1000", "1001", "2", "1e3", "\n", "ß"}
	var sb strings.Builder
	for range rng.IntN(6) {
		sb.WriteString(pieces[rng.IntN(len(pieces))])
	}
	return sb.String()
}

func TestMatchValuesProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		vals := make([]string, rng.IntN(8))
		ascii := rng.IntN(2) == 0
		for i := range vals {
			vals[i] = randomValue(rng)
			if ascii {
				// Mostly ASCII blocks take the one-pass path.
				vals[i] = strings.Map(func(r rune) rune {
					if r >= 0x80 {
						return -1
					}
					return r
				}, vals[i])
			}
		}
		for _, q := range valuesQueries {
			checkValues(t, q, vals)
		}
	}
}

func FuzzMatchValues(f *testing.F) {
	f.Add(`timeout`, "read timeout\x00timeouts\x00\x00TIMEOUT")
	f.Add(`"connection refused"`, "connection\x00refused\x00Connection Refused")
	f.Add(`*refus*`, "ref\x00us\x00REFUSED")
	f.Add(`web*`, "cobweb\x00web-1")
	f.Add(`kelvin`, "\u212aelvin\x00kelvin")
	f.Add(`x:>1000`, "1000\x001001\x00abc")
	f.Add(`x:(a OR NOT b*)`, "a\x00bc\x00c")
	f.Fuzz(func(t *testing.T, q, data string) {
		parsed, err := Parse(q)
		if err != nil {
			return
		}
		vf, ok := parsed.Compile().(store.ValuesFilter)
		if !ok || vf.MatchField() == "" {
			return
		}
		field := vf.MatchField()
		vals := strings.Split(data, "\x00")
		got := make([]bool, len(vals))
		vf.MatchValues(valuesOf(vals), got)
		for i, v := range vals {
			if want := matchOne(vf, field, v); got[i] != want {
				t.Fatalf("%q: MatchValues says %v for value %d %q, Match says %v", q, got[i], i, v, want)
			}
		}
	})
}

func BenchmarkMatchValues(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	vals := make([]string, 4096)
	for i := range vals {
		vals[i] = "GET /api/v1/items status=200 user=" + string(rune('a'+rng.IntN(26))) + " took 12ms"
		if i%50 == 0 {
			vals[i] = "dial tcp 10.0.0.1:5432: connect: connection refused (timeout)"
		}
	}
	// bench/altgen's messages: mixed-case words ("User LOGIN failed").
	var mixed []string
	for _, r := range altgen.Records(1, 4096, time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)) {
		mixed = append(mixed, r.Message)
	}
	for _, set := range []struct {
		name    string
		vals    []string
		queries []string
	}{
		{"gen", vals, []string{`timeout`, `"connection refused"`, `*refus*`}},
		{"altgen", mixed, []string{`login`, `"timed out"`, `*declin*`}},
	} {
		vs := valuesOf(set.vals)
		match := make([]bool, len(set.vals))
		for _, q := range set.queries {
			vf, _ := valuesFilterOf(b, q)
			b.Run(set.name+"/"+q, func(b *testing.B) {
				b.SetBytes(int64(len(vs.Data)))
				for b.Loop() {
					vf.MatchValues(vs, match)
				}
			})
		}
	}
}

// TestFoldIndex checks foldIndex against strings.Index on the text
// lowercased, over random text of both cases and needles whose rarest
// byte is a letter or not, asked at places that go forward as the
// filters ask them.
func TestFoldIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	alphabet := "abcfmzABCFMZ tq-"
	rnd := func(n int, alphabet string) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	for range 20000 {
		s, needle := rnd(rng.IntN(40), alphabet), rnd(1+rng.IntN(4), "abcfmz tq-")
		k := rarestByte(needle)
		x := newFoldIndex(s, needle, k)
		low := strings.ToLower(s)
		for from := 0; from < len(s); from += 1 + rng.IntN(5) {
			want := strings.Index(low[from:], needle)
			if want >= 0 {
				want += from
			}
			if got := x.index(from); got != want {
				t.Fatalf("foldIndex(%q, %q, %d).index(%d) = %d, strings.Index of the lowercase says %d", s, needle, k, from, got, want)
			}
			if want < 0 {
				break
			}
			from = want
		}
	}
	for _, tc := range []struct {
		s, needle string
		from      int
		want      int
	}{
		{"Connection REFUSED", "refus", 0, 11},
		{"Connection REFUSED", "refus", 12, -1},
		{"refUSREfus", "refus", 1, 5},
		{"REF", "refus", 0, -1},
		{"a-F", "-f", 0, 1},
		{"1000", "00", 2, 2},
	} {
		x := newFoldIndex(tc.s, tc.needle, rarestByte(tc.needle))
		if got := x.index(tc.from); got != tc.want {
			t.Errorf("foldIndex(%q, %q).index(%d) = %d, want %d", tc.s, tc.needle, tc.from, got, tc.want)
		}
	}
	for _, tc := range []struct {
		needle string
		k      int
	}{{"timeout", 2}, {"refus", 2}, {"a", 0}, {"e\x00", 1}, {"zz", 0}} {
		if k := rarestByte(tc.needle); k != tc.k {
			t.Errorf("rarestByte(%q) = %d, want %d", tc.needle, k, tc.k)
		}
	}
}
