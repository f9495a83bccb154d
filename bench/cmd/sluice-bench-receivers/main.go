// Command sluice-bench-receivers measures records per second through each
// ingest receiver of the real binary, with a real client of each protocol:
// JSON lines and Elasticsearch _bulk (go-elasticsearch's BulkIndexer) over
// HTTP, Fluentd forward (fluent-logger-golang, RequestAck), syslog over TCP
// (octet-counted RFC 5424), OTLP over HTTP (protobuf) and gRPC, and the Loki
// push API (protobuf + snappy). Every receiver gets the same bench/gen
// records, tagged with its name, and the run checks that the server holds
// exactly that many.
//
//	go build -o bin/sluice ./cmd/sluice
//	go run ./bench/cmd/sluice-bench-receivers -binary bin/sluice -n 200000
//
// The clock runs from the first send to the last acknowledgement; syslog
// has none, so for it the clock runs until the server's count reaches n.
// Records are parsed and encoded before the clock starts, except where the
// client library encodes (forward, esbulk's action lines).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/sluice-log/sluice/bench/gen"
)

// result is one receiver's measurement.
type result struct {
	Receiver      string  `json:"receiver"`
	Records       int     `json:"records"`
	Seconds       float64 `json:"seconds"`
	RecordsPerSec float64 `json:"records_per_sec"`
	PayloadBytes  int     `json:"payload_bytes"`
	MBPerSec      float64 `json:"mb_per_sec"`
	Stored        int     `json:"stored"`
	OK            bool    `json:"ok"`
	Error         string  `json:"error,omitempty"`
}

func main() {
	binary := flag.String("binary", "./bin/sluice", "path of the sluice binary")
	n := flag.Int("n", 200000, "records per receiver")
	conc := flag.Int("concurrency", 4, "concurrent client connections per receiver")
	batch := flag.Int("batch", 1000, "records per request (per write for syslog)")
	only := flag.String("receivers", "", "comma-separated receivers to run (default all)")
	asJSON := flag.Bool("json", false, "print results as JSON")
	flag.Parse()
	results, err := run(*binary, *n, *conc, *batch, *only)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sluice-bench-receivers:", err)
		os.Exit(1)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(results)
	} else {
		fmt.Printf("records %d per receiver, concurrency %d, batch %d\n", *n, *conc, *batch)
		printTable(os.Stdout, results)
	}
	for _, r := range results {
		if !r.OK {
			os.Exit(1)
		}
	}
}

func run(binary string, n, conc, batch int, only string) ([]result, error) {
	if n <= 0 || conc <= 0 || batch <= 0 {
		return nil, fmt.Errorf("-n, -concurrency and -batch must be positive")
	}
	end := time.Now()
	g, err := gen.New(gen.Config{Seed: 1, Records: n, End: end})
	if err != nil {
		return nil, err
	}
	lines, _ := g.AppendBatch(nil, n)
	recs, err := parseLines(lines)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "sluice-bench-receivers")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	s, err := startServer(binary, dir)
	if err != nil {
		return nil, err
	}
	defer s.stop()
	var out []result
	for _, rc := range receivers() {
		if only != "" && !strings.Contains(","+only+",", ","+rc.name+",") {
			continue
		}
		res := measure(s, rc, recs, conc, batch, g.From(), end)
		fmt.Fprintf(os.Stderr, "%s: %.0f records/s, stored %d/%d %s\n", rc.name, res.RecordsPerSec, res.Stored, n, res.Error)
		out = append(out, res)
	}
	return out, nil
}

// measure sends recs through one receiver and checks the stored count.
func measure(s *server, rc receiver, recs []rec, conc, batch int, from, to time.Time) result {
	res := result{Receiver: rc.name, Records: len(recs)}
	fail := func(err error) result { res.Error = err.Error(); return res }
	var payloads []*payload
	for _, b := range batches(recs, batch) {
		p, err := rc.prepare(b)
		if err != nil {
			return fail(err)
		}
		payloads = append(payloads, p)
		res.PayloadBytes += p.bytes
	}
	senders, err := rc.open(s, conc)
	if err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, len(senders))
	start := time.Now()
	for i, snd := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1) - 1)
				if k >= len(payloads) {
					break
				}
				if err := snd.send(ctx, payloads[k]); err != nil {
					errs[i] = err
					cancel()
					break
				}
			}
		}()
	}
	wg.Wait()
	// Close only after every send returned: esbulk's senders share one
	// indexer, whose Close flushes what is left.
	for i, snd := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := snd.close(); err != nil && errs[i] == nil {
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, err := range errs {
		if err != nil {
			return fail(err)
		}
	}
	// Acknowledged records are searchable at once; syslog's are stored
	// when the server's batches (at most 50 ms) reach the log, so its
	// clock stops when the count is complete.
	deadline := time.Now().Add(60 * time.Second)
	for {
		res.Stored, err = s.count(rc.filter, from, to)
		if err != nil {
			return fail(err)
		}
		if rc.acked || res.Stored >= len(recs) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !rc.acked {
		elapsed = time.Since(start)
	}
	res.Seconds = elapsed.Seconds()
	res.RecordsPerSec = float64(len(recs)) / res.Seconds
	res.MBPerSec = float64(res.PayloadBytes) / 1e6 / res.Seconds
	res.OK = res.Stored == len(recs)
	if !res.OK {
		res.Error = fmt.Sprintf("server holds %d records for %q, want %d", res.Stored, rc.filter, len(recs))
	}
	return res
}

func printTable(w io.Writer, results []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "receiver\trecords\tseconds\trecords/s\tMB/s\tstored\t")
	for _, r := range results {
		if r.Seconds == 0 {
			fmt.Fprintf(tw, "%s\t%d\t-\t-\t-\t%d\t%s\n", r.Receiver, r.Records, r.Stored, r.Error)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.0f\t%.1f\t%d\t\n", r.Receiver, r.Records, r.Seconds, r.RecordsPerSec, r.MBPerSec, r.Stored)
	}
	tw.Flush()
}
