package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"
	"github.com/fluent/fluent-logger-golang/fluent"
	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// payload is one batch of records in a receiver's encoding, built before
// the timed part. bytes is what the client puts on the wire for it (an
// estimate for forward, whose library encodes).
type payload struct {
	recs  []rec
	body  []byte                            // HTTP body or syslog frames
	docs  [][]byte                          // esbulk documents
	otlp  *collogs.ExportLogsServiceRequest // OTLP gRPC request
	bytes int
}

// sender is one client connection of a receiver's protocol. send returns
// once the batch is acknowledged (for syslog: written).
type sender interface {
	send(ctx context.Context, p *payload) error
	close() error
}

// httpSender posts bodies and retries backpressure answers, as shippers do.
type httpSender struct {
	client     *http.Client
	url, ctype string
}

func (h *httpSender) send(ctx context.Context, p *payload) error {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(p.body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", h.ctype)
		resp, err := h.client.Do(req)
		if err != nil {
			return fmt.Errorf("POST %s: %w", h.url, err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode/100 == 2:
			return nil
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
			wait := 100 * time.Millisecond
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
				wait = time.Duration(s) * time.Second
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		default:
			return fmt.Errorf("POST %s: status %d: %.200s", h.url, resp.StatusCode, answer)
		}
	}
}

func (h *httpSender) close() error { return nil }

// bulkSender feeds one BulkIndexer shared by all senders of the run; the
// indexer's own workers are the concurrent connections.
type bulkSender struct {
	bi   esutil.BulkIndexer
	once *sync.Once
	errs *failures
}

type failures struct {
	mu    sync.Mutex
	first error
}

func (f *failures) add(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.first == nil {
		f.first = err
	}
}

func newBulkSenders(url string, n int) ([]sender, error) {
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{url}})
	if err != nil {
		return nil, fmt.Errorf("elasticsearch client: %w", err)
	}
	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{Client: es, Index: "bench", NumWorkers: n, FlushBytes: 1 << 20})
	if err != nil {
		return nil, fmt.Errorf("bulk indexer: %w", err)
	}
	once, errs := &sync.Once{}, &failures{}
	out := make([]sender, n)
	for i := range out {
		out[i] = &bulkSender{bi: bi, once: once, errs: errs}
	}
	return out, nil
}

func (b *bulkSender) send(ctx context.Context, p *payload) error {
	for _, doc := range p.docs {
		err := b.bi.Add(ctx, esutil.BulkIndexerItem{Action: "index", Body: bytes.NewReader(doc),
			OnFailure: func(_ context.Context, _ esutil.BulkIndexerItem, res esutil.BulkIndexerResponseItem, err error) {
				if err == nil {
					err = fmt.Errorf("status %d: %s", res.Status, res.Error.Reason)
				}
				b.errs.add(err)
			}})
		if err != nil {
			return fmt.Errorf("bulk add: %w", err)
		}
	}
	return nil
}

// close flushes the shared indexer once; the run's clock stops after every
// sender closed.
func (b *bulkSender) close() error {
	var err error
	b.once.Do(func() {
		if err = b.bi.Close(context.Background()); err != nil {
			return
		}
		if st := b.bi.Stats(); st.NumFailed > 0 {
			err = fmt.Errorf("bulk: %d documents failed, first: %v", st.NumFailed, b.errs.first)
		}
	})
	return err
}

// forwardSender posts each record with fluent-logger-golang, waiting for
// the server's ack of every message (RequestAck).
type forwardSender struct{ f *fluent.Fluent }

func newForwardSender(addr string) (sender, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	p, _ := strconv.Atoi(port)
	f, err := fluent.New(fluent.Config{FluentHost: host, FluentPort: p, RequestAck: true, SubSecondPrecision: true,
		Timeout: 10 * time.Second, WriteTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, MaxRetry: 3})
	if err != nil {
		return nil, fmt.Errorf("fluent logger: %w", err)
	}
	return &forwardSender{f: f}, nil
}

func (s *forwardSender) send(_ context.Context, p *payload) error {
	for i := range p.recs {
		r := &p.recs[i]
		if err := s.f.PostWithTime("bench", time.Unix(0, r.time), forwardRecord(r)); err != nil {
			return fmt.Errorf("fluent post: %w", err)
		}
	}
	return nil
}

func (s *forwardSender) close() error { return s.f.Close() }

// forwardRecord is r as a Fluentd record: message, fields, bench field.
func forwardRecord(r *rec) map[string]any {
	m := make(map[string]any, len(r.fields)+2)
	m["message"] = r.msg
	for _, f := range r.fields {
		m[f.name] = f.value
	}
	m[benchField] = "forward"
	return m
}

// syslogSender writes octet-counted frames to one TCP connection. Syslog
// has no acknowledgement; the run waits for the stored count instead.
type syslogSender struct {
	c net.Conn
	w *bufio.Writer
}

func newSyslogSender(addr string) (sender, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial syslog: %w", err)
	}
	return &syslogSender{c: c, w: bufio.NewWriterSize(c, 64<<10)}, nil
}

func (s *syslogSender) send(_ context.Context, p *payload) error {
	if _, err := s.w.Write(p.body); err != nil {
		return fmt.Errorf("write syslog: %w", err)
	}
	return nil
}

func (s *syslogSender) close() error {
	err := s.w.Flush()
	if cerr := s.c.Close(); err == nil {
		err = cerr
	}
	return err
}

// grpcSender exports over one gRPC connection, retrying Unavailable.
type grpcSender struct {
	conn *grpc.ClientConn
	c    collogs.LogsServiceClient
}

func newGRPCSender(addr string) (sender, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("grpc client: %w", err)
	}
	return &grpcSender{conn: conn, c: collogs.NewLogsServiceClient(conn)}, nil
}

func (s *grpcSender) send(ctx context.Context, p *payload) error {
	for {
		resp, err := s.c.Export(ctx, p.otlp)
		if status.Code(err) == codes.Unavailable {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if err != nil {
			return fmt.Errorf("otlp export: %w", err)
		}
		if ps := resp.GetPartialSuccess(); ps.GetRejectedLogRecords() != 0 {
			return fmt.Errorf("otlp export: %d rejected: %s", ps.GetRejectedLogRecords(), ps.GetErrorMessage())
		}
		return nil
	}
}

func (s *grpcSender) close() error { return s.conn.Close() }
