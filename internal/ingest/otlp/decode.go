package otlp

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"strings"

	"github.com/valyala/fastjson"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Encoding is the wire encoding of an OTLP/HTTP request, which its answer
// uses too.
type Encoding int

const (
	Protobuf Encoding = iota
	JSON
)

// Content types of the two encodings.
const (
	ContentTypeProtobuf = "application/x-protobuf"
	ContentTypeJSON     = "application/json"
)

func (e Encoding) contentType() string {
	if e == JSON {
		return ContentTypeJSON
	}
	return ContentTypeProtobuf
}

// ErrContentType is returned for a Content-Type that is neither encoding.
var ErrContentType = errors.New("unsupported Content-Type")

// ParseContentType returns the encoding a Content-Type header names.
func ParseContentType(header string) (Encoding, error) {
	mt, _, err := mime.ParseMediaType(header)
	if err != nil {
		return 0, fmt.Errorf("%w %q: %w", ErrContentType, header, err)
	}
	switch mt {
	case ContentTypeProtobuf, "application/protobuf":
		return Protobuf, nil
	case ContentTypeJSON:
		return JSON, nil
	}
	return 0, fmt.Errorf("%w %q; use %s or %s", ErrContentType, mt, ContentTypeProtobuf, ContentTypeJSON)
}

// Decode parses an ExportLogsServiceRequest in enc.
func Decode(enc Encoding, body []byte) (*collogspb.ExportLogsServiceRequest, error) {
	req := &collogspb.ExportLogsServiceRequest{}
	if enc == Protobuf {
		if err := proto.Unmarshal(body, req); err != nil {
			return nil, fmt.Errorf("decode protobuf ExportLogsServiceRequest: %w", err)
		}
		return req, nil
	}
	body, err := hexIDsToBase64(body)
	if err != nil {
		return nil, fmt.Errorf("decode OTLP/JSON ExportLogsServiceRequest: %w", err)
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, req); err != nil {
		return nil, fmt.Errorf("decode OTLP/JSON ExportLogsServiceRequest: %w", err)
	}
	return req, nil
}

// hexIDsToBase64 rewrites the trace and span ids of an OTLP/JSON request
// from hex, as OTLP/JSON writes them, to base64, which is how protojson
// reads bytes fields; the generated types know nothing of the OTLP rule.
func hexIDsToBase64(body []byte) ([]byte, error) {
	var p fastjson.Parser
	v, err := p.ParseBytes(body)
	if err != nil {
		return nil, err
	}
	var a fastjson.Arena
	changed := false
	for _, rl := range array(v, "resourceLogs", "resource_logs") {
		for _, sl := range array(rl, "scopeLogs", "scope_logs") {
			for i, lr := range array(sl, "logRecords", "log_records") {
				o, err := lr.Object()
				if err != nil {
					continue // protojson names the error
				}
				for _, key := range []string{"traceId", "trace_id", "spanId", "span_id"} {
					id := o.Get(key)
					if id == nil || id.Type() != fastjson.TypeString {
						continue
					}
					s, _ := id.StringBytes()
					raw, err := hex.DecodeString(string(s))
					if err != nil {
						return nil, fmt.Errorf("logRecords[%d].%s: want hex: %w", i, key, err)
					}
					o.Set(key, a.NewString(base64.StdEncoding.EncodeToString(raw)))
					changed = true
				}
			}
		}
	}
	if !changed {
		return body, nil
	}
	return v.MarshalTo(nil), nil
}

// array returns the array under either name; protojson accepts the JSON
// name and the proto name of a field alike.
func array(v *fastjson.Value, jsonName, protoName string) []*fastjson.Value {
	if a := v.GetArray(jsonName); a != nil {
		return a
	}
	return v.GetArray(protoName)
}

// isJSONType reports whether a Content-Type names JSON, for error answers
// to requests whose encoding could not be determined otherwise.
func isJSONType(header string) bool {
	return strings.Contains(strings.ToLower(header), "json")
}
