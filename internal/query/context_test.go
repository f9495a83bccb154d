package query

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

func TestContext(t *testing.T) {
	src := testData()
	hit := src[3] // payments, minute 30
	got, err := Context(context.Background(), src, hit.StreamString(), hit.Time, 2, 5, Options{})
	if err != nil {
		t.Fatal(err)
	}
	msgs := func(rs []*record.Record) string {
		var m []string
		for _, r := range rs {
			m = append(m, r.Message)
		}
		return strings.Join(m, "|")
	}
	for _, c := range []struct{ name, got, want string }{
		{"before", msgs(got.Before), "payment accepted|upstream timeout after 30s"},
		{"at", msgs(got.At), "connection refused by db"},
		{"after", msgs(got.After), "refused connection, retrying"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	// Before 1 takes the nearest, across the growing windows.
	got, err = Context(context.Background(), src, hit.StreamString(), hit.Time, 1, 0, Options{})
	if err != nil || msgs(got.Before) != "upstream timeout after 30s" || got.After != nil {
		t.Errorf("before 1 = %q, after %v (err %v)", msgs(got.Before), got.After, err)
	}
}

func TestExplain(t *testing.T) {
	q, err := Parse(`_time:>=2024-05-01T10:30:00Z service:payments *refused* NOT x:* | extract "by <who>" | stats count() as n by who | sort by n`)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Explain(context.Background(), testData(), q, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(p)
	for _, want := range []string{
		`"from":"2024-05-01T10:30:00Z"`, `"node":"TimeRange"`, `"index":"tokens [payments] of service"`,
		`"text":"*refused*","index":"none: no whole token to look up"`, `"index":"none: NOT is checked record by record"`,
		`{"pipe":"extract \"by \u003cwho\u003e\"","input":"every matching record"}`,
		`{"pipe":"stats count() as n by who","input":"every matching record"}`,
		`{"pipe":"sort by n","input":"the rows of the pipe before"}`, `"rows":2`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("plan lacks %s:\n%s", want, b)
		}
	}
}
