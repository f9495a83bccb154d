package forward

import (
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/testutil/fluentclient"
)

func TestFluentLoggerGolang(t *testing.T) {
	tests := []struct {
		name  string
		send  fluentclient.Options
		check func(t *testing.T, ts *testServer)
	}{
		{name: "sync without ack", send: fluentclient.Options{N: 200}},
		{name: "sync with ack", send: fluentclient.Options{N: 200, Ack: true}},
		{name: "async without ack", send: fluentclient.Options{N: 500, Async: true}},
		{name: "async with ack", send: fluentclient.Options{N: 500, Async: true, Ack: true}},
		{name: "EventTime", send: fluentclient.Options{N: 50, SubSecond: true, Ack: true}, check: func(t *testing.T, ts *testServer) {
			want := fluentclient.Base.Add(7 * time.Millisecond).UnixNano()
			found := false
			for _, r := range ts.sink.records() {
				if s, _ := r.Get("seq"); s == "7" {
					found = true
					if r.Time != want {
						t.Errorf("seq 7 time = %d, want %d", r.Time, want)
					}
				}
			}
			if !found {
				t.Error("no record with seq 7")
			}
		}},
		{name: "docker-driver-shaped record", send: fluentclient.Options{N: 100, Docker: true, Ack: true, Tag: "docker.web"}, check: func(t *testing.T, ts *testServer) {
			for _, r := range ts.sink.records() {
				name, _ := r.Get("container_name")
				src, _ := r.Get("source")
				if name != "web" || src != "stdout" || r.StreamString() != `{container_id="0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",container_name="web",tag="docker.web"}` {
					t.Fatalf("record %s", dump([]record.Record{r}))
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := startTest(t, Config{}, &memSink{})
			fluentclient.Send(t, ts.Addr(), tc.send)
			// Without acks the client is done once it has written; the
			// server may still be storing the last batch.
			deadline := time.Now().Add(10 * time.Second)
			for len(ts.sink.records()) < tc.send.N && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			recs := ts.sink.records()
			if len(recs) != tc.send.N {
				t.Fatalf("stored %d records, want exactly %d", len(recs), tc.send.N)
			}
			seen := map[string]bool{}
			for _, r := range recs {
				seen[r.Message] = true
			}
			if len(seen) != tc.send.N {
				t.Fatalf("%d distinct messages among %d records", len(seen), tc.send.N)
			}
			if tc.check != nil {
				tc.check(t, ts)
			}
		})
	}
}
