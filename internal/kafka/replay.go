package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-log/sluice/internal/sink"
)

// ReplayOptions configures Replay.
type ReplayOptions struct {
	DeadLetterTopic string
	// Group is the consumer group whose committed offsets say what was
	// replayed already (only offsets are committed: no member joins).
	Group string
	// ToTopic receives a copy of each message (key, value, headers but the
	// reason); used when Sink is nil.
	ToTopic string
	// Sink, when set, takes the messages directly (after a fix of the
	// cluster); what it refuses again is produced back to the dead-letter
	// topic with the new reason. Decoder decodes them.
	Sink    sink.Sink
	Decoder *Decoder
	// Reason selects messages whose reason header contains it ("" all).
	// Messages it skips are passed over for good by this group.
	Reason string
	// Limit stops after replaying this many messages (0: no limit).
	Limit int
	// DryRun prints what would be replayed (Print) and changes nothing.
	DryRun bool
	Print  func(source, reason string, value []byte)
	// Progress is called about once a second and at the end.
	Progress func(ReplayStats)
}

// ReplayStats counts what Replay did.
type ReplayStats struct {
	Read     int            // messages read from the dead-letter topic
	Replayed int            // sent back (or, dry run, that would be)
	Skipped  int            // passed over by the Reason filter
	Refused  int            // refused again by the sink, back in the dead-letter topic
	Pending  int64          // messages left before the end the run aims at
	ByReason map[string]int // replayed messages by reason
}

// Replay reads the dead-letter topic from the group's committed offsets
// (the beginning the first time) up to its end offsets when it started,
// sends the selected messages back and commits the group's offsets after
// each batch is acknowledged, so that a replay stopped at any point resumes
// without sending anything twice (except the batch in flight at a crash,
// which the sinks' idempotent identities absorb).
func Replay(ctx context.Context, c ClientOptions, o ReplayOptions, log *slog.Logger) (ReplayStats, error) {
	st := ReplayStats{ByReason: map[string]int{}}
	base, err := c.kgoOpts(log)
	if err != nil {
		return st, err
	}
	cl, err := kgo.NewClient(append(base, kgo.RequiredAcks(kgo.AllISRAcks()))...)
	if err != nil {
		return st, fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	ends, err := adm.ListEndOffsets(ctx, o.DeadLetterTopic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return st, fmt.Errorf("list end offsets of %s: %w", o.DeadLetterTopic, err)
	}
	starts, err := adm.ListStartOffsets(ctx, o.DeadLetterTopic)
	if err != nil {
		return st, fmt.Errorf("list start offsets of %s: %w", o.DeadLetterTopic, err)
	}
	committed, err := adm.FetchOffsetsForTopics(ctx, o.Group, o.DeadLetterTopic)
	if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
		return st, fmt.Errorf("fetch offsets of group %s: %w", o.Group, err)
	}
	from := map[int32]kgo.Offset{}
	end := map[int32]int64{}
	next := map[int32]int64{}
	for p, e := range ends[o.DeadLetterTopic] {
		at := int64(0)
		if s, ok := starts.Lookup(o.DeadLetterTopic, p); ok && s.Err == nil {
			at = s.Offset
		}
		if cm, ok := committed.Lookup(o.DeadLetterTopic, p); ok && cm.Err == nil && cm.At > at {
			at = cm.At
		}
		if at < e.Offset {
			from[p] = kgo.NewOffset().At(at)
			end[p], next[p] = e.Offset, at
			st.Pending += e.Offset - at
		}
	}
	if len(from) == 0 {
		report(o, st)
		return st, nil
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{o.DeadLetterTopic: from})

	lastReport := time.Now()
	for len(end) > 0 && (o.Limit <= 0 || st.Replayed < o.Limit) {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return st, err
		}
		var ferr error
		fetches.EachError(func(_ string, _ int32, err error) { ferr = err })
		if ferr != nil {
			return st, fmt.Errorf("read %s: %w", o.DeadLetterTopic, ferr)
		}
		var batch []*kgo.Record
		fetches.EachRecord(func(m *kgo.Record) {
			e, ok := end[m.Partition]
			if !ok || m.Offset >= e || (o.Limit > 0 && st.Replayed+len(batch) >= o.Limit) {
				return
			}
			st.Read++
			next[m.Partition] = m.Offset + 1
			st.Pending--
			reason := headerValue(m, ReasonHeader)
			if o.Reason != "" && !strings.Contains(reason, o.Reason) {
				st.Skipped++
				return
			}
			st.ByReason[reason]++
			if o.DryRun && o.Print != nil {
				o.Print(headerValue(m, SourceHeader), reason, m.Value)
			}
			batch = append(batch, m)
		})
		if !o.DryRun {
			if err := replayBatch(ctx, cl, o, batch, &st); err != nil {
				return st, err
			}
			if err := commitNext(ctx, adm, o, next); err != nil {
				return st, err
			}
		}
		st.Replayed += len(batch)
		for p, e := range end {
			if next[p] >= e {
				delete(end, p)
			}
		}
		if time.Since(lastReport) >= time.Second {
			lastReport = time.Now()
			report(o, st)
		}
	}
	report(o, st)
	return st, nil
}

func report(o ReplayOptions, st ReplayStats) {
	if o.Progress != nil {
		o.Progress(st)
	}
}

// replayBatch sends batch to the main topic or the sink.
func replayBatch(ctx context.Context, cl *kgo.Client, o ReplayOptions, batch []*kgo.Record, st *ReplayStats) error {
	if len(batch) == 0 {
		return nil
	}
	var out []*kgo.Record
	if o.Sink == nil {
		for _, m := range batch {
			out = append(out, &kgo.Record{Topic: o.ToTopic, Key: m.Key, Value: m.Value, Headers: withoutHeader(m.Headers, ReasonHeader)})
		}
	} else {
		items := make([]sink.Item, 0, len(batch))
		byID := map[string]*kgo.Record{}
		for _, m := range batch {
			r, err := o.Decoder.Decode(m)
			if err != nil {
				st.Refused++
				out = append(out, redeadLetter(o, m, "decode: "+err.Error()))
				continue
			}
			it := sink.Item{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Record: r, Origin: headerValue(m, SourceHeader)}
			byID[it.ID()] = m
			items = append(items, it)
		}
		rejected, err := o.Sink.Write(ctx, items)
		if err != nil {
			return fmt.Errorf("write to the sink: %w", err)
		}
		for _, rj := range rejected {
			st.Refused++
			out = append(out, redeadLetter(o, byID[rj.Item.ID()], "sink: "+rj.Reason))
		}
	}
	if len(out) == 0 {
		return nil
	}
	if err := cl.ProduceSync(ctx, out...).FirstErr(); err != nil {
		return fmt.Errorf("produce replayed messages: %w", err)
	}
	return nil
}

// redeadLetter puts a message the sink refused again back at the end of
// the dead-letter topic, with the new reason and its first source.
func redeadLetter(o ReplayOptions, m *kgo.Record, reason string) *kgo.Record {
	h := withoutHeader(m.Headers, ReasonHeader)
	h = append(h, kgo.RecordHeader{Key: ReasonHeader, Value: []byte(reason)})
	return &kgo.Record{Topic: o.DeadLetterTopic, Key: m.Key, Value: m.Value, Headers: h}
}

func commitNext(ctx context.Context, adm *kadm.Client, o ReplayOptions, next map[int32]int64) error {
	offs := make(kadm.Offsets)
	for p, at := range next {
		offs.Add(kadm.Offset{Topic: o.DeadLetterTopic, Partition: p, At: at, LeaderEpoch: -1})
	}
	resp, err := adm.CommitOffsets(ctx, o.Group, offs)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return fmt.Errorf("commit offsets of group %s: %w", o.Group, err)
	}
	return nil
}
