package querier

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluice-log/sluice/internal/api"
	"github.com/sluice-log/sluice/internal/query"
	"github.com/sluice-log/sluice/internal/tenant"
)

// TailHandler serves live tail in the querier role: it opens the live
// tail of one copy of every partition (each indexer restricted to the
// partitions it is asked for) and relays their lines as they come, as
// NDJSON or, when the client accepts text/event-stream, as server-sent
// events. An indexer whose stream ends is marked down and its partitions'
// tails are opened on a replica; only partitions no replica holds are
// reported, by a line {"_partial": …}. A record reaching the querier
// twice (from two copies of its partition while one takes over from the
// other, or from a plan older than a rebalance) is relayed once: lines
// are dropped when their kafka.offset is not past the last one relayed
// of their partition.
func (q *Querier) TailHandler() http.Handler {
	return http.HandlerFunc(q.tail)
}

// relayEnd is a relay whose stream ended, and why.
type relayEnd struct {
	ask ask
	err error
}

func (q *Querier) tail(w http.ResponseWriter, r *http.Request) {
	qs := r.FormValue("query")
	if qs == "" {
		qs = "*"
	}
	qq, err := query.Parse(qs)
	if err != nil || len(qq.Pipes) > 0 {
		msg := "live tail takes a filter without pipes; drop everything from the first '|'"
		if err != nil {
			msg = err.Error()
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
		return
	}
	tnt := tenant.Of(r)
	sse := strings.Contains(r.Header.Get("Accept"), "text/event-stream")
	ctx, cancel := context.WithCancel(r.Context())
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()

	rot := int(q.rot.Add(1))
	asks, skips := makePlan(q.snapshot(), nil, rot, q.opts.MaxCopyLag)
	lines := make(chan []byte, 256)
	ended := make(chan relayEnd)
	running := 0
	start := func(a ask) {
		share := qq
		if !a.all {
			share = qq.AndFilter(within(a.parts))
		}
		running++
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := q.relayTail(ctx, a.url, share.String(), tnt, lines)
			select {
			case ended <- relayEnd{a, err}:
			case <-ctx.Done():
			}
		}()
	}
	for _, a := range asks {
		start(a)
	}

	if sse {
		w.Header().Set("Content-Type", "text/event-stream")
	} else {
		w.Header().Set("Content-Type", "application/x-ndjson")
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	write := func(line []byte) bool {
		var err error
		if sse {
			_, err = w.Write(append(append([]byte("data: "), line...), '\n', '\n'))
		} else {
			_, err = w.Write(append(line, '\n'))
		}
		return err == nil
	}
	writePartial := func(skips []skip) bool {
		if len(skips) == 0 {
			return true
		}
		var sk []api.Skipped
		for _, s := range skips {
			sk = append(sk, api.Skipped{Kind: api.SkippedIndexer, Name: s.url, Error: s.err})
		}
		b, _ := json.Marshal(map[string]*api.Partial{api.PartialKey: api.NewPartial(sk...)})
		return write(b)
	}
	writePartial(skips)
	if flusher != nil {
		flusher.Flush()
	}
	if running == 0 {
		return
	}
	last := map[string]int64{} // topic/partition → greatest offset relayed
	relay := func(line []byte) bool {
		if key, off, ok := kafkaCoords(line); ok {
			if prev, seen := last[key]; seen && off <= prev {
				return true
			}
			last[key] = off
		}
		return write(line)
	}
	down := map[string]bool{}
	heartbeat := time.NewTicker(time.Second)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case line := <-lines:
			if !relay(line) {
				return
			}
			// Relay what else is already here before flushing.
			for len(lines) > 0 {
				if !relay(<-lines) {
					return
				}
			}
			if flusher != nil {
				flusher.Flush()
			}
		case e := <-ended:
			if ctx.Err() != nil {
				return
			}
			running--
			q.markDown(e.ask.url, e.err)
			down[e.ask.url] = true
			moved, lost := q.replace(e.ask, e.err, down, rot)
			for _, a := range moved {
				start(a)
			}
			if !writePartial(lost) {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
			if running == 0 {
				return
			}
		case <-heartbeat.C:
			if sse {
				if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil {
					return
				}
				if flusher != nil {
					flusher.Flush()
				}
			}
		}
	}
}

// replace plans the tails of the partitions dead answered for again,
// without the indexers in down: the asks that take them over (restricted
// to those partitions), and, when some of them have no copy left, dead
// itself, named with why its tail ended.
func (q *Querier) replace(dead ask, err error, down map[string]bool, rot int) ([]ask, []skip) {
	members := q.snapshot()
	wanted := map[Partition]bool{}
	for _, s := range dead.parts {
		wanted[s.Partition] = true
	}
	if dead.all {
		for _, m := range members {
			if m.url == dead.url {
				for _, p := range m.holds {
					wanted[p] = true
				}
			}
		}
	}
	asks, _ := makePlan(members, down, rot, q.opts.MaxCopyLag)
	var moved []ask
	for _, a := range asks {
		var shares []share
		if a.all {
			for _, m := range members {
				if m.url == a.url {
					for _, p := range m.holds {
						if wanted[p] {
							shares = append(shares, share{Partition: p})
						}
					}
				}
			}
		}
		for _, s := range a.parts {
			if wanted[s.Partition] {
				shares = append(shares, s)
			}
		}
		for _, s := range shares {
			delete(wanted, s.Partition)
		}
		if len(shares) > 0 {
			moved = append(moved, ask{url: a.url, parts: shares})
		}
	}
	if len(wanted) == 0 && len(moved) > 0 {
		q.log.Info("live tail moved to replicas", "indexer", dead.url, "err", err)
		return moved, nil
	}
	return moved, []skip{{dead.url, "live tail ended: " + err.Error()}}
}

// kafkaCoords reads the Kafka partition and offset of a tail line (a
// record, whose kafka.* fields the store sink wrote).
func kafkaCoords(line []byte) (string, int64, bool) {
	if !bytes.Contains(line, []byte(`"kafka.offset"`)) {
		return "", 0, false
	}
	var r struct {
		Topic     string `json:"kafka.topic"`
		Partition string `json:"kafka.partition"`
		Offset    string `json:"kafka.offset"`
	}
	if json.Unmarshal(line, &r) != nil {
		return "", 0, false
	}
	off, err := strconv.ParseInt(r.Offset, 10, 64)
	if err != nil || r.Partition == "" {
		return "", 0, false
	}
	return r.Topic + "/" + r.Partition, off, true
}

// relayTail reads one indexer's live tail (NDJSON) into lines until it
// ends or ctx does.
func (q *Querier) relayTail(ctx context.Context, base, filter, tenant string, lines chan<- []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/tail?"+url.Values{"query": {filter}}.Encode(), nil)
	if err != nil {
		return err
	}
	setIdentity(req, tenant)
	resp, err := q.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &queryError{code: resp.StatusCode, msg: resp.Status}
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := append([]byte(nil), sc.Bytes()...)
		select {
		case lines <- line:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return errStreamEnded
}

var errStreamEnded = &queryError{code: http.StatusBadGateway, msg: "the indexer ended the stream"}
