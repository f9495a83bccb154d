package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-log/sluice/internal/sink"
	"github.com/sluice-log/sluice/internal/testutil/esfake"
)

// deadLetters fills the dead-letter topic of a new kfake cluster with n
// messages as an indexer writes them: reasons alternate between a mapping
// conflict and a decode error.
func deadLetters(t *testing.T, n int) (*kfake.Cluster, *kgo.Client) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "logs", "logs-dead-letter"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	for i := range n {
		reason := "sink: status 400 document_parsing_exception: mapping conflict"
		if i%2 == 1 {
			reason = "decode: invalid JSON"
		}
		m := &kgo.Record{Topic: "logs-dead-letter", Value: fmt.Appendf(nil, `{"_msg":"record %d","n":%d}`, i, i), Headers: []kgo.RecordHeader{
			{Key: ReasonHeader, Value: []byte(reason)},
			{Key: SourceHeader, Value: fmt.Appendf(nil, "logs/0/%d", 100+i)},
		}}
		if err := cl.ProduceSync(context.Background(), m).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	return c, cl
}

func readTopic(t *testing.T, c *kfake.Cluster, topic string, want int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < want && ctx.Err() == nil {
		recs = append(recs, cl.PollFetches(ctx).Records()...)
	}
	return recs
}

func TestReplayToTopic(t *testing.T) {
	c, _ := deadLetters(t, 10)
	ctx := context.Background()
	copts := ClientOptions{Brokers: c.ListenAddrs()}
	opts := ReplayOptions{DeadLetterTopic: "logs-dead-letter", Group: "replay", ToTopic: "logs", Reason: "mapping conflict", Limit: 3}
	log := slog.New(slog.DiscardHandler)

	// A dry run changes nothing.
	var printed int
	dry := opts
	dry.DryRun, dry.Print = true, func(string, string, []byte) { printed++ }
	if st, err := Replay(ctx, copts, dry, log); err != nil || st.Replayed != 3 || printed != 3 {
		t.Fatalf("dry run: %+v %v, printed %d", st, err, printed)
	}

	st, err := Replay(ctx, copts, opts, log)
	if err != nil || st.Replayed != 3 || st.ByReason["sink: status 400 document_parsing_exception: mapping conflict"] != 3 {
		t.Fatalf("first run: %+v %v", st, err)
	}
	// The next run resumes after the first: the other 2 mapping conflicts;
	// the decode errors are passed over.
	opts.Limit = 0
	if st, err = Replay(ctx, copts, opts, log); err != nil || st.Replayed != 2 || st.Skipped == 0 {
		t.Fatalf("second run: %+v %v", st, err)
	}
	if st, err = Replay(ctx, copts, opts, log); err != nil || st.Read != 0 || st.Replayed != 0 {
		t.Fatalf("third run, nothing left: %+v %v", st, err)
	}
	recs := readTopic(t, c, "logs", 5)
	if len(recs) != 5 {
		t.Fatalf("main topic holds %d replayed records, want 5", len(recs))
	}
	for _, m := range recs {
		if headerValue(m, ReasonHeader) != "" || headerValue(m, SourceHeader) == "" {
			t.Errorf("replayed record headers %v: want the source kept and the reason dropped", m.Headers)
		}
	}
}

// TestReplayToSink writes dead letters straight to the search sink (esfake,
// see internal/testutil/esfake): each under its first source as _id, so a
// second replay of the same records (another group) stores nothing twice.
func TestReplayToSink(t *testing.T) {
	c, _ := deadLetters(t, 6)
	ctx := context.Background()
	srv := esfake.New(t, esfake.Elasticsearch)
	s, err := sink.OpenElasticsearch(ctx, sink.ClientOptions{Addresses: []string{srv.URL}},
		sink.SearchSinkOptions{DataStreamPrefix: "sluice-logs", SetupTemplates: true, Backoff: time.Millisecond},
		sink.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, group := range []string{"a", "b"} {
		st, err := Replay(ctx, ClientOptions{Brokers: c.ListenAddrs()}, ReplayOptions{DeadLetterTopic: "logs-dead-letter", Group: group,
			Sink: s, Decoder: testDecoder()}, slog.New(slog.DiscardHandler))
		if err != nil || st.Read != 6 || st.Refused != 0 {
			t.Fatalf("group %s: %+v %v", group, st, err)
		}
	}
	docs := srv.Docs("sluice-logs-default")
	if len(docs) != 6 || docs[0]["_id"] != "logs-0-100" {
		t.Fatalf("stream holds %d documents (first %v), want 6 under their first sources", len(docs), docs[0])
	}
}
