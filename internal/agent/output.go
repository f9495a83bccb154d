package agent

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/sluice-log/sluice/internal/aimd"
	"github.com/sluice-log/sluice/internal/record"
)

// An output encodes records into a batch's payload when the batch is cut
// and sends buffered payloads. send returns nil only once the server has
// acknowledged the batch (made it durable); a batch the server refuses
// for good (permanent=true) is logged, counted and not sent again.
type output interface {
	kind() string
	encode(bt *batch, recs []record.Record) error
	send(ctx context.Context, bt *batch) (permanent bool, err error)
	close()
}

func newOutput(c OutputConfig) (output, error) {
	if c.Forward != "" {
		return &forwardOutput{addr: c.Forward, tag: c.Tag, timeout: time.Duration(c.Timeout)}, nil
	}
	key := c.APIKey
	if path, ok := strings.CutPrefix(key, "file:"); ok {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("output.api_key: %w", err)
		}
		key = strings.TrimSpace(string(b))
	}
	// The index is only a name here: Sluice keeps it as the field _index.
	u, _ := url.Parse(strings.TrimSuffix(c.HTTP, "/") + "/sluice-agent/_bulk")
	return &httpOutput{url: u.String(), key: key, client: &http.Client{Timeout: time.Duration(c.Timeout)}}, nil
}

// forwardOutput speaks the Fluentd forward protocol v1: each batch is one
// PackedForward message whose chunk option asks for an ack, which a
// Sluice server sends once the batch is in its write-ahead log.
type forwardOutput struct {
	addr    string
	tag     string
	timeout time.Duration
	conn    net.Conn
	rd      *bufio.Reader
	chunkNo uint64
	agentID string
}

func (o *forwardOutput) kind() string { return "forward" }

// encode writes the entries, [EventTime, {message, _stream: {labels},
// fields}], as one msgpack stream (PackedForward's entries).
func (o *forwardOutput) encode(bt *batch, recs []record.Record) error {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	var ts [8]byte
	for i := range recs {
		r := &recs[i]
		_ = enc.EncodeArrayLen(2)
		_ = enc.EncodeExtHeader(0, 8)
		binary.BigEndian.PutUint32(ts[:4], uint32(r.Time/1e9))
		binary.BigEndian.PutUint32(ts[4:], uint32(r.Time%1e9))
		buf.Write(ts[:])
		n := 1 + len(r.Fields)
		if len(r.Stream) > 0 {
			n++
		}
		_ = enc.EncodeMapLen(n)
		_ = enc.EncodeString("message")
		_ = enc.EncodeString(r.Message)
		if len(r.Stream) > 0 {
			_ = enc.EncodeString(record.StreamField)
			_ = enc.EncodeMapLen(len(r.Stream))
			for _, f := range r.Stream {
				_ = enc.EncodeString(f.Name)
				_ = enc.EncodeString(f.Value)
			}
		}
		for _, f := range r.Fields {
			name := f.Name
			if name == "message" || name == "log" || name == "msg" || name == record.StreamField {
				// The server takes the first of message, log and msg as
				// the message: a field of such a name keeps its value
				// under another.
				name = "record." + name
			}
			_ = enc.EncodeString(name)
			_ = enc.EncodeString(f.Value)
		}
	}
	bt.payload = buf.Bytes()
	return nil
}

func (o *forwardOutput) dial(ctx context.Context) error {
	if o.conn != nil {
		return nil
	}
	d := net.Dialer{Timeout: o.timeout}
	c, err := d.DialContext(ctx, "tcp", o.addr)
	if err != nil {
		return err
	}
	o.conn, o.rd = c, bufio.NewReader(c)
	return nil
}

func (o *forwardOutput) close() {
	if o.conn != nil {
		_ = o.conn.Close()
		o.conn = nil
	}
}

func (o *forwardOutput) send(ctx context.Context, bt *batch) (bool, error) {
	if o.agentID == "" {
		var b [9]byte
		_, _ = rand.Read(b[:])
		o.agentID = base64.RawURLEncoding.EncodeToString(b[:])
	}
	if err := o.dial(ctx); err != nil {
		return false, fmt.Errorf("connect to %s: %w", o.addr, err)
	}
	o.chunkNo++
	chunk := fmt.Sprintf("%s-%d-%d", o.agentID, bt.Seq, o.chunkNo)
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	_ = enc.EncodeArrayLen(3)
	_ = enc.EncodeString(o.tag)
	_ = enc.EncodeBytes(bt.payload)
	_ = enc.EncodeMapLen(2)
	_ = enc.EncodeString("chunk")
	_ = enc.EncodeString(chunk)
	_ = enc.EncodeString("size")
	_ = enc.EncodeInt(int64(bt.Records))
	deadline := time.Now().Add(o.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = o.conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = o.conn.SetDeadline(time.Now()) })
	defer stop()
	if _, err := o.conn.Write(buf.Bytes()); err != nil {
		o.close()
		return false, fmt.Errorf("send to %s: %w", o.addr, err)
	}
	// The server answers {"ack": chunk} once the batch is durable.
	ans, err := msgpack.NewDecoder(o.rd).DecodeMap()
	if err != nil {
		o.close()
		return false, fmt.Errorf("wait for the ack of %s: %w", o.addr, err)
	}
	if got, _ := ans["ack"].(string); got != chunk {
		o.close()
		return false, fmt.Errorf("%s acknowledged %q, not the chunk sent (%q)", o.addr, got, chunk)
	}
	return false, nil
}

// httpOutput posts batches to the Elasticsearch-compatible _bulk API of a
// Sluice server, naming the message, time and stream labels in the query
// so that they come through as they were.
type httpOutput struct {
	url    string
	key    string
	client *http.Client
}

func (o *httpOutput) kind() string { return "http" }
func (o *httpOutput) close()       { o.client.CloseIdleConnections() }

func (o *httpOutput) encode(bt *batch, recs []record.Record) error {
	var buf bytes.Buffer
	labels := map[string]bool{}
	doc := make([]byte, 0, 512)
	for i := range recs {
		r := &recs[i]
		buf.WriteString("{\"create\":{}}\n")
		doc = append(doc[:0], `{"_time":`...)
		doc = appendJSONString(doc, time.Unix(0, r.Time).UTC().Format(time.RFC3339Nano))
		doc = append(doc, `,"_msg":`...)
		doc = appendJSONString(doc, r.Message)
		for _, f := range r.Stream {
			labels[f.Name] = true
			doc = append(append(doc, ','), appendJSONString(nil, f.Name)...)
			doc = append(append(doc, ':'), appendJSONString(nil, f.Value)...)
		}
		for _, f := range r.Fields {
			doc = append(append(doc, ','), appendJSONString(nil, f.Name)...)
			doc = append(append(doc, ':'), appendJSONString(nil, f.Value)...)
		}
		buf.Write(append(doc, '}', '\n'))
	}
	for l := range labels {
		bt.StreamFields = append(bt.StreamFields, l)
	}
	slices.Sort(bt.StreamFields)
	bt.payload = buf.Bytes()
	return nil
}

func appendJSONString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s)
	return append(dst, b...)
}

func (o *httpOutput) send(ctx context.Context, bt *batch) (bool, error) {
	q := url.Values{"_msg_field": {record.MessageField}, "_time_field": {record.TimeField}}
	if len(bt.StreamFields) > 0 {
		q.Set("_stream_fields", strings.Join(bt.StreamFields, ","))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.url+"?"+q.Encode(), bytes.NewReader(bt.payload))
	if err != nil {
		return true, err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	if o.key != "" {
		req.Header.Set("Authorization", "Bearer "+o.key)
	}
	if bt.Tenant != "" {
		req.Header.Set("X-Scope-OrgID", bt.Tenant)
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return false, fmt.Errorf("send to %s: %w", o.url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return false, fmt.Errorf("read the answer of %s: %w", o.url, err)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
	case aimd.Classify(resp, nil) == aimd.Overloaded:
		return false, &overloadedError{fmt.Errorf("%s answered %s: %s", o.url, resp.Status, firstLine(body))}
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout:
		return false, fmt.Errorf("%s answered %s: %s", o.url, resp.Status, firstLine(body))
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusRequestEntityTooLarge:
		// Sending the same bytes again would get the same answer.
		return true, fmt.Errorf("%s refused the batch: %s: %s", o.url, resp.Status, firstLine(body))
	default:
		// 401 and 403 wait for a key that is allowed: nothing is dropped
		// for a configuration mistake.
		return false, fmt.Errorf("%s refused the batch: %s: %s", o.url, resp.Status, firstLine(body))
	}
	var ans struct {
		Errors bool `json:"errors"`
		Items  []map[string]struct {
			Status int `json:"status"`
			Error  struct {
				Reason string `json:"reason"`
			} `json:"error"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		return false, fmt.Errorf("the answer of %s is no _bulk answer: %w", o.url, err)
	}
	if ans.Errors {
		var reasons []string
		for _, it := range ans.Items {
			for _, v := range it {
				if v.Status >= 300 {
					reasons = append(reasons, v.Error.Reason)
				}
			}
		}
		return false, &rejectedError{n: len(reasons), first: strings.Join(reasons[:min(len(reasons), 1)], "")}
	}
	return false, nil
}

// overloadedError is an answer saying the server is overloaded (429,
// 502, 503, 504): the batch is retried and the limiter shrinks.
type overloadedError struct{ err error }

func (e *overloadedError) Error() string { return e.err.Error() }
func (e *overloadedError) Unwrap() error { return e.err }

// rejectedError reports records of an acknowledged batch that the server
// rejected one by one (bad input); the rest of the batch was stored.
type rejectedError struct {
	n     int
	first string
}

func (e *rejectedError) Error() string {
	return fmt.Sprintf("the server rejected %d records of the batch, e.g.: %s", e.n, e.first)
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}
