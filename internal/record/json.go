package record

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends r as one JSON object, the shape query results have:
// _time (RFC 3339 with nanoseconds), _stream, _msg, then the stream labels and
// the other fields, all values as strings.
func AppendJSON(dst []byte, r *Record) []byte {
	dst = append(dst, `{"_time":"`...)
	dst = time.Unix(0, r.Time).UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","_stream":`...)
	dst = AppendJSONString(dst, r.StreamString())
	dst = append(dst, `,"_msg":`...)
	dst = AppendJSONString(dst, r.Message)
	if r.Tenant != "" {
		dst = append(dst, `,"`+TenantField+`":`...)
		dst = AppendJSONString(dst, r.Tenant)
	}
	for _, f := range r.Stream {
		dst = append(dst, ',')
		dst = AppendJSONString(dst, f.Name)
		dst = append(dst, ':')
		dst = AppendJSONString(dst, f.Value)
	}
	for _, f := range r.Fields {
		if f.Name == TenantField {
			// A field a receiver let through under the tenant's name
			// must not pose as the tenant: one _tenant key, the real one.
			continue
		}
		dst = append(dst, ',')
		dst = AppendJSONString(dst, f.Name)
		dst = append(dst, ':')
		dst = AppendJSONString(dst, f.Value)
	}
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string literal; invalid UTF-8 becomes
// U+FFFD so that the output is always valid JSON.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += n
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// FormatFloat renders a number the way fields hold numbers.
func FormatFloat(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}
