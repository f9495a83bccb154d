package trust

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func init() { Register("kafka", openKafkaWitness) }

// kafkaWitness produces every head to a topic, keyed by the node's name,
// and reads the newest one back: a log the node's data directory cannot
// rewrite (give the node's Kafka user write but not delete rights on it).
// Records of a key are in one partition, in order.
type kafkaWitness struct {
	client *kgo.Client
	topic  string
	node   string
}

func openKafkaWitness(u *url.URL, env Env) (Witness, error) {
	topic := u.Host
	if topic == "" {
		return nil, fmt.Errorf("kafka witness URL names no topic: kafka://topic")
	}
	if len(env.KafkaOpts) == 0 {
		return nil, fmt.Errorf("kafka witness needs kafka.brokers")
	}
	node := strings.Trim(u.Path, "/")
	if node == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("no node name in the URL and no host name: %w", err)
		}
		node = h
	}
	c, err := kgo.NewClient(append(env.KafkaOpts, kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()))...)
	if err != nil {
		return nil, err
	}
	return &kafkaWitness{client: c, topic: topic, node: node}, nil
}

func (w *kafkaWitness) Put(ctx context.Context, h Head) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	return w.client.ProduceSync(ctx, &kgo.Record{Key: []byte(w.node), Value: b}).FirstErr()
}

// Get reads the topic from the start and returns the head of the node
// with the greatest entry.
func (w *kafkaWitness) Get(ctx context.Context) (Head, bool, error) {
	adm := kadm.NewClient(w.client)
	ends, err := adm.ListEndOffsets(ctx, w.topic)
	if err != nil {
		return Head{}, false, fmt.Errorf("read end offsets of %s: %w", w.topic, err)
	}
	if err := ends.Error(); err != nil {
		return Head{}, false, fmt.Errorf("read end offsets of %s: %w", w.topic, err)
	}
	want := map[int32]int64{}
	offsets := map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
			offsets[o.Partition] = kgo.NewOffset().AtStart()
		}
	})
	if len(want) == 0 {
		return Head{}, false, nil
	}
	opts := append(w.client.Opts(), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{w.topic: offsets}))
	r, err := kgo.NewClient(opts...)
	if err != nil {
		return Head{}, false, err
	}
	defer r.Close()
	var best Head
	found := false
	for len(want) > 0 {
		fs := r.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return Head{}, false, err
		}
		if errs := fs.Errors(); len(errs) > 0 {
			return Head{}, false, fmt.Errorf("read %s: %w", w.topic, errs[0].Err)
		}
		fs.EachRecord(func(rec *kgo.Record) {
			if end, ok := want[rec.Partition]; ok && rec.Offset+1 >= end {
				delete(want, rec.Partition)
			}
			var h Head
			if string(rec.Key) != w.node || json.Unmarshal(rec.Value, &h) != nil {
				return
			}
			if !found || h.Seq > best.Seq || (h.Seq == best.Seq && h.WALSeq >= best.WALSeq) {
				best, found = h, true
			}
		})
	}
	return best, found, nil
}

func (w *kafkaWitness) Close() error {
	w.client.Close()
	return nil
}
