package main

import (
	"fmt"
	"net/http"

	"github.com/vmihailenco/msgpack/v5"
	"google.golang.org/protobuf/proto"
)

// receiver is one protocol under test.
type receiver struct {
	name   string
	filter string // the query filter that matches exactly its records
	acked  bool   // false: the clock runs until the server holds every record
	// prepare encodes one batch before the timed part.
	prepare func(recs []rec) (*payload, error)
	// open returns n concurrent client connections.
	open func(s *server, n int) ([]sender, error)
}

func receivers() []receiver {
	return []receiver{
		{name: "jsonline", filter: benchField + ":jsonline", acked: true,
			prepare: func(recs []rec) (*payload, error) {
				var b []byte
				for i := range recs {
					b = appendJSONLine(b, &recs[i], "jsonline")
				}
				return &payload{recs: recs, body: b, bytes: len(b)}, nil
			},
			open: httpOpen("/insert/jsonline", "application/x-ndjson")},
		{name: "esbulk", filter: benchField + ":esbulk", acked: true,
			prepare: func(recs []rec) (*payload, error) {
				p := &payload{recs: recs}
				for i := range recs {
					d := esDoc(&recs[i], "esbulk")
					p.docs = append(p.docs, d)
					p.bytes += len(`{"index":{"_index":"bench"}}`) + len(d) + 2
				}
				return p, nil
			},
			open: func(s *server, n int) ([]sender, error) { return newBulkSenders(s.httpURL, n) }},
		{name: "forward", filter: benchField + ":forward", acked: true,
			prepare: func(recs []rec) (*payload, error) {
				p := &payload{recs: recs}
				for i := range recs {
					// The library encodes; the size of the same Message
					// ([tag, time, record, {chunk}]) is counted here.
					b, err := msgpack.Marshal([]any{"bench", recs[i].time / 1e9, forwardRecord(&recs[i]),
						map[string]string{"chunk": "MDEyMzQ1Njc4OWFiY2RlZg=="}})
					if err != nil {
						return nil, fmt.Errorf("size forward message: %w", err)
					}
					p.bytes += len(b) + 6 // EventTime ext instead of an int
				}
				return p, nil
			},
			open: perConn(func(s *server) (sender, error) { return newForwardSender(s.forwardAddr) })},
		{name: "syslog-tcp", filter: "sd.bench.receiver:syslog-tcp", acked: false,
			prepare: func(recs []rec) (*payload, error) {
				var b []byte
				for i := range recs {
					b = appendSyslogFrame(b, &recs[i], "syslog-tcp")
				}
				return &payload{recs: recs, body: b, bytes: len(b)}, nil
			},
			open: perConn(func(s *server) (sender, error) { return newSyslogSender(s.syslogAddr) })},
		{name: "otlp-http", filter: benchField + ":otlp-http", acked: true,
			prepare: func(recs []rec) (*payload, error) {
				b, err := proto.Marshal(otlpRequest(recs, "otlp-http"))
				if err != nil {
					return nil, fmt.Errorf("marshal otlp: %w", err)
				}
				return &payload{recs: recs, body: b, bytes: len(b)}, nil
			},
			open: httpOpen("/v1/logs", "application/x-protobuf")},
		{name: "otlp-grpc", filter: benchField + ":otlp-grpc", acked: true,
			prepare: func(recs []rec) (*payload, error) {
				req := otlpRequest(recs, "otlp-grpc")
				return &payload{recs: recs, otlp: req, bytes: proto.Size(req)}, nil
			},
			open: perConn(func(s *server) (sender, error) { return newGRPCSender(s.grpcAddr) })},
		{name: "loki", filter: benchField + ":loki", acked: true,
			prepare: func(recs []rec) (*payload, error) {
				b := lokiPush(recs, "loki")
				return &payload{recs: recs, body: b, bytes: len(b)}, nil
			},
			open: httpOpen("/loki/api/v1/push", "application/x-protobuf")},
	}
}

func httpOpen(path, ctype string) func(s *server, n int) ([]sender, error) {
	return func(s *server, n int) ([]sender, error) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
		out := make([]sender, n)
		for i := range out {
			out[i] = &httpSender{client: client, url: s.httpURL + path, ctype: ctype}
		}
		return out, nil
	}
}

func perConn(dial func(s *server) (sender, error)) func(s *server, n int) ([]sender, error) {
	return func(s *server, n int) ([]sender, error) {
		out := make([]sender, 0, n)
		for range n {
			c, err := dial(s)
			if err != nil {
				for _, o := range out {
					o.close()
				}
				return nil, err
			}
			out = append(out, c)
		}
		return out, nil
	}
}
