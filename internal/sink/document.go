package sink

import (
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// appendDocument appends r as the JSON document indexed into Elasticsearch
// or OpenSearch: @timestamp (what data streams and Kibana require), message,
// stream (the labels as one keyword, Sluice's stream identity), tenant when
// set, then the labels and fields under their own names. Dotted names are
// kept as they are; the cluster expands them into objects.
func appendDocument(dst []byte, r *record.Record) []byte {
	dst = append(dst, `{"@timestamp":"`...)
	dst = time.Unix(0, r.Time).UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","message":`...)
	dst = record.AppendJSONString(dst, r.Message)
	dst = append(dst, `,"stream":`...)
	dst = record.AppendJSONString(dst, r.StreamString())
	if r.Tenant != "" {
		dst = append(dst, `,"tenant":`...)
		dst = record.AppendJSONString(dst, r.Tenant)
	}
	for _, fs := range [2][]record.Field{r.Stream, r.Fields} {
		for _, f := range fs {
			name := f.Name
			switch name {
			case "@timestamp", "message", "stream", "tenant":
				// A field that happens to share a name above is kept
				// under a prefix rather than overwriting or dropping it.
				name = "field." + name
			}
			dst = append(dst, ',')
			dst = record.AppendJSONString(dst, name)
			dst = append(dst, ':')
			dst = record.AppendJSONString(dst, f.Value)
		}
	}
	return append(dst, '}')
}
