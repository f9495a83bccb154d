package esbulk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/valyala/fastjson"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

// Error types of Elasticsearch that the answers use, so that clients
// classify failures as they would Elasticsearch's.
const (
	typeIllegalArgument     = "illegal_argument_exception"
	typeValidation          = "action_request_validation_exception"
	typeDocumentParsing     = "document_parsing_exception"
	typeRejectedExecution   = "es_rejected_execution_exception"
	typeUnavailable         = "unavailable_shards_exception"
	typeParse               = "parse_exception"
	typeContentTooLong      = "content_too_long_exception"
	typeUnsupportedEncoding = "unsupported_content_encoding_exception"
)

// esError fails a whole request with Elasticsearch's error shape.
type esError struct {
	status int
	typ    string
	reason string
}

func (e *esError) Error() string { return e.typ + ": " + e.reason }

// item is one action of a bulk request and its outcome.
type item struct {
	action string
	index  string // "" when unknown
	id     string // "" when unknown or generated
	gen    uint64 // the generated id's counter value (see idGen), 0 for none
	status int    // 201 once stored, or the failure's
	errTyp string
	reason string
	label  string // the rejected-records metric's reason
	seqNo  int64
}

// bulkParser turns a bulk body into items and the records of the index and
// create actions among them. It reuses buffers and is not safe for
// concurrent use.
type bulkParser struct {
	conv  *ingest.Converter
	meta  fastjson.Parser
	extra [2]record.Field
	// indexField receives the index name (Config.IndexField); "" for none.
	indexField string
	// items is kept for the next request: the handler puts the parser
	// back only after it wrote the answer from them.
	items []item
	// index is the last index name read from an action line: clients send
	// the same one for every document, and reusing it saves a string per
	// document.
	index string
	// lastAction is the last action line read in this request and
	// lastItem what it parsed to, when repeat is set: shippers send the
	// same action line before every document (Logstash's and Fluent Bit's
	// with keys the fast path does not take), and an identical line
	// parses to the same item, so it is not parsed again.
	lastAction []byte
	lastItem   item
	repeat     bool
	reparse    bool // parse every line (tests compare the two)
	// answer is the last request's answer, whose buffer the next one
	// reuses once it is written (see handler.bulk).
	answer []byte
	// sizer sizes the records slice up front from the body parsed before.
	sizer ingest.RecordsSizer
}

func newBulkParser(cfg ingest.RecordConfig) *bulkParser {
	return &bulkParser{conv: ingest.NewConverter(cfg), indexField: DefaultConfig().IndexField}
}

// parse reads the body line by line. It returns an *esError for a request
// that cannot be processed at all (a malformed action line, a body that
// cannot be read); every other problem fails only its item.
func (p *bulkParser) parse(lr *ingest.LineReader, defaultIndex, tenant string, now time.Time, ids *idGen) ([]item, []record.Record, *esError) {
	recs := p.sizer.Records()
	items := p.items[:0]
	defer func() { p.items = items[:0] }()
	p.repeat = false // the item depends on defaultIndex, the request's
	for {
		line, err := lr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, lineError(lr, err, "action/metadata")
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		it, bad := p.action(line, lr.Line(), defaultIndex)
		if bad != nil {
			return nil, nil, bad
		}
		if it.action == "delete" {
			it.fail(http.StatusBadRequest, typeValidation, "delete is not supported: Sluice stores logs append-only", "unsupported_action")
			items = append(items, it)
			continue
		}
		actionLine := lr.Line()
		src, err := lr.Next()
		tooLong := errors.Is(err, ingest.ErrLineTooLong)
		switch {
		case err == io.EOF:
			return nil, nil, &esError{http.StatusBadRequest, typeIllegalArgument,
				fmt.Sprintf("action [%s] on line [%d] has no source line; the bulk request must be terminated by a newline [\\n]", it.action, actionLine)}
		case err != nil && !tooLong:
			return nil, nil, lineError(lr, err, "source")
		}
		switch it.action {
		case "index", "create":
		case "update":
			it.fail(http.StatusBadRequest, typeValidation, "update is not supported: Sluice stores logs append-only", "unsupported_action")
		default:
			it.fail(http.StatusBadRequest, typeIllegalArgument,
				fmt.Sprintf("unknown action [%s] on line [%d]; expected [create], [index], [update] or [delete]", it.action, actionLine),
				"unknown_action")
		}
		switch {
		case it.status != 0:
		case tooLong:
			it.fail(http.StatusBadRequest, typeDocumentParsing,
				fmt.Sprintf("failed to parse document on line [%d]: %s", lr.Line(), err), ingest.RejectReason(err))
		default:
			// An id the client sent is its data and is stored; one made up
			// here is only answered, as VictoriaLogs does: a unique value in
			// every record cost 5 bytes a record on disk and a tenth more CPU
			// until settled, for an id nothing can look documents up by.
			extra := p.extra[:0]
			if p.indexField != "" {
				extra = append(extra, record.Field{Name: p.indexField, Value: it.index})
			}
			if it.id != "" {
				extra = append(extra, record.Field{Name: "_id", Value: it.id})
			} else {
				it.gen = 1 // numbered below, once the count is known
			}
			rec, err := p.conv.Convert(src, now, tenant, extra)
			if err != nil {
				it.fail(http.StatusBadRequest, typeDocumentParsing,
					fmt.Sprintf("failed to parse document on line [%d]: %s", lr.Line(), err), ingest.RejectReason(err))
			} else {
				recs = append(recs, rec)
			}
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return nil, nil, &esError{http.StatusBadRequest, typeValidation, "Validation Failed: 1: no requests added;"}
	}
	numberIDs(items, ids)
	p.sizer.Done(len(recs), lr.Bytes())
	return items, recs, nil
}

// numberIDs gives the items that need an id consecutive counter values,
// with one atomic operation for the whole request.
func numberIDs(items []item, ids *idGen) {
	n := 0
	for i := range items {
		if items[i].gen != 0 {
			n++
		}
	}
	if n == 0 {
		return
	}
	next := ids.reserve(n)
	for i := range items {
		if items[i].gen != 0 {
			items[i].gen = next
			next++
		}
	}
}

func (it *item) fail(status int, typ, reason, label string) {
	it.status, it.errTyp, it.reason, it.label = status, typ, reason, label
}

// lineError turns a failure to read a line of kind into an *esError.
func lineError(lr *ingest.LineReader, err error, kind string) *esError {
	if errors.Is(err, ingest.ErrLineTooLong) {
		return &esError{http.StatusBadRequest, typeIllegalArgument,
			fmt.Sprintf("Malformed %s line [%d]: %s", kind, lr.Line(), err)}
	}
	return requestError(err)
}

// requestError turns a failure to open or read the body into an *esError.
func requestError(err error) *esError {
	status := ingest.RequestStatus(err)
	typ := typeParse
	switch status {
	case http.StatusRequestEntityTooLarge:
		typ = typeContentTooLong
	case http.StatusUnsupportedMediaType:
		typ = typeUnsupportedEncoding
	case http.StatusTooManyRequests:
		typ = typeRejectedExecution // what Beats and Logstash retry
	}
	return &esError{status, typ, err.Error()}
}

// maxRepeatLine bounds the action line the pooled parser keeps for the next
// (lastAction): shippers' are under 100 bytes.
const maxRepeatLine = 256

// action parses one action line: an object with exactly one key, the
// action, whose value is an object of metadata. Only a line that is not of
// that shape fails the request; a well-formed line with bad metadata fails
// its item (status set). A line byte for byte the same as the one before
// in the request gives the same item without being parsed again: an item
// depends only on the line and defaultIndex (its failures name no line
// number; those that do are set by parse, on the copy it gets).
func (p *bulkParser) action(line []byte, n int, defaultIndex string) (item, *esError) {
	if p.repeat && !p.reparse && bytes.Equal(line, p.lastAction) {
		return p.lastItem, nil
	}
	it, ok := p.fastAction(line, defaultIndex)
	if !ok {
		var bad *esError
		if it, bad = p.parseAction(line, n, defaultIndex); bad != nil {
			return it, bad
		}
	}
	if p.repeat = len(line) <= maxRepeatLine; p.repeat {
		p.lastAction = append(p.lastAction[:0], line...)
		p.lastItem = it
	}
	return it, nil
}

// parseAction is action for any line, with a JSON parser.
func (p *bulkParser) parseAction(line []byte, n int, defaultIndex string) (item, *esError) {
	malformed := func(format string, args ...any) *esError {
		return &esError{http.StatusBadRequest, typeIllegalArgument,
			fmt.Sprintf("Malformed action/metadata line [%d], ", n) + fmt.Sprintf(format, args...)}
	}
	v, err := p.meta.ParseBytes(line)
	if err != nil {
		return item{}, malformed("expected a JSON object: %s", err)
	}
	o, err := v.Object()
	if err != nil {
		return item{}, malformed("expected START_OBJECT but found [%s]", v.Type())
	}
	if o.Len() != 1 {
		return item{}, malformed("expected one action but found %d keys", o.Len())
	}
	var (
		it   item
		meta *fastjson.Value
	)
	o.Visit(func(key []byte, v *fastjson.Value) {
		it.action = actionName(key)
		meta = v
	})
	mo, err := meta.Object()
	if err != nil {
		return item{}, malformed("expected START_OBJECT after [%s] but found [%s]", it.action, meta.Type())
	}
	it.index = defaultIndex
	// A null counts as absent, as it does for Elasticsearch.
	if v := mo.Get("_index"); v != nil && v.Type() != fastjson.TypeNull {
		if b, err := v.StringBytes(); err == nil && string(b) == p.index {
			it.index = p.index
		} else {
			it.index = scalar(v)
			p.index = it.index
		}
	}
	if v := mo.Get("_id"); v != nil && v.Type() != fastjson.TypeNull {
		if it.id = scalar(v); it.id == "" {
			it.fail(http.StatusBadRequest, typeValidation, "Validation Failed: 1: if _id is specified it must not be empty;", "invalid_metadata")
		}
	}
	if it.index == "" && it.status == 0 {
		it.fail(http.StatusBadRequest, typeValidation, "Validation Failed: 1: index is missing;", "invalid_metadata")
	}
	return it, nil
}

// fastAction reads the action lines shippers send for nearly every
// document, {"create":{}} or {"index":{"_index":"name"}} (create or index,
// at most an _index of printable ASCII without escapes, no spaces), without
// a JSON parser: a tenth of the _bulk path's CPU went to parsing them. ok
// is false for any other line, which action then parses in full, and for
// a line whose item would fail, so that the full parser words the error.
func (p *bulkParser) fastAction(line []byte, defaultIndex string) (it item, ok bool) {
	var rest []byte
	switch {
	case bytes.HasPrefix(line, []byte(`{"create":{`)):
		it.action, rest = "create", line[len(`{"create":{`):]
	case bytes.HasPrefix(line, []byte(`{"index":{`)):
		it.action, rest = "index", line[len(`{"index":{`):]
	default:
		return it, false
	}
	it.index = defaultIndex
	if name, ok := bytes.CutPrefix(rest, []byte(`"_index":"`)); ok {
		end := 0
		for end < len(name) && name[end] >= 0x20 && name[end] < 0x7f && name[end] != '"' && name[end] != '\\' {
			end++
		}
		if end == 0 || end == len(name) || name[end] != '"' {
			return it, false
		}
		if string(name[:end]) != p.index {
			p.index = string(name[:end])
		}
		it.index, rest = p.index, name[end+1:]
	}
	if string(rest) != "}}" || it.index == "" {
		return it, false
	}
	return it, true
}

// actionName returns the action key as a string, without allocating for
// the four actions of the bulk API.
func actionName(key []byte) string {
	switch string(key) {
	case "create":
		return "create"
	case "index":
		return "index"
	case "update":
		return "update"
	case "delete":
		return "delete"
	}
	return string(key)
}

// scalar returns a metadata value as text: a string's content, a number's
// literal; "" for anything else.
func scalar(v *fastjson.Value) string {
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return string(b)
	case fastjson.TypeNumber:
		return string(v.MarshalTo(nil))
	default:
		return ""
	}
}
