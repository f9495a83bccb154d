package gen

import (
	"strconv"
	"testing"
	"time"
)

func rows(kv ...string) []map[string]string {
	// kv holds key, n pairs for column "k".
	var out []map[string]string
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, map[string]string{"k": kv[i], "n": kv[i+1]})
	}
	return out
}

func TestAnswerCheck(t *testing.T) {
	groups := Answer{By: "k", Groups: []Group{{"a", 5}, {"b", 3}, {"c", 3}, {"d", 1}}}
	top := groups
	top.Limit = 2
	top3 := groups
	top3.Limit = 3
	// Two listed groups and three unlisted ones of one record each.
	many := Answer{By: "k", Groups: []Group{{"", 7}, {"r", 3}}, RestGroups: 3, Rest: 1}
	manyTop := many
	manyTop.Limit = 3
	hist := Answer{By: "_time", Groups: []Group{{"2026-11-25T10:00:00Z", 2}, {"2026-11-25T10:01:00Z", 1}}}
	tests := []struct {
		name string
		a    Answer
		rows []map[string]string
		ok   bool
	}{
		{"count", Answer{Count: 12}, []map[string]string{{"n": "12"}}, true},
		{"count as float", Answer{Count: 12}, []map[string]string{{"n": "12.0"}}, true},
		{"count in exponent form", Answer{Count: 1200}, []map[string]string{{"n": "1.2e3"}}, true},
		{"count wrong", Answer{Count: 12}, []map[string]string{{"n": "13"}}, false},
		{"count fraction", Answer{Count: 12}, []map[string]string{{"n": "12.5"}}, false},
		{"count missing column", Answer{Count: 12}, []map[string]string{{"count": "12"}}, false},
		{"empty key as a missing column", manyTop, []map[string]string{{"n": "7"}, {"k": "r", "n": "3"}, {"k": "x", "n": "1"}}, true},
		{"bucket column missing", hist, []map[string]string{{"n": "2"}}, false},
		{"count two rows", Answer{Count: 12}, []map[string]string{{"n": "12"}, {"n": "12"}}, false},
		{"zero as no rows", Answer{Count: 0}, nil, true},
		{"no rows", Answer{Count: 1}, nil, false},
		{"groups any order", groups, rows("d", "1", "b", "3", "a", "5", "c", "3"), true},
		{"group missing", groups, rows("a", "5", "b", "3", "c", "3"), false},
		{"group extra", groups, rows("a", "5", "b", "3", "c", "3", "d", "1", "e", "1"), false},
		{"group wrong", groups, rows("a", "5", "b", "3", "c", "4", "d", "1"), false},
		{"group twice", groups, rows("a", "5", "a", "5", "b", "3", "c", "3", "d", "1"), false},
		{"group without key", groups, []map[string]string{{"n": "5"}}, false},
		{"top", top, rows("a", "5", "b", "3"), true},
		{"top tie at the limit broken the other way", top, rows("a", "5", "c", "3"), true},
		{"top ties in either order", top3, rows("a", "5", "c", "3", "b", "3"), true},
		{"top out of order", top, rows("b", "3", "a", "5"), false},
		{"top too many", top, rows("a", "5", "b", "3", "c", "3"), false},
		{"top wrong group", top, rows("a", "5", "d", "3"), false},
		{"rest", many, rows("x", "1", "", "7", "y", "1", "r", "3", "z", "1"), true},
		{"rest group short", many, rows("x", "1", "", "7", "y", "1", "r", "3"), false},
		{"rest group extra", many, rows("x", "1", "", "7", "y", "1", "r", "3", "z", "1", "w", "1"), false},
		{"rest group counted twice", many, rows("x", "2", "", "7", "y", "1", "r", "3"), false},
		{"rest group twice", many, rows("x", "1", "", "7", "x", "1", "r", "3", "z", "1"), false},
		{"listed group missing among rest", many, rows("x", "1", "", "7", "y", "1", "w", "1", "z", "1"), false},
		{"rest top", manyTop, rows("", "7", "r", "3", "q", "1"), true},
		{"rest top listed group left out", manyTop, rows("", "7", "q", "1", "s", "1"), false},
		{"rest top listed key with the rest's count", manyTop, rows("", "7", "r", "1", "q", "1"), false},
		{"rest top too few", manyTop, rows("", "7", "r", "3"), false},
		{"rest top all", Answer{By: "k", Groups: []Group{{"r", 3}}, RestGroups: 1, Rest: 1, Limit: 5}, rows("r", "3", "q", "1"), true},
		{"histogram normalises times", hist, []map[string]string{
			{"_time": "2026-11-25T10:00:00.000Z", "n": "2"},
			{"_time": "2026-11-25T11:01:00+01:00", "n": "1"},
		}, true},
		{"histogram bad time", hist, []map[string]string{{"_time": "10:00", "n": "2"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.a.Check(tt.rows)
			if (err == nil) != tt.ok {
				t.Fatalf("Check = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func FuzzParseCount(f *testing.F) {
	for _, s := range []string{"0", "12", "12.0", "1e3", "-4", "1.5", "", "NaN", "9007199254740993"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseCount(s)
		if err != nil {
			return
		}
		// Whatever is accepted must denote exactly the integer returned.
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != float64(n) {
			t.Fatalf("parseCount(%q) = %d, but the text is %v (%v)", s, n, f, ferr)
		}
	})
}

func FuzzAnswerCheck(f *testing.F) {
	f.Add("a", "1", "2026-11-25T10:00:00Z")
	f.Add("b", "1.0", "2026-11-25T10:00:00.5Z")
	f.Fuzz(func(t *testing.T, key, n, ts string) {
		c, cerr := parseCount(n)
		groups := Answer{By: "k", Groups: []Group{{"a", 1}}}
		err := groups.Check([]map[string]string{{"k": key, "n": n}})
		if want := key == "a" && cerr == nil && c == 1; (err == nil) != want {
			t.Fatalf("Check(k=%q n=%q) = %v, want ok=%v", key, n, err, want)
		}
		// Two listed groups and three unlisted ones of one record each.
		many := Answer{By: "k", Groups: []Group{{"", 7}, {"r", 3}}, RestGroups: 3, Rest: 1}
		manyTop := many
		manyTop.Limit = 3
		hist := Answer{By: "_time", Groups: []Group{{"2026-11-25T10:00:00Z", 1}}}
		err = hist.Check([]map[string]string{{"_time": ts, "n": "1"}})
		tm, terr := time.Parse(time.RFC3339Nano, ts)
		if want := terr == nil && tm.Equal(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)); (err == nil) != want {
			t.Fatalf("Check(_time=%q) = %v, want ok=%v", ts, err, want)
		}
	})
}
