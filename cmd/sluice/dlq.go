package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"slices"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/kafka"
	"github.com/sluice-log/sluice/internal/sink"
)

func runDLQ(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "replay" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(stderr, "Usage: sluice dlq replay [flags]\n\nRun 'sluice dlq replay --help' for its flags.")
			return nil
		}
		return usagef("want a subcommand: replay")
	}
	return runDLQReplay(args[1:], stdout, stderr)
}

func runDLQReplay(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dlq replay", "dlq replay [--config FILE] [--kafka-brokers HOST:PORT,…] [--topic NAME] [--to NAME | --to-sink] [--reason TEXT] [--limit N] [--group NAME] [--dry-run]", `
Sends records an indexer dead-lettered back, once what refused them is
fixed (a mapping changed, a field limit raised). It reads the dead-letter
topic from where the last replay of the same --group stopped (the beginning
the first time) up to its end when the replay started, and sends every
selected record either back to the main topic, where the indexers take it
again (the default), or with --to-sink straight to the Elasticsearch or
OpenSearch sink of --config; a record the sink refuses again goes back to the
end of the dead-letter topic with the new reason. Offsets are committed to
--group after each batch is acknowledged, so an interrupted replay resumes.

Each record keeps the header sluice-source (where it was first consumed),
its identity: the search sinks index it under that _id, so replaying the
same record twice stores it once. Records passed over by --reason are passed
over for good by this --group (use another group to go over them again).

Progress goes to stderr every second; a summary by reason ends the run.`, stderr)
	cfgPath := fs.String("config", "", "YAML configuration `file` (kafka and sink sections; default: built-in defaults)")
	brokers := fs.String("kafka-brokers", "", "Kafka bootstrap `brokers`, HOST:PORT[,…] (overrides kafka.brokers)")
	topic := fs.String("topic", "", "dead-letter `topic` to read (default kafka.dead_letter_topic)")
	to := fs.String("to", "", "`topic` to send the records back to (default kafka.topic)")
	toSink := fs.Bool("to-sink", false, "write straight to the configuration's sink (sink.type elasticsearch or opensearch) instead of a topic")
	reason := fs.String("reason", "", "replay only records whose dead-letter reason contains `text`")
	limit := fs.Int("limit", 0, "replay at most `n` records (0: all)")
	group := fs.String("group", "sluice-dlq-replay", "consumer `group` whose committed offsets record what was replayed")
	dryRun := fs.Bool("dry-run", false, "print the records that would be replayed (source, reason, value) and change nothing")
	cfg, err := parseKafkaConfigFlags(fs, args, cfgPath, brokers)
	if err != nil {
		return err
	}
	o := kafka.ReplayOptions{
		DeadLetterTopic: cmp.Or(*topic, cfg.Kafka.DeadLetterTopic),
		Group:           *group,
		ToTopic:         cmp.Or(*to, cfg.Kafka.Topic),
		Reason:          *reason,
		Limit:           *limit,
		DryRun:          *dryRun,
		Print: func(source, reason string, value []byte) {
			fmt.Fprintf(stdout, "%s\t%s\t%s\n", source, reason, value)
		},
		Progress: func(st kafka.ReplayStats) {
			fmt.Fprintf(stderr, "replayed %d, skipped %d, refused again %d, %d left to read\n", st.Replayed, st.Skipped, st.Refused, st.Pending)
		},
	}
	if o.DeadLetterTopic == o.ToTopic && !*toSink {
		return usagef("--to %s is the dead-letter topic itself", o.ToTopic)
	}
	log := newLogger(cfg.Log, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *toSink {
		if cfg.Sink.Type != "elasticsearch" && cfg.Sink.Type != "opensearch" {
			return usagef("--to-sink needs sink.type elasticsearch or opensearch in --config (a store indexer takes replays through the topic)")
		}
		s, err := openSearchSink(ctx, cfg, prometheus.NewRegistry(), log)
		if err != nil {
			return err
		}
		o.Sink, o.Decoder = s, kafka.NewDecoder(recordConfig(cfg, cfg.Ingest.JSONLine), []byte(cfg.Kafka.TenantSigningKey))
		o.ToTopic = ""
	}
	st, err := kafka.Replay(ctx, kafkaClient(cfg), o, log.With("component", "dlq-replay"))
	printReplaySummary(stdout, o, st)
	return err
}

func printReplaySummary(w io.Writer, o kafka.ReplayOptions, st kafka.ReplayStats) {
	verb, dest := "replayed", "to topic "+o.ToTopic
	if o.DryRun {
		verb = "would replay"
	}
	if o.Sink != nil {
		dest = "to the sink"
	}
	fmt.Fprintf(w, "%s %d of %d records read from %s %s; skipped %d (--reason), refused again %d\n",
		verb, st.Replayed, st.Read, o.DeadLetterTopic, dest, st.Skipped, st.Refused)
	reasons := make([]string, 0, len(st.ByReason))
	for r := range st.ByReason {
		reasons = append(reasons, r)
	}
	slices.SortFunc(reasons, func(a, b string) int { return st.ByReason[b] - st.ByReason[a] })
	for _, r := range reasons {
		fmt.Fprintf(w, "  %6d  %s\n", st.ByReason[r], r)
	}
}

// openSearchSink opens the Elasticsearch/OpenSearch sink of cfg.
func openSearchSink(ctx context.Context, cfg config.Config, reg prometheus.Registerer, log *slog.Logger) (*sink.SearchSink, error) {
	es := cfg.Sink.Elasticsearch
	client := sink.ClientOptions{Addresses: es.Addresses, Username: es.Username, Password: es.Password, APIKey: es.APIKey, MaxRetries: es.MaxRetries}
	if es.AdaptiveConcurrency {
		client.InitialConcurrency, client.MaxConcurrency = es.Workers, es.MaxConcurrency
	}
	open := sink.OpenElasticsearch
	if cfg.Sink.Type == "opensearch" {
		open = sink.OpenOpenSearch
	}
	return open(ctx, client, searchSinkOptions(cfg), sink.NewMetrics(reg), log.With("component", cfg.Sink.Type+"-sink"))
}
