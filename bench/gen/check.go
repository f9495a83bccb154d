package gen

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// maxReported bounds how many differences Check lists, so that a broken
// histogram does not bury the report.
const maxReported = 5

// Check compares a server's answer with a. Each row maps column names to
// values as the server sent them (numbers in their JSON text); the count is
// column "n". A single count of zero may also come as no rows at all.
func (a Answer) Check(rows []map[string]string) error {
	if a.By == "" {
		return a.checkCount(rows)
	}
	got := make([]Group, 0, len(rows))
	seen := make(map[string]bool, len(rows))
	cols := strings.Split(a.By, ",")
	for i, row := range rows {
		key, err := groupKey(cols, row)
		if err != nil {
			return fmt.Errorf("row %d: %w", i, err)
		}
		n, err := parseCount(row["n"])
		if err != nil {
			return fmt.Errorf("row %d (%s=%s): %w", i, a.By, key, err)
		}
		if seen[key] {
			return fmt.Errorf("row %d: group %s=%s appears twice", i, a.By, key)
		}
		seen[key] = true
		got = append(got, Group{Key: key, N: n})
	}
	want := make(map[string]int64, len(a.Groups))
	for _, g := range a.Groups {
		want[g.Key] = g.N
	}

	// keyDiff says what is wrong with a group's count, given its key: a
	// listed key must have its count, any other one the count of the rest.
	keyDiff := func(g Group) string {
		w, ok := want[g.Key]
		switch {
		case ok && w == g.N:
			return ""
		case !ok && a.RestGroups > 0 && g.N == a.Rest:
			return ""
		case !ok && a.RestGroups > 0:
			return fmt.Sprintf("%s=%s: n=%d, want %d (an unlisted group)", a.By, g.Key, g.N, a.Rest)
		}
		return fmt.Sprintf("%s=%s: n=%d, want %d", a.By, g.Key, g.N, w)
	}

	var diffs []string
	if a.Limit > 0 {
		k := min(int64(a.Limit), int64(len(a.Groups))+a.RestGroups)
		if int64(len(got)) != k {
			return fmt.Errorf("got %d rows, want %d", len(got), k)
		}
		// Comparing the counts position by position and each group's count
		// by key accepts exactly the orders that ties allow.
		for i, g := range got {
			wantN := a.Rest
			if i < len(a.Groups) {
				wantN = a.Groups[i].N
			}
			if g.N != wantN {
				diffs = append(diffs, fmt.Sprintf("row %d: n=%d, want %d", i, g.N, wantN))
			}
			if d := keyDiff(g); d != "" {
				diffs = append(diffs, d)
			}
		}
		return diffError(diffs)
	}
	var rest int64
	for _, g := range got {
		if _, listed := want[g.Key]; !listed && a.RestGroups > 0 {
			rest++
		}
		if d := keyDiff(g); d != "" {
			diffs = append(diffs, d)
		}
	}
	if rest != a.RestGroups {
		diffs = append(diffs, fmt.Sprintf("%d unlisted groups, want %d", rest, a.RestGroups))
	}
	for _, w := range a.Groups {
		if !seen[w.Key] {
			diffs = append(diffs, fmt.Sprintf("%s=%s: missing, want n=%d", a.By, w.Key, w.N))
		}
	}
	return diffError(diffs)
}

// groupKey is a row's key: its values of cols joined by KeySep. A group of
// records without a field has the empty value, which VictoriaLogs sends by
// leaving the column out; a "_time" bucket must be there, an RFC 3339
// time, and is compared in UTC with any fraction kept, so that an
// unaligned bucket cannot pass.
func groupKey(cols []string, row map[string]string) (string, error) {
	vals := make([]string, len(cols))
	for j, col := range cols {
		v, ok := row[col]
		if col == "_time" {
			if !ok {
				return "", fmt.Errorf("no column %q: %v", col, row)
			}
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return "", fmt.Errorf("bucket %q is not an RFC 3339 time: %w", v, err)
			}
			v = t.UTC().Format(time.RFC3339Nano)
		}
		vals[j] = v
	}
	return strings.Join(vals, KeySep), nil
}

func (a Answer) checkCount(rows []map[string]string) error {
	if len(rows) == 0 {
		if a.Count == 0 {
			return nil
		}
		return fmt.Errorf("no rows, want n=%d", a.Count)
	}
	if len(rows) > 1 {
		return fmt.Errorf("got %d rows, want one", len(rows))
	}
	n, err := parseCount(rows[0]["n"])
	if err != nil {
		return err
	}
	if n != a.Count {
		return fmt.Errorf("n=%d, want %d", n, a.Count)
	}
	return nil
}

// parseCount reads a count that may be written as an integer or as a float
// with an integral value ("12", "12.0", "1.2e1").
func parseCount(s string) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("no count in column n")
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("count %q is not an integer", s)
	}
	return int64(f), nil
}

func diffError(diffs []string) error {
	if len(diffs) == 0 {
		return nil
	}
	more := ""
	if len(diffs) > maxReported {
		more = fmt.Sprintf(" (and %d more)", len(diffs)-maxReported)
		diffs = diffs[:maxReported]
	}
	return fmt.Errorf("%s%s", strings.Join(diffs, "; "), more)
}
