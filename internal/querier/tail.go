package querier

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sluice-log/sluice/internal/api"
	"github.com/sluice-log/sluice/internal/query"
)

// TailHandler serves live tail in the querier role: it opens the live
// tail of one copy of every partition (each indexer restricted to the
// partitions it is asked for) and relays their lines as they come, as
// NDJSON or, when the client accepts text/event-stream, as server-sent
// events. An indexer whose stream ends is reported by a line
// {"_partial": …}; the copies are not re-planned while the tail runs.
func (q *Querier) TailHandler() http.Handler {
	return http.HandlerFunc(q.tail)
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
	tenant := r.Header.Get(tenantHeader)
	sse := strings.Contains(r.Header.Get("Accept"), "text/event-stream")
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()

	asks, skips := makePlan(q.snapshot(), nil, int(q.rot.Add(1)), q.opts.MaxCopyLag)
	lines := make(chan []byte, 256)
	var wg sync.WaitGroup
	for _, a := range asks {
		share := qq
		if !a.all {
			share = qq.AndFilter(within(a.parts))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := q.relayTail(ctx, a.url, share.String(), tenant, lines)
			if ctx.Err() != nil {
				return
			}
			q.markDown(a.url, err)
			p := api.NewPartial(api.Skipped{Kind: api.SkippedIndexer, Name: a.url, Error: "live tail ended: " + err.Error()})
			b, _ := json.Marshal(map[string]*api.Partial{api.PartialKey: p})
			select {
			case lines <- b:
			case <-ctx.Done():
			}
		}()
	}
	go func() { wg.Wait(); close(lines) }()

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
	if len(skips) > 0 {
		var sk []api.Skipped
		for _, s := range skips {
			sk = append(sk, api.Skipped{Kind: api.SkippedIndexer, Name: s.url, Error: s.err})
		}
		b, _ := json.Marshal(map[string]*api.Partial{api.PartialKey: api.NewPartial(sk...)})
		write(b)
	}
	if flusher != nil {
		flusher.Flush()
	}
	heartbeat := time.NewTicker(time.Second)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case line, ok := <-lines:
			if !ok {
				return
			}
			if !write(line) {
				return
			}
			// Relay what else is already here before flushing.
			for len(lines) > 0 {
				if !write(<-lines) {
					return
				}
			}
			if flusher != nil {
				flusher.Flush()
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

// relayTail reads one indexer's live tail (NDJSON) into lines until it
// ends or ctx does.
func (q *Querier) relayTail(ctx context.Context, base, filter, tenant string, lines chan<- []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/tail?"+url.Values{"query": {filter}}.Encode(), nil)
	if err != nil {
		return err
	}
	if tenant != "" {
		req.Header.Set(tenantHeader, tenant)
	}
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
