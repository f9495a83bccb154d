package kafka

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"

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

// TenantHeader carries a gateway's message's tenant. The indexer takes the
// tenant from it and from nothing else: a record's own _tenant field is
// never read, so a client cannot write into another tenant by naming it
// in its body.
const TenantHeader = "sluice-tenant"

// TenantMACHeader proves that a gateway wrote TenantHeader: the hex
// HMAC-SHA256, under kafka.tenant_signing_key, of the tenant, a zero byte
// and the message's value. An indexer with the key refuses (dead-letters)
// a message without a valid one, so that a producer with write access to
// the topic but not the key cannot choose a tenant either.
const TenantMACHeader = "sluice-tenant-mac"

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
// one stream's records share a partition and stay in order. The value
// leaves the tenant out (it travels in TenantHeader), signed when
// signingKey is set.
func encode(r *record.Record, topic string, signingKey []byte) *kgo.Record {
	key := make([]byte, 0, len(r.Tenant)+64)
	key = append(key, r.Tenant...)
	key = append(key, 0)
	key = append(key, r.StreamString()...)
	t := r.Tenant
	r.Tenant = ""
	value := record.AppendJSON(make([]byte, 0, r.Size()+64), r)
	r.Tenant = t
	headers := []kgo.RecordHeader{{Key: FormatHeader, Value: []byte(FormatRecord)}, {Key: TenantHeader, Value: []byte(t)}}
	if len(signingKey) > 0 {
		headers = append(headers, kgo.RecordHeader{Key: TenantMACHeader, Value: tenantMAC(signingKey, t, value)})
	}
	return &kgo.Record{Topic: topic, Key: key, Value: value, Headers: headers}
}

// tenantMAC is TenantMACHeader's value for tenant and value.
func tenantMAC(signingKey []byte, tenant string, value []byte) []byte {
	m := hmac.New(sha256.New, signingKey)
	m.Write([]byte(tenant))
	m.Write([]byte{0})
	m.Write(value)
	return []byte(hex.EncodeToString(m.Sum(nil)))
}
