package query

import (
	"reflect"
	"testing"
	"time"
)

func TestRequiredTokens(t *testing.T) {
	tests := []struct {
		pattern string
		want    []string
	}{
		{`error`, nil}, // may be part of "errors"
		{`connection refused to db`, []string{"refused", "to"}},
		{`^Connection refused`, []string{"connection"}},
		{`^timeout$`, []string{"timeout"}},
		{`user id=\d+ failed`, []string{"id"}},
		{`(?i)conn refused x`, nil}, // case folding: no tokens
		{`a b|c d e`, nil},          // alternation: no tokens
		{`(`, nil},
	}
	for _, tt := range tests {
		if got := requiredTokens(tt.pattern); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("requiredTokens(%q) = %q, want %q", tt.pattern, got, tt.want)
		}
	}
}

func TestWildcardTokens(t *testing.T) {
	tests := []struct {
		pattern string
		want    []string
	}{
		{`*error*`, nil},
		{`web-*-prod`, []string{"web", "prod"}},
		{`*GET /api/v1 *`, []string{"api", "v1"}}, // "GET" may end "xGET"
		{`ab*cd`, nil},
	}
	for _, tt := range tests {
		if got := newWildcardFilter(Wildcard{Field: "x", Pattern: tt.pattern}).toks; !reflect.DeepEqual(got, tt.want) {
			t.Errorf("wildcard %q tokens = %q, want %q", tt.pattern, got, tt.want)
		}
	}
}

func TestTimeRange(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	ns := func(s string) int64 { x, _ := time.Parse(time.RFC3339, s); return x.UnixNano() }
	tests := []struct {
		q        string
		from, to int64
	}{
		{`error`, 0, 0},
		{`_time:>now-1h`, ns("2024-05-01T11:00:00Z") + 1, 0},
		{`_time:[2024-05-01 TO 2024-05-02} error`, ns("2024-05-01T00:00:00Z"), ns("2024-05-02T00:00:00Z")},
		{`_time:>=2024-05-01T10:00:00Z _time:<now`, ns("2024-05-01T10:00:00Z"), ns("2024-05-01T12:00:00Z")},
		{`_time:>now OR error`, 0, 0},
		{`_time:>now _time:<now-1h`, 1, 1},
	}
	for _, tt := range tests {
		q, err := Parse(tt.q)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.q, err)
		}
		if from, to := q.TimeRange(now); from != tt.from || to != tt.to {
			t.Errorf("%s: TimeRange = %d, %d, want %d, %d", tt.q, from, to, tt.from, tt.to)
		}
	}
}
