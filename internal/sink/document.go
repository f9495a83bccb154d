package sink

import (
	"math"
	"strconv"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// appendDocument appends r as the JSON document indexed into Elasticsearch
// or OpenSearch: @timestamp (what data streams and Kibana require),
// message, sluice.stream (the labels as one keyword, Sluice's stream
// identity), sluice.tenant when set, then the labels and fields under
// their ECS names (ecsNames) or their own. Values that are plain numbers
// or booleans are written as JSON numbers and booleans, so that dynamic
// mapping makes them numbers (long or double) and booleans; the rest are
// strings (dates among them are detected by the template's date_detection).
// Dotted names are kept as they are; the cluster expands them into
// objects.
func appendDocument(dst []byte, r *record.Record) []byte {
	dst = append(dst, `{"@timestamp":"`...)
	dst = time.Unix(0, r.Time).UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","message":`...)
	dst = record.AppendJSONString(dst, r.Message)
	dst = append(dst, `,"`+docStream+`":`...)
	dst = record.AppendJSONString(dst, r.StreamString())
	if r.Tenant != "" {
		dst = append(dst, `,"`+docTenant+`":`...)
		dst = record.AppendJSONString(dst, r.Tenant)
	}
	var emitted []string // ECS names already written (two sources of one name)
	used := func(name string) bool {
		if _, ok := r.Get(name); ok {
			return true
		}
		for _, e := range emitted {
			if e == name {
				return true
			}
		}
		return false
	}
	for _, fs := range [2][]record.Field{r.Stream, r.Fields} {
		for _, f := range fs {
			name := ecsName(f.Name, used)
			if ecsNames[f.Name] == name {
				emitted = append(emitted, name)
			}
			dst = append(dst, ',')
			dst = record.AppendJSONString(dst, name)
			dst = append(dst, ':')
			dst = appendValue(dst, f.Value)
		}
	}
	return append(dst, '}')
}

// appendValue writes v as a JSON number or boolean when it is one as
// written (plainNumber), else as a string.
func appendValue(dst []byte, v string) []byte {
	if v == "true" || v == "false" || plainNumber(v) {
		return append(dst, v...)
	}
	return record.AppendJSONString(dst, v)
}

// plainNumber reports whether s is a decimal number written plainly:
// an optional minus, digits without a leading zero (unless the only one),
// an optional fraction; an integer must fit in a long, a fraction in a
// finite double. "007", "1e5", "0x1F", "+1", "1." and "NaN" stay strings
// (an identifier, not a quantity, or not JSON).
func plainNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	digits := i - start
	if digits == 0 || (digits > 1 && s[start] == '0') {
		return false
	}
	if i == len(s) {
		_, err := strconv.ParseInt(s, 10, 64)
		return err == nil
	}
	if s[i] != '.' {
		return false
	}
	i++
	frac := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == frac || i != len(s) {
		return false
	}
	f, err := strconv.ParseFloat(s, 64)
	return err == nil && !math.IsInf(f, 0)
}
