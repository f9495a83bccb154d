// Command sluice-bench-kafka measures the scale-out path through the real
// binary: one gateway and -indexers store indexers (one consumer group)
// around an in-process kfake cluster, and a querier over the indexers. It
// posts JSON lines to the gateway from several clients and reports the
// gateway's acknowledged throughput, the end-to-end throughput (until the
// indexers have stored everything, counted through the querier) and the
// latency from a probe record's acknowledgement to it being searchable.
// Then it loads the same records into a single node (role all) and runs a
// query set through the querier and on the single node, -runs times each:
// medians, their ratio, and whether the answers are the same.
//
//	go build -o /tmp/sluice ./cmd/sluice
//	go run ./bench/cmd/sluice-bench-kafka -bin /tmp/sluice -records 200000 -indexers 3
//
// kfake is not Apache Kafka (no replication, no disk): the numbers measure
// Sluice's gateway and indexer, not a Kafka cluster.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	bin := flag.String("bin", "sluice", "path of the sluice binary")
	records := flag.Int("records", 200000, "records to send")
	batch := flag.Int("batch", 1000, "records per request")
	clients := flag.Int("clients", 4, "concurrent clients")
	partitions := flag.Int("partitions", 8, "partitions of the topic")
	probes := flag.Int("probes", 20, "latency probes after the load")
	indexers := flag.Int("indexers", 1, "store indexers in the consumer group")
	runs := flag.Int("runs", 5, "runs of each query, through the querier and on the single node")
	flag.Parse()
	if err := run(*bin, *records, *batch, *clients, *partitions, *probes, *indexers, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "sluice-bench-kafka:", err)
		os.Exit(1)
	}
}

func run(bin string, records, batch, clients, partitions, probes, indexers, runs int) error {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(int32(partitions), "logs", "logs-dead-letter"))
	if err != nil {
		return err
	}
	defer c.Close()
	brokers := strings.Join(c.ListenAddrs(), ",")
	tmp, err := os.MkdirTemp("", "sluice-bench-kafka")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	gwCfg := tmp + "/gw.yaml"
	if err := os.WriteFile(gwCfg, []byte("forward:\n  enabled: false\nsyslog:\n  enabled: false\notlp:\n  grpc_addr: \"\"\n"), 0o644); err != nil {
		return err
	}
	gw, err := start(bin, "--role", "gateway", "--data-dir", tmp+"/gw", "--kafka-brokers", brokers, "--config", gwCfg)
	if err != nil {
		return err
	}
	defer gw.stop()
	var urls []string
	for i := range indexers {
		ix, err := start(bin, "--role", "indexer", "--data-dir", fmt.Sprintf("%s/ix%d", tmp, i), "--kafka-brokers", brokers)
		if err != nil {
			return err
		}
		defer ix.stop()
		urls = append(urls, ix.url)
	}
	qrCfg := tmp + "/querier.yaml"
	if err := os.WriteFile(qrCfg, []byte("querier:\n  poll_interval: 500ms\n"), 0o644); err != nil {
		return err
	}
	// The querier answers for every indexer: counts below go through it.
	ix, err := start(bin, "--role", "querier", "--indexers", strings.Join(urls, ","), "--config", qrCfg)
	if err != nil {
		return err
	}
	defer ix.stop()

	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				first := int(next.Add(int64(batch))) - batch
				if first >= records {
					return
				}
				if err := post(gw.url, lines(first, min(batch, records-first), "load")); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	acked := time.Since(start)
	select {
	case err := <-errs:
		return err
	default:
	}
	for {
		n, err := count(ix.url, "load")
		if err != nil {
			return err
		}
		if n >= records {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	stored := time.Since(start)

	var lat []time.Duration
	for i := range probes {
		tag := fmt.Sprintf("probe%d", i)
		t0 := time.Now()
		if err := post(gw.url, lines(0, 1, tag)); err != nil {
			return err
		}
		for {
			n, err := count(ix.url, tag)
			if err != nil {
				return err
			}
			if n == 1 {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		lat = append(lat, time.Since(t0))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	fmt.Printf("records %d, batch %d, clients %d, partitions %d, indexers %d\n", records, batch, clients, partitions, indexers)
	fmt.Printf("gateway acknowledged: %.0f records/s (%.2fs)\n", float64(records)/acked.Seconds(), acked.Seconds())
	fmt.Printf("stored on indexers:   %.0f records/s (%.2fs)\n", float64(records)/stored.Seconds(), stored.Seconds())
	fmt.Printf("post → searchable latency over %d probes: p50 %s, max %s (includes query polling every 2ms)\n",
		len(lat), lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
	return compareQueries(bin, tmp, ix.url, records, batch, runs)
}

// benchQueries are what compareQueries times: a count over a filter,
// counts by a field, top, quantiles and a plain search.
// All select tag:load: the indexers also hold the probes.
var benchQueries = []string{
	`tag:load | stats count() as n`,
	`tag:load | stats count() as n by service`,
	`tag:load "user=u42" | stats count() as n`,
	`tag:load | top 5 by host`,
	`tag:load | stats quantile(0.99, seq) as p99, count_uniq(host) as hosts by service`,
	`tag:load | limit 100`,
}

// compareQueries loads the same records into a single node and times the
// query set through the querier at qurl and on that node.
func compareQueries(bin, tmp, qurl string, records, batch, runs int) error {
	cfg := tmp + "/single.yaml"
	if err := os.WriteFile(cfg, []byte("forward:\n  enabled: false\nsyslog:\n  enabled: false\notlp:\n  grpc_addr: \"\"\n"), 0o644); err != nil {
		return err
	}
	single, err := start(bin, "--role", "all", "--data-dir", tmp+"/single", "--config", cfg)
	if err != nil {
		return err
	}
	defer single.stop()
	for first := 0; first < records; first += batch {
		if err := post(single.url, lines(first, min(batch, records-first), "load")); err != nil {
			return err
		}
	}
	for _, u := range []string{qurl, single.url} {
		resp, err := http.Post(u+"/internal/force_flush", "", nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
	}
	fmt.Printf("query latency, median of %d runs: querier over the indexers | single node | ratio\n", runs)
	for _, q := range benchQueries {
		var times [2][]time.Duration
		var answers [2][]byte
		for range runs {
			for i, u := range []string{qurl, single.url} {
				t0 := time.Now()
				b, err := queryBody(u, q)
				if err != nil {
					return err
				}
				times[i] = append(times[i], time.Since(t0))
				answers[i] = b
			}
		}
		same := "same answer"
		switch {
		case strings.HasPrefix(q, "tag:load | limit"):
			// Records differ by their ingest times and kafka.* fields.
			same = "records, not compared"
		case !bytes.Equal(answers[0], answers[1]):
			same = "DIFFERENT ANSWERS"
		}
		m0, m1 := median(times[0]), median(times[1])
		fmt.Printf("  %-82s %8s %8s %5.2f  %s\n", q, m0.Round(100*time.Microsecond), m1.Round(100*time.Microsecond), m0.Seconds()/m1.Seconds(), same)
	}
	return nil
}

func median(ds []time.Duration) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

func queryBody(base, q string) ([]byte, error) {
	resp, err := http.PostForm(base+"/api/v1/query", url.Values{"query": {q}})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("query %q answered %d: %s", q, resp.StatusCode, b)
	}
	return b, err
}

func lines(first, n int, tag string) []byte {
	var b bytes.Buffer
	for i := first; i < first+n; i++ {
		fmt.Fprintf(&b, `{"service":"svc%d","host":"h%d","tag":%q,"seq":%d,"_msg":"GET /api/v1/items/%d 200 %dms user=u%d"}`+"\n",
			i%7, i%13, tag, i, i, i%500, i%1000)
	}
	return b.Bytes()
}

func post(base string, body []byte) error {
	for {
		resp, err := http.Post(base+"/insert/jsonline", "application/x-ndjson", bytes.NewReader(body))
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case 200, 204:
			return nil
		case 429:
			time.Sleep(50 * time.Millisecond)
		default:
			return fmt.Errorf("gateway answered %d", resp.StatusCode)
		}
	}
}

func count(base, tag string) (int, error) {
	resp, err := http.PostForm(base+"/api/v1/query", url.Values{"query": {"tag:" + tag + " | stats count() as n"}})
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var row struct{ N json.Number }
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("query answered %d: %s", resp.StatusCode, b)
	}
	if err := json.Unmarshal(bytes.TrimSpace(b), &row); err != nil {
		return 0, fmt.Errorf("query answer %q: %w", b, err)
	}
	n, err := row.N.Int64()
	return int(n), err
}

type proc struct {
	cmd *exec.Cmd
	url string
}

func start(bin string, args ...string) (*proc, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, append([]string{"serve", "--http-addr", addr}, args...)...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, url: "http://" + addr}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(p.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p, nil
			}
		}
	}
	p.stop()
	return nil, fmt.Errorf("%v not ready", args)
}

func (p *proc) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	_ = p.cmd.Wait()
}
