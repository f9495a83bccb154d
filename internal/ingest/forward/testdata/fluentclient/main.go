// Command fluentclient sends records to a forward listener with
// github.com/fluent/fluent-logger-golang, the library Docker's fluentd log
// driver uses, and exits non-zero if the library reports any error.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/fluent/fluent-logger-golang/fluent"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:24224", "forward listener")
	n := flag.Int("n", 10, "records to send")
	tag := flag.String("tag", "app", "tag")
	ack := flag.Bool("ack", false, "RequestAck")
	async := flag.Bool("async", false, "Async")
	subsecond := flag.Bool("subsecond", false, "SubSecondPrecision (EventTime)")
	docker := flag.Bool("docker", false, "send records shaped like Docker's fluentd log driver")
	flag.Parse()

	host, port, err := net.SplitHostPort(*addr)
	if err != nil {
		fail(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		fail(err)
	}
	var asyncErrs atomic.Int64
	cfg := fluent.Config{
		FluentHost:         host,
		FluentPort:         p,
		RequestAck:         *ack,
		Async:              *async,
		SubSecondPrecision: *subsecond,
		Timeout:            5 * time.Second,
		WriteTimeout:       5 * time.Second,
		ReadTimeout:        10 * time.Second,
		MaxRetry:           3,
	}
	if *async {
		cfg.AsyncResultCallback = func(_ []byte, err error) {
			if err != nil {
				asyncErrs.Add(1)
				fmt.Fprintln(os.Stderr, "async:", err)
			}
		}
	}
	f, err := fluent.New(cfg)
	if err != nil {
		fail(err)
	}
	base := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	for i := range *n {
		var rec map[string]any
		if *docker {
			// The fields and shapes Docker's fluentd log driver sends.
			rec = map[string]any{
				"container_id":   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
				"container_name": "/web",
				"source":         "stdout",
				"log":            fmt.Sprintf("GET /item/%d 200", i),
			}
		} else {
			rec = map[string]any{
				"message": fmt.Sprintf("event %d", i),
				"seq":     i,
				"http":    map[string]any{"status": 200, "method": "GET"},
			}
		}
		if err := f.PostWithTime(*tag, base.Add(time.Duration(i)*time.Millisecond), rec); err != nil {
			fail(fmt.Errorf("post %d: %w", i, err))
		}
	}
	if err := f.Close(); err != nil {
		fail(fmt.Errorf("close: %w", err))
	}
	if e := asyncErrs.Load(); e > 0 {
		fail(fmt.Errorf("%d async errors", e))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "fluentclient:", err)
	os.Exit(1)
}
