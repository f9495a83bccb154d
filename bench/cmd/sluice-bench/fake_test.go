package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluice-log/sluice/bench/gen"
	"github.com/sluice-log/sluice/internal/cpuslot"
	sluiceingest "github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/query"
	"github.com/sluice-log/sluice/internal/store"
)

// fakeServer is a STAND-IN for the real sluice server, which is written in
// parallel and which the lead engineer runs this benchmark against. It fakes
// the endpoints the harness uses: it accepts JSON lines, answers the bench
// queries from the ground truth it is given, and finds probe markers in
// what it received, so that the harness's client code can be tested. It
// proves nothing about the real server.
type fakeServer struct {
	mu        sync.Mutex
	answers   map[string][]map[string]any // by query string
	lines     int
	throttled bool           // whether the first insert got its 429 yet
	msgs      []string       // messages received, for probe queries
	polls     map[string]int // marker → queries so far
	dataDir   string         // where received bytes are written, if set
	queryArgs []string       // "from to" of every bench query
	statuses  int            // status requests so far
	msgField  string         // the field holding a record's message
	// The guards' metrics (/metrics), as the real server's packages
	// count them: each bench query takes a search's CPU slot, the first
	// insert's 429 counts as an ingest refusal, and the first bench
	// query gets a 429 too (queryThrottled).
	slots          *cpuslot.Pool
	inFlight       *sluiceingest.InFlight
	metrics        http.Handler
	queryThrottled bool
}

// hidePolls is how many queries a marker stays invisible for, so that the
// harness's polling is exercised.
const hidePolls = 2

// newFakeServer returns a fake that takes a record's message from
// msgField (the data set's, as the real server is configured to).
func newFakeServer(dataDir, msgField string) *fakeServer {
	reg := prometheus.NewRegistry()
	slots := cpuslot.New(2)
	reg.MustRegister(cpuslot.NewCollector(slots))
	return &fakeServer{polls: map[string]int{}, dataDir: dataDir, msgField: msgField,
		slots: slots, inFlight: sluiceingest.NewInFlight(0, reg), metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}
}

// addAnswers makes the fake answer qs over a window starting at from as
// the ground truth says, except for the queries named in wrong, whose
// count it gets off by one.
func (f *fakeServer) addAnswers(qs []gen.Query, from time.Time, wrong ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.answers == nil {
		f.answers = map[string][]map[string]any{}
	}
	for _, q := range qs {
		rows := rowsFor(q.Want)
		for _, w := range wrong {
			if q.Name == w {
				rows[0]["n"] = rows[0]["n"].(int64) + 1
			}
		}
		f.answers[answerKey(q.Sluice, from.UTC().Format(time.RFC3339Nano))] = rows
	}
}

// answerKey keys an answer by the query and the start of its window: the
// same query answers differently over the last hour and over 24 h.
func answerKey(q, from string) string { return q + "|" + from }

// rowsFor renders an answer as the server would: counts as JSON numbers.
func rowsFor(a gen.Answer) []map[string]any {
	if a.By == "" {
		return []map[string]any{{"n": a.Count}}
	}
	groups := a.Groups
	if a.Limit > 0 {
		groups = groups[:min(a.Limit, len(groups))]
	}
	cols := strings.Split(a.By, ",")
	var rows []map[string]any
	for _, g := range groups {
		row := map[string]any{"n": g.N}
		for i, v := range strings.Split(g.Key, gen.KeySep) {
			row[cols[i]] = v
		}
		rows = append(rows, row)
	}
	// Groups the answer does not list get made-up distinct keys.
	for i := int64(0); i < a.RestGroups && (a.Limit == 0 || len(rows) < a.Limit); i++ {
		rows = append(rows, map[string]any{a.By: "rest-" + strconv.FormatInt(i, 10), "n": a.Rest})
	}
	return rows
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/readyz":
		w.WriteHeader(http.StatusOK)
	case "/internal/force_flush":
		w.WriteHeader(http.StatusOK)
	case "/insert/jsonline":
		f.insert(w, r)
	case "/api/v1/query":
		f.query(w, r)
	case "/api/v1/explain":
		f.explain(w, r)
	case metricsPath:
		f.metrics.ServeHTTP(w, r)
	case "/api/v1/status":
		// A merge pending for the first polls, so that the harness's wait
		// for merges is exercised.
		f.mu.Lock()
		f.statuses++
		pending := max(0, hidePolls-f.statuses+1)
		f.mu.Unlock()
		fmt.Fprintf(w, `{"pipeline":{"ready":true,"merges_pending":%d,"parts":%d}}`, pending, 3+pending)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeServer) insert(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-ndjson" {
		http.Error(w, "want POST of application/x-ndjson", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.throttled {
		f.throttled = true
		f.inFlight.Refused("jsonline")
		w.Header().Set("Retry-After", "0")
		http.Error(w, "busy", http.StatusTooManyRequests)
		return
	}
	dec := json.NewDecoder(r.Body)
	var body strings.Builder
	for {
		var rec map[string]any
		if err := dec.Decode(&rec); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		msg, _ := rec[f.msgField].(string)
		f.msgs = append(f.msgs, msg)
		f.lines++
		body.WriteString(msg)
	}
	if f.dataDir != "" {
		name := filepath.Join(f.dataDir, "part-"+strconv.Itoa(f.lines))
		if err := os.WriteFile(name, []byte(body.String()), 0o644); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// fakeCost is the cost the fake's explain reports for every bench query.
var fakeCost = store.SearchStats{Parts: 3, Blocks: 40, BlocksSkippedIndex: 30, BlocksSkippedTime: 2, BlocksRead: 8, BytesRead: 123456, RecordsMatched: 77}

// explain answers a bench query's plan with fakeCost, in the real plan's
// JSON shape.
func (f *fakeServer) explain(w http.ResponseWriter, r *http.Request) {
	q := r.FormValue("query")
	f.mu.Lock()
	_, ok := f.answers[answerKey(q, r.FormValue("from"))]
	f.mu.Unlock()
	if !ok {
		http.Error(w, "unknown query", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(query.Plan{Query: q, Cost: fakeCost})
}

func (f *fakeServer) query(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	q := r.PostForm.Get("query")
	for _, k := range []string{"from", "to"} {
		if _, err := time.Parse(time.RFC3339Nano, r.PostForm.Get(k)); err != nil {
			http.Error(w, k+": "+err.Error(), http.StatusBadRequest)
			return
		}
	}
	if _, err := strconv.Atoi(r.PostForm.Get("limit")); err != nil {
		http.Error(w, "limit: "+err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	rows, ok := f.answers[answerKey(q, r.PostForm.Get("from"))]
	if ok && !f.queryThrottled {
		f.queryThrottled = true
		w.Header().Set("Retry-After", "0")
		http.Error(w, "too many concurrent queries", http.StatusTooManyRequests)
		return
	}
	if ok {
		cpu, err := f.slots.Hold(r.Context(), cpuslot.High)
		if err != nil {
			return
		}
		defer cpu.Release()
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	if ok {
		f.queryArgs = append(f.queryArgs, r.PostForm.Get("from")+" "+r.PostForm.Get("to"))
		for _, row := range rows {
			_ = enc.Encode(row)
		}
		return
	}
	f.polls[q]++
	if f.polls[q] <= hidePolls {
		return
	}
	for _, m := range f.msgs {
		if strings.Contains(m, q) {
			_ = enc.Encode(map[string]any{"_time": time.Now().UTC().Format(time.RFC3339Nano), "_msg": m})
		}
	}
}

// The fake binary: when the test binary runs with fakeBinaryEnv set, it
// acts as `sluice serve` does, serving a fakeServer whose answers it
// computes from the generator config in the environment.
const (
	fakeBinaryEnv = "SLUICE_BENCH_FAKE_SERVER"
	fakeSeedEnv   = "SLUICE_BENCH_FAKE_SEED"
	fakeNEnv      = "SLUICE_BENCH_FAKE_N"
	fakeEndEnv    = "SLUICE_BENCH_FAKE_END"
	fakeDataEnv   = "SLUICE_BENCH_FAKE_DATASET"
)

func TestMain(m *testing.M) {
	if os.Getenv(fakeBinaryEnv) != "" {
		if err := runFakeBinary(os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "fake server:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runFakeBinary(args []string) error {
	if len(args) != 5 || args[0] != "serve" || args[1] != "--data-dir" || args[3] != "--http-addr" {
		return fmt.Errorf("unexpected arguments %q", args)
	}
	seed, err := strconv.ParseUint(os.Getenv(fakeSeedEnv), 10, 64)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(os.Getenv(fakeNEnv))
	if err != nil {
		return err
	}
	end, err := time.Parse(time.RFC3339, os.Getenv(fakeEndEnv))
	if err != nil {
		return err
	}
	d, err := datasetNamed(os.Getenv(fakeDataEnv))
	if err != nil {
		return err
	}
	g, err := d.open(seed, n, end, 1)
	if err != nil {
		return err
	}
	for {
		if _, k := g.AppendBatch(nil, 1000); k == 0 {
			break
		}
	}
	f := newFakeServer(args[2], d.msgField)
	f.addAnswers(g.Queries(), g.From())
	f.addAnswers(g.RecentQueries(), g.RecentFrom())
	srv := &http.Server{Addr: args[4], Handler: f}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	go func() {
		<-sig
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
