package esbulk

import (
	"net/http"
	"strconv"

	"github.com/sluice-log/sluice/internal/record"
)

// appendBulkResponse appends the answer to a processed bulk request, item
// for item in request order, in Elasticsearch's shape.
func appendBulkResponse(dst []byte, tookMs int64, items []item, ids *idGen) []byte {
	failed := false
	for i := range items {
		if items[i].status != http.StatusCreated {
			failed = true
			break
		}
	}
	dst = append(dst, `{"took":`...)
	dst = strconv.AppendInt(dst, tookMs, 10)
	dst = append(dst, `,"errors":`...)
	dst = strconv.AppendBool(dst, failed)
	dst = append(dst, `,"items":[`...)
	for i := range items {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendItem(dst, &items[i], ids)
	}
	return append(dst, "]}\n"...)
}

func appendItem(dst []byte, it *item, ids *idGen) []byte {
	dst = append(dst, '{')
	dst = record.AppendJSONString(dst, it.action)
	dst = append(dst, `:{"_index":`...)
	dst = appendStringOrNull(dst, it.index)
	dst = append(dst, `,"_id":`...)
	if it.gen != 0 {
		dst = append(ids.appendID(append(dst, '"'), it.gen), '"')
	} else {
		dst = appendStringOrNull(dst, it.id)
	}
	if it.status == http.StatusCreated {
		dst = append(dst, `,"_version":1,"result":"created","_shards":{"total":1,"successful":1,"failed":0},"_seq_no":`...)
		dst = strconv.AppendInt(dst, it.seqNo, 10)
		dst = append(dst, `,"_primary_term":1,"status":201}}`...)
		return dst
	}
	dst = append(dst, `,"status":`...)
	dst = strconv.AppendInt(dst, int64(it.status), 10)
	dst = append(dst, `,"error":{"type":`...)
	dst = record.AppendJSONString(dst, it.errTyp)
	dst = append(dst, `,"reason":`...)
	dst = record.AppendJSONString(dst, it.reason)
	return append(dst, "}}}"...)
}

func appendStringOrNull(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, "null"...)
	}
	return record.AppendJSONString(dst, s)
}

// appendError appends Elasticsearch's answer to a failed request.
func appendError(dst []byte, e *esError) []byte {
	dst = append(dst, `{"error":{"root_cause":[{"type":`...)
	dst = record.AppendJSONString(dst, e.typ)
	dst = append(dst, `,"reason":`...)
	dst = record.AppendJSONString(dst, e.reason)
	dst = append(dst, `}],"type":`...)
	dst = record.AppendJSONString(dst, e.typ)
	dst = append(dst, `,"reason":`...)
	dst = record.AppendJSONString(dst, e.reason)
	dst = append(dst, `},"status":`...)
	dst = strconv.AppendInt(dst, int64(e.status), 10)
	return append(dst, "}\n"...)
}

// appendRouteError appends the answer Elasticsearch gives for a request no
// API handles, whose error is a plain string.
func appendRouteError(dst []byte, status int, reason string) []byte {
	dst = append(dst, `{"error":`...)
	dst = record.AppendJSONString(dst, reason)
	dst = append(dst, `,"status":`...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	return append(dst, "}\n"...)
}
