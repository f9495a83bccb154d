package esbulk

import (
	"net/http"
	"strconv"

	"github.com/sluice-log/sluice/internal/record"
)

// appendBulkResponse appends the answer to a processed bulk request, item
// for item in request order, in Elasticsearch's shape, with what f keeps
// of it. An item none of whose fields f keeps is left out, and so are
// items when none is left, as Elasticsearch's filter_path does.
func appendBulkResponse(dst []byte, tookMs int64, items []item, ids *idGen, f responseFilter) []byte {
	failed := false
	for i := range items {
		if items[i].status != http.StatusCreated {
			failed = true
			break
		}
	}
	start := len(dst)
	dst = append(dst, '{')
	sep := func() {
		if len(dst) > start+1 {
			dst = append(dst, ',')
		}
	}
	if f.took {
		dst = append(dst, `"took":`...)
		dst = strconv.AppendInt(dst, tookMs, 10)
	}
	if f.errors {
		sep()
		dst = append(dst, `"errors":`...)
		dst = strconv.AppendBool(dst, failed)
	}
	if f.fields != 0 {
		mark := len(dst)
		sep()
		dst = append(dst, `"items":[`...)
		n := 0
		for i := range items {
			if !f.keepsAny(&items[i]) {
				continue
			}
			if n > 0 {
				dst = append(dst, ',')
			}
			dst = appendItem(dst, &items[i], ids, f.fields)
			n++
		}
		if n == 0 {
			dst = dst[:mark]
		} else {
			dst = append(dst, ']')
		}
	}
	return append(dst, "}\n"...)
}

// keepsAny reports whether f keeps a field of it.
func (f responseFilter) keepsAny(it *item) bool {
	if it.status == http.StatusCreated {
		return f.fields&^fieldError != 0
	}
	return f.fields&(fieldIndex|fieldID|fieldStatus|fieldError) != 0
}

// appendItem appends it with the fields of the answer that fields keeps.
func appendItem(dst []byte, it *item, ids *idGen, fields int) []byte {
	if it.status == http.StatusCreated && fields&^fieldError == fieldStatus {
		// What the shippers' filter_path leaves of a stored document, the
		// same few bytes for nearly every item (appendItemFull's, checked
		// by FuzzBulkParse).
		switch it.action {
		case "create":
			return append(dst, `{"create":{"status":201}}`...)
		case "index":
			return append(dst, `{"index":{"status":201}}`...)
		}
	}
	return appendItemFull(dst, it, ids, fields)
}

// appendItemFull is appendItem for any item and fields.
func appendItemFull(dst []byte, it *item, ids *idGen, fields int) []byte {
	dst = append(dst, '{')
	dst = record.AppendJSONString(dst, it.action)
	dst = append(dst, `:{`...)
	start := len(dst)
	key := func(name string) {
		if len(dst) > start {
			dst = append(dst, ',')
		}
		dst = append(dst, name...)
	}
	if fields&fieldIndex != 0 {
		key(`"_index":`)
		dst = appendStringOrNull(dst, it.index)
	}
	if fields&fieldID != 0 {
		key(`"_id":`)
		if it.gen != 0 {
			dst = append(ids.appendID(append(dst, '"'), it.gen), '"')
		} else {
			dst = appendStringOrNull(dst, it.id)
		}
	}
	if it.status == http.StatusCreated {
		if fields&fieldVersion != 0 {
			key(`"_version":1`)
		}
		if fields&fieldResult != 0 {
			key(`"result":"created"`)
		}
		if fields&fieldShards != 0 {
			key(`"_shards":{"total":1,"successful":1,"failed":0}`)
		}
		if fields&fieldSeqNo != 0 {
			key(`"_seq_no":`)
			dst = strconv.AppendInt(dst, it.seqNo, 10)
		}
		if fields&fieldPrimaryTerm != 0 {
			key(`"_primary_term":1`)
		}
		if fields&fieldStatus != 0 {
			key(`"status":201`)
		}
		return append(dst, "}}"...)
	}
	if fields&fieldStatus != 0 {
		key(`"status":`)
		dst = strconv.AppendInt(dst, int64(it.status), 10)
	}
	if fields&fieldError != 0 {
		key(`"error":{"type":`)
		dst = record.AppendJSONString(dst, it.errTyp)
		dst = append(dst, `,"reason":`...)
		dst = record.AppendJSONString(dst, it.reason)
		dst = append(dst, '}')
	}
	return append(dst, "}}"...)
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
