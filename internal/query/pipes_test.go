package query

import (
	"context"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

// TestPipesExecute pins the rows of the newer pipes and stats functions on
// testData.
func TestPipesExecute(t *testing.T) {
	tests := []struct{ q, want string }{
		{`* | stats quantile(0.5, latency_ms) as p50, quantile(1, latency_ms) as pmax`, `{"p50":999,"pmax":30000}`},
		{`* | stats count() as n, rate() as r by _time:1h`,
			`{"_time":"2024-05-01T10:00:00Z","n":4,"r":0.0011111111111111111} {"_time":"2024-05-01T11:00:00Z","n":2,"r":0.0005555555555555556} {"_time":"2024-05-01T12:00:00Z","n":2,"r":0.0005555555555555556}`},
		{`* | top 2 by service`, `{"service":"payments","count":4} {"service":"checkout","count":3}`},
		{`* | stats count() as n by service | filter n:>2`, `{"service":"checkout","n":3} {"service":"payments","n":4}`},
		{`* | stats count() as n by service | where n:<2 OR service:pay*`, `{"service":"auth","n":1} {"service":"payments","n":4}`},
		{`level:error | fields service, status as code | limit 2`, `{"service":"auth","code":"503"} {"service":"payments","code":"500"}`},
		{`refused | extract "connection <what>" | fields what`, `{"what":""} {"what":"refused by db"} {"what":""}`},
		{`* | extract "after <secs>s" | filter secs:>10 | fields service, secs`, `{"service":"payments","secs":"30"}`},
		{`* | unpack_logfmt from kv | stats count() as n by a`, `{"a":"","n":7} {"a":"x y","n":1}`},
		{`* | unpack_json from js | filter k:>1 | fields k, o`, `{"k":"2","o":"{\"p\":1}"}`},
	}
	src := testData()
	src[0].Fields = append(src[0].Fields, recordField("kv", `a="x y" b=2 bare`))
	src[1].Fields = append(src[1].Fields, recordField("js", `{"k":2,"o":{"p":1}}`))
	src[2].Fields = append(src[2].Fields, recordField("js", `{"k":1}`), recordField("kv", "a"))
	for _, tt := range tests {
		if got := strings.Join(run(t, src, tt.q, Options{}), " "); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.q, got, tt.want)
		}
	}
}

func TestStatsMemoryLimit(t *testing.T) {
	q, _ := Parse(`* | stats count_uniq(_msg) by service`)
	err := Execute(context.Background(), testData(), q, Options{MaxMemory: 100}, func(Row) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "query memory limit") || !strings.Contains(err.Error(), "narrow the query") {
		t.Fatalf("err = %v, want the memory limit named with how to narrow", err)
	}
}

func recordField(name, value string) record.Field { return record.Field{Name: name, Value: value} }
