package forward

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

var (
	clientOnce sync.Once
	clientPath string
	clientErr  error
	clientOut  []byte
)

// fluentClient builds testdata/fluentclient, a program that sends with
// github.com/fluent/fluent-logger-golang (the library of Docker's fluentd
// log driver). It is a module of its own so that the library stays out of
// Sluice's dependencies.
func fluentClient(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the fluent-logger-golang client: skipped with -short")
	}
	clientOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fluentclient")
		if err != nil {
			clientErr = err
			return
		}
		clientPath = filepath.Join(dir, "fluentclient")
		cmd := exec.Command("go", "build", "-o", clientPath, ".")
		cmd.Dir = filepath.Join("testdata", "fluentclient")
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
		clientOut, clientErr = cmd.CombinedOutput()
	})
	if clientErr != nil {
		t.Fatalf("build fluentclient: %v\n%s", clientErr, clientOut)
	}
	return clientPath
}

func TestFluentLoggerGolang(t *testing.T) {
	bin := fluentClient(t)
	tests := []struct {
		name  string
		args  []string
		n     int
		check func(t *testing.T, ts *testServer)
	}{
		{name: "sync without ack", n: 200},
		{name: "sync with ack", n: 200, args: []string{"-ack"}},
		{name: "async without ack", n: 500, args: []string{"-async"}},
		{name: "async with ack", n: 500, args: []string{"-async", "-ack"}},
		{name: "EventTime", n: 50, args: []string{"-subsecond", "-ack"}, check: func(t *testing.T, ts *testServer) {
			want := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC).Add(7 * time.Millisecond).UnixNano()
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
		{name: "docker-driver-shaped record", n: 100, args: []string{"-docker", "-ack", "-tag", "docker.web"}, check: func(t *testing.T, ts *testServer) {
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
			args := append([]string{"-addr", ts.Addr(), "-n", strconv.Itoa(tc.n)}, tc.args...)
			out, err := exec.Command(bin, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("fluentclient %v: %v\n%s", args, err, out)
			}
			// Without acks the client is done once it has written; the
			// server may still be storing the last batch.
			deadline := time.Now().Add(10 * time.Second)
			for len(ts.sink.records()) < tc.n && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			recs := ts.sink.records()
			if len(recs) != tc.n {
				t.Fatalf("stored %d records, want exactly %d", len(recs), tc.n)
			}
			seen := map[string]bool{}
			for _, r := range recs {
				seen[r.Message] = true
			}
			if len(seen) != tc.n {
				t.Fatalf("%d distinct messages among %d records", len(seen), tc.n)
			}
			if tc.check != nil {
				tc.check(t, ts)
			}
		})
	}
}
