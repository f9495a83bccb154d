package esbulk

import "strings"

// Item fields of a bulk answer, as filter_path names them.
const (
	fieldIndex = 1 << iota
	fieldID
	fieldVersion
	fieldResult
	fieldShards
	fieldSeqNo
	fieldPrimaryTerm
	fieldStatus
	fieldError
	allFields = 1<<iota - 1
)

var itemFields = map[string]int{
	"_index": fieldIndex, "_id": fieldID, "_version": fieldVersion, "result": fieldResult,
	"_shards": fieldShards, "_seq_no": fieldSeqNo, "_primary_term": fieldPrimaryTerm,
	"status": fieldStatus, "error": fieldError, "*": allFields,
}

// responseFilter is what an answer keeps of Elasticsearch's filter_path
// parameter. Filebeat, Logstash and the OpenTelemetry Collector's exporter
// all send filter_path=errors,items.*.error,items.*.status, which makes
// a stored document's item {"create":{"status":201}}: 26 bytes instead of
// about 190, written and read for every document.
type responseFilter struct {
	took, errors bool
	fields       int // item fields kept; 0 leaves out items
}

// fullResponse is the answer without filter_path.
var fullResponse = responseFilter{took: true, errors: true, fields: allFields}

// parseFilterPath returns the filter for a filter_path value. The paths
// understood are took, errors, items, items.* and items.<action or
// *>.<field or *>; any other (wildcards elsewhere, exclusions, **) gives
// the whole answer, which a client that asked for less still reads.
func parseFilterPath(v string) responseFilter {
	if v == "" {
		return fullResponse
	}
	var f responseFilter
	for p := range strings.SplitSeq(v, ",") {
		switch p = strings.TrimSpace(p); p {
		case "took":
			f.took = true
		case "errors":
			f.errors = true
		case "items", "items.*":
			f.fields = allFields
		default:
			rest, ok := strings.CutPrefix(p, "items.")
			action, field, ok2 := strings.Cut(rest, ".")
			bit := itemFields[field]
			if !ok || !ok2 || bit == 0 || !(action == "*" || action == "create" || action == "index") {
				return fullResponse
			}
			f.fields |= bit
		}
	}
	return f
}
