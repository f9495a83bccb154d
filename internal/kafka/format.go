package kafka

import (
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-log/sluice/internal/record"
)

// FormatHeader marks messages written by a Sluice gateway. Its value
// FormatRecord says the value is record.AppendJSON's shape, whose _stream
// names the stream labels exactly, so the indexer can rebuild the record
// as it was. Messages without it are any JSON log object, converted with
// the jsonline field mapping.
const (
	FormatHeader = "sluice-format"
	FormatRecord = "record-v1"
)

// Headers of a dead-lettered message: why, and where it was first consumed
// ("topic/partition/offset"). The source is the message's identity for
// good: a replay (sluice dlq replay) keeps it, the indexer takes it as the
// record's identity (sink.Item.Origin), and a message dead-lettered again
// keeps its first source.
const (
	ReasonHeader = "sluice-dead-letter-reason"
	SourceHeader = "sluice-source"
)

// withoutHeader returns h without key's entries.
func withoutHeader(h []kgo.RecordHeader, key string) []kgo.RecordHeader {
	out := make([]kgo.RecordHeader, 0, len(h))
	for _, x := range h {
		if x.Key != key {
			out = append(out, x)
		}
	}
	return out
}

// encode makes the Kafka record of r. The key is tenant and stream, so that
// one stream's records share a partition and stay in order.
func encode(r *record.Record, topic string) *kgo.Record {
	key := make([]byte, 0, len(r.Tenant)+64)
	key = append(key, r.Tenant...)
	key = append(key, 0)
	key = append(key, r.StreamString()...)
	return &kgo.Record{
		Topic:   topic,
		Key:     key,
		Value:   record.AppendJSON(make([]byte, 0, r.Size()+64), r),
		Headers: []kgo.RecordHeader{{Key: FormatHeader, Value: []byte(FormatRecord)}},
	}
}
