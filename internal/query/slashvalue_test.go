package query

import (
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

// TestSlashValues: a value after ':' that starts with '/' is a regular
// expression only when its closing '/' ends the value; a Kibana user's
// path prefix is a literal, and a value that could be either is an error
// showing both readings.
func TestSlashValues(t *testing.T) {
	recs := []*record.Record{
		{Fields: []record.Field{{Name: "path", Value: "/api/v1/users"}}},
		{Fields: []record.Field{{Name: "path", Value: "/api/v2/users"}}},
		{Fields: []record.Field{{Name: "path", Value: "/static/app.js"}}},
		{Fields: []record.Field{{Name: "path", Value: "/other/api/v1/x"}}},
	}
	tests := []struct {
		q    string
		want []int // indexes of recs matched
		err  string
	}{
		{q: `path:/api/v1/*`, want: []int{0}},
		{q: `path:/api/v1/users`, want: []int{0}},
		{q: `path:/^\/api\/v\d\//`, want: []int{0, 1}},
		{q: `path:/static/`, want: []int{2}},
		{q: `(path:/v2/)`, want: []int{1}},
		{q: `path:/v2/ OR path:/static/`, want: []int{1, 2}},
		{q: `path:/api/v1/`, err: `/api/v1/ is ambiguous: it reads as the regular expression /api/ followed by "v1/", or as the value "/api/v1/"`},
		{q: `path:/api`, want: []int{0, 1, 3}}, // words, as any value
		{q: `path:/API/V1/*`, want: []int{0}},  // patterns ignore case
	}
	for _, tt := range tests {
		q, err := Parse(tt.q)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v, want one containing %q", tt.q, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.q, err)
			continue
		}
		f := q.Compile()
		var got []int
		for i, r := range recs {
			if f.Match(r) {
				got = append(got, i)
			}
		}
		if !equalInts(got, tt.want) {
			t.Errorf("%s (%s): matched %v, want %v", tt.q, q.String(), got, tt.want)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
