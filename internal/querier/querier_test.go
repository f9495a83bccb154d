package querier

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/api"
	"github.com/sluice-log/sluice/internal/pipeline"
	"github.com/sluice-log/sluice/internal/query"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/sink"
	"github.com/sluice-log/sluice/internal/testutil/testcert"
	"github.com/sluice-log/sluice/internal/testutil/testpipeline"
	"github.com/sluice-log/sluice/internal/tlsreload"
)

// indexer serves the API over a pipeline holding recs, saying in its
// status that it is a member of group and holds their partitions.
func indexer(t *testing.T, group string, recs []record.Record) *httptest.Server {
	srv, _ := indexerPipeline(t, group, recs)
	return srv
}

func indexerPipeline(t *testing.T, group string, recs []record.Record) (*httptest.Server, *pipeline.Pipeline) {
	t.Helper()
	h, p := indexerHandler(t, group, recs)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, p
}

// indexerHandler is indexerPipeline's API, for a server of the test's own.
func indexerHandler(t *testing.T, group string, recs []record.Record) (http.Handler, *pipeline.Pipeline) {
	t.Helper()
	p := testpipeline.Open(t, recs, nil)
	offsets := map[int32][]int64{}
	for _, r := range recs {
		p := int32(partitionOf(r))
		offsets[p] = append(offsets[p], int64(offsetOf(r)))
	}
	ks := &api.KafkaStatus{Topic: "logs", Group: group, Assigned: []int32{}}
	for p, offs := range offsets {
		slices.Sort(offs)
		var held sink.Ranges
		for _, o := range offs {
			held = held.Add(o, o, false)
		}
		ks.Stored = append(ks.Stored, api.StoredPartition{Topic: "logs", Partition: p, Done: offs[len(offs)-1], Ranges: held})
	}
	reg := prometheus.NewRegistry()
	return api.New(api.Config{
		Backend:  p,
		Limits:   api.QueryLimits{DefaultLimit: 100, MaxLimit: 1000, MaxGroups: 1000, Timeout: 10 * time.Second},
		Gatherer: reg, Registry: reg, Log: slog.New(slog.DiscardHandler),
		Kafka: func() (*api.KafkaStatus, error) { return ks, nil },
	}), p
}

// TestQuerierClientCertificate: an indexer whose listener requires client
// certificates signed by its CA answers a querier that presents one
// (Options.TLS from tlsreload.Client, as querier.tls_cert_file builds it)
// and not one that does not.
func TestQuerierClientCertificate(t *testing.T) {
	h, _ := indexerHandler(t, "A", kafkaRecords(40))
	ca := testcert.NewCA(t)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	srvCert, srvKey := ca.Issue(t, "127.0.0.1").WriteFiles(t, t.TempDir())
	srvTLS, err := tlsreload.Config(tlsreload.Files{Cert: srvCert, Key: srvKey, ClientCA: caFile}, time.Second, quiet)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = srvTLS
	srv.StartTLS()
	defer srv.Close()
	cliCert, cliKey := ca.Issue(t, "querier").WriteFiles(t, t.TempDir())
	for _, tt := range []struct {
		name  string
		files tlsreload.ClientFiles
		up    bool
	}{
		{"with its client certificate", tlsreload.ClientFiles{CA: caFile, Cert: cliCert, Key: cliKey}, true},
		{"without one", tlsreload.ClientFiles{CA: caFile}, false},
	} {
		cfg, err := tlsreload.Client(tt.files, time.Second, quiet)
		if err != nil {
			t.Fatal(err)
		}
		q := New(Options{Indexers: []string{srv.URL}, TLS: cfg})
		q.pollAll(context.Background())
		if st := q.Indexers()[0]; st.Up != tt.up || tt.up && st.Group != "A" {
			t.Errorf("%s: indexer up %v (group %q, error %q), want up %v", tt.name, st.Up, st.Group, st.Error, tt.up)
		}
	}
}

// kafkaRecords are n records of 4 partitions, with their Kafka
// coordinates as the store sink writes them.
func kafkaRecords(n int) []record.Record {
	base := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	offsets := map[int]int{}
	var recs []record.Record
	for i := range n {
		p := i % 4
		level := []string{"info", "warn", "error"}[i%3]
		recs = append(recs, record.Record{
			Time:    base.Add(time.Duration(i) * time.Second).UnixNano(),
			Stream:  []record.Field{{Name: "service", Value: fmt.Sprintf("svc%d", i%7)}},
			Message: fmt.Sprintf("%s request %d", level, i),
			Fields: []record.Field{
				{Name: "level", Value: level},
				{Name: "latency", Value: strconv.FormatFloat(float64(i%97)*1.25+0.1, 'f', -1, 64)},
				{Name: sink.FieldTopic, Value: "logs"},
				{Name: sink.FieldPartition, Value: strconv.Itoa(p)},
				{Name: sink.FieldOffset, Value: strconv.Itoa(offsets[p])},
			},
		})
		offsets[p]++
	}
	return recs
}

func partitionOf(r record.Record) int {
	v, _ := r.Get(sink.FieldPartition)
	n, _ := strconv.Atoi(v)
	return n
}

func offsetOf(r record.Record) int {
	v, _ := r.Get(sink.FieldOffset)
	n, _ := strconv.Atoi(v)
	return n
}

var querierTestQueries = []string{
	`*`,
	`error | sort by latency desc | limit 5`,
	`* | stats count() as n, sum(latency) as s, avg(latency) as a, min(latency), max(latency), count_uniq(service) as u, quantile(0.9, latency) as p90, rate() by level`,
	`* | top 3 by service`,
	`* | stats count() as n by _time:1m | sort by n desc | limit 3`,
	`* | flow start=level:info end=level:error key=service within=10s`,
	`level:(info OR error) | flow start=level:info end=level:error key=latency within=5m | limit 4`,
}

// TestQuerierCopies runs queries through a querier over real API servers
// holding two copies of a topic: group A split over a1 and a2 (partition
// 2's history split between them, offsets 40 to 49 in both, as a batch
// consumed again after a crash before its offset commit), group B on b1,
// which lacks partition 3. Whatever copy a plan picks, the answer is that
// of one store holding every record once, and what no copy holds is
// named.
func TestQuerierCopies(t *testing.T) {
	recs := kafkaRecords(400)
	var a1, a2, b1, part3 []record.Record
	for _, r := range recs {
		p := partitionOf(r)
		if p < 2 || p == 2 && offsetOf(r) < 50 {
			a1 = append(a1, r)
		}
		if p == 2 && offsetOf(r) >= 40 || p == 3 {
			a2 = append(a2, r)
		}
		if p == 3 {
			part3 = append(part3, r)
		} else {
			b1 = append(b1, r)
		}
	}
	all := testpipeline.Open(t, recs, nil)
	sa1, sa2, sb1 := indexer(t, "A", a1), indexer(t, "A", a2), indexer(t, "B", b1)
	ctx := context.Background()
	q := New(Options{Indexers: []string{sa1.URL, sa2.URL, sb1.URL}})
	q.pollAll(ctx)

	opts := query.Options{Limit: 50, Now: time.Now()}
	run := func(e api.Engine, qs string) ([]string, *api.Partial) {
		t.Helper()
		qq, err := query.Parse(qs)
		if err != nil {
			t.Fatal(err)
		}
		var rows []string
		p, err := e.Query(ctx, qq, opts, func(r query.Row) error {
			rows = append(rows, string(r.AppendJSON(nil)))
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", qs, err)
		}
		return rows, p
	}
	local := api.NewLocalEngine(all)
	check := func(when string) {
		t.Helper()
		for _, qs := range querierTestQueries {
			want, _ := run(local, qs)
			// Twice: successive queries prefer another group.
			for range 2 {
				got, p := run(q, qs)
				if p != nil || !slices.Equal(got, want) {
					t.Errorf("%s: %s:\n querier %v (partial %v)\n one store %v", when, qs, got, p, want)
				}
			}
		}
	}
	// Group A holds offsets twice; partition by partition, a1 and a2
	// restricted to their offsets of partition 2.
	check("all up")
	checkFieldsAndContext(t, q, local, recs[201])

	// Group B lacks partition 3, so with a1 down no group is complete:
	// partition by partition, b1 restricted to partitions 0 to 2, a2 to
	// partition 3 (it also holds part of partition 2, which b1 answers
	// whole).
	sa1.Close()
	check("a1 down, not yet noticed")
	q.pollAll(ctx)
	check("a1 down")
	checkFieldsAndContext(t, q, local, recs[201])

	// With b1 down as well, partitions 0 to 2 have no copy left.
	sb1.Close()
	got, p := run(q, `* | stats count() as n`)
	if want := fmt.Sprintf(`{"n":%d}`, len(part3)); !slices.Equal(got, []string{want}) {
		t.Errorf("a1 and b1 down: %v, want %s (partition 3 alone)", got, want)
	}
	var skipped []string
	if p != nil {
		for _, s := range p.Skipped {
			skipped = append(skipped, s.Kind+" "+s.Name)
		}
	}
	slices.Sort(skipped)
	want := []string{"indexer " + sa1.URL, "indexer " + sb1.URL}
	slices.Sort(want)
	if !slices.Equal(skipped, want) {
		t.Errorf("a1 and b1 down: skipped %v, want %v", skipped, want)
	}
}

// checkFieldsAndContext compares field names and the context of hit
// through the querier with one store's.
func checkFieldsAndContext(t *testing.T, q *Querier, local api.Engine, hit record.Record) {
	t.Helper()
	ctx := context.Background()
	opts := query.Options{Now: time.Now()}
	all, _ := query.Parse("level:error")
	want, _, err := local.FieldNames(ctx, all, opts, 3)
	if err != nil {
		t.Fatal(err)
	}
	got, p, err := q.FieldNames(ctx, all, opts, 3)
	if err != nil || p != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("field names: %v (partial %v, %v), want %v", got, p, err, want)
	}
	stream := hit.StreamString()
	wantC, _, err := local.Context(ctx, stream, hit.Time, 4, 4, opts)
	if err != nil {
		t.Fatal(err)
	}
	gotC, p, err := q.Context(ctx, stream, hit.Time, 4, 4, opts)
	if err != nil || p != nil || !reflect.DeepEqual(gotC, wantC) || len(wantC.Before) != 4 {
		t.Errorf("context: %v (partial %v, %v), want %v", gotC, p, err, wantC)
	}
}

// TestQuerierTail relays the live tail of the indexers: a record stored
// by the copies reaches the querier's tail, filtered by the indexer.
func TestQuerierTail(t *testing.T) {
	sa, pa := indexerPipeline(t, "A", kafkaRecords(8))
	sb, pb := indexerPipeline(t, "B", kafkaRecords(8))
	q := New(Options{Indexers: []string{sa.URL, sb.URL}})
	q.pollAll(context.Background())
	srv := httptest.NewServer(q.TailHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "?query=" + url.QueryEscape("level:error"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	// The relays subscribe asynchronously: send until a line comes.
	got := make(chan string, 1)
	go func() {
		if lines.Scan() {
			got <- lines.Text()
		}
		close(got)
	}()
	next := kafkaRecords(3)
	for i := 0; ; i++ {
		// Both copies store the same record, as two groups would.
		for _, p := range []*pipeline.Pipeline{pa, pb} {
			if err := p.Ingest(context.Background(), next[2:3]); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case line := <-got:
			if !strings.Contains(line, `"error request 2"`) {
				t.Fatalf("tail relayed %q", line)
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
		if i == 100 {
			t.Fatal("no tail line after 10s")
		}
	}
}

// TestQuerierTailMovesToReplica: when the indexer relaying a partition's
// tail goes away, its replica's tail takes over without a partial line,
// and a record the replica stores late (one already relayed) is not
// relayed again; with no replica left, the tail says what it lacks.
func TestQuerierTailMovesToReplica(t *testing.T) {
	ctx := context.Background()
	sa, pa := indexerPipeline(t, "A", kafkaRecords(8))
	sb, pb := indexerPipeline(t, "B", kafkaRecords(8))
	q := New(Options{Indexers: []string{sa.URL, sb.URL}})
	q.pollAll(ctx)
	srv := httptest.NewServer(q.TailHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			got <- sc.Text()
		}
		close(got)
	}()
	tails := func(s *httptest.Server) float64 {
		st := map[string]any{}
		r, err := http.Get(s.URL + "/api/v1/status")
		if err != nil {
			return -1
		}
		defer r.Body.Close()
		_ = json.NewDecoder(r.Body).Decode(&st)
		qs, _ := st["query"].(map[string]any)
		n, _ := qs["tails"].(float64)
		return n
	}
	waitTail := func(s *httptest.Server) {
		t.Helper()
		for i := 0; tails(s) != 1; i++ {
			if i == 200 {
				t.Fatal("no tail subscribed after 10s")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	next := func() string {
		t.Helper()
		select {
		case line, ok := <-got:
			if !ok {
				t.Fatal("the tail ended")
			}
			return line
		case <-time.After(10 * time.Second):
			t.Fatal("no tail line after 10s")
		}
		return ""
	}
	// The plan asks one copy; find which.
	var relaying, replica *httptest.Server
	var relayingP, replicaP *pipeline.Pipeline
	for i := 0; relaying == nil; i++ {
		switch {
		case tails(sa) == 1:
			relaying, relayingP, replica, replicaP = sa, pa, sb, pb
		case tails(sb) == 1:
			relaying, relayingP, replica, replicaP = sb, pb, sa, pa
		case i == 200:
			t.Fatal("no tail subscribed after 10s")
		default:
			time.Sleep(50 * time.Millisecond)
		}
	}
	recs := kafkaRecords(13) // records 8 and 12: partition 0, offsets 2 and 3
	if err := relayingP.Ingest(ctx, recs[8:9]); err != nil {
		t.Fatal(err)
	}
	if line := next(); !strings.Contains(line, "request 8") {
		t.Fatalf("tail relayed %q, want record 8", line)
	}
	relaying.CloseClientConnections()
	relaying.Close()
	waitTail(replica)
	// The replica stores record 8 late, then record 12.
	if err := replicaP.Ingest(ctx, append(recs[8:9:9], recs[12])); err != nil {
		t.Fatal(err)
	}
	if line := next(); !strings.Contains(line, "request 12") {
		t.Fatalf("after the move the tail relayed %q, want record 12 (record 8 once only, no partial line)", line)
	}
	replica.CloseClientConnections()
	replica.Close()
	if line := next(); !strings.Contains(line, api.PartialKey) || !strings.Contains(line, replica.URL) {
		t.Fatalf("with no copy left the tail relayed %q, want a partial line naming %s", line, replica.URL)
	}
}
